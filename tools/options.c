/* SPDX-License-Identifier: MIT */
/* options.c - command-line option parsing. */
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "numbers.h"

int usage_error(const char *verb, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	fprintf(stderr, "vpte: %s: ", verb);
	vfprintf(stderr, format, ap);
	fprintf(stderr, "\nTry 'vpte --help'.\n");
	va_end(ap);
	return EXIT_USAGE;
}

static struct opt *find_option(const char *word, size_t len, struct opt *opts, size_t nopts)
{
	for (size_t i = 0; i < nopts; i++)
		if (strlen(opts[i].name) == len && !memcmp(word, opts[i].name, len))
			return &opts[i];
	return NULL;
}

static bool set_option(const struct opt *o, const char *text)
{
	switch (o->kind) {
	case OPT_STRING:
		*(const char **)o->value = text;
		return true;
	case OPT_NUMBER:
		return parse_u64(text, o->value);
	case OPT_FORMAT:
		return (*(const struct vpte_format **)o->value = vpte_format_by_name(text)) != NULL;
	case OPT_FLAG:
		break;
	}
	return false;
}

int parse_options(const char *verb, int argc, char **argv, struct opt *opts, size_t nopts)
{
	int nargs = 0;
	bool options_done = false;
	for (int i = 0; i < argc; i++) {
		char *word = argv[i];
		if (options_done || word[0] != '-' || !strcmp(word, "-")) {
			argv[nargs++] = word;
			continue;
		}
		if (!strcmp(word, "--")) {
			options_done = true;
			continue;
		}
		const char *equals = strchr(word, '=');
		size_t len = equals ? (size_t)(equals - word) : strlen(word);
		struct opt *o = find_option(word, len, opts, nopts);
		if (!o)
			return usage_error(verb, "unknown option '%s'", word), -1;
		if (o->kind == OPT_FLAG) {
			if (equals)
				return usage_error(verb, "%s takes no value", o->name), -1;
			o->seen = true;
			continue;
		}
		const char *value = equals ? equals + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (!value)
			return usage_error(verb, "%s needs a value", o->name), -1;
		if (!set_option(o, value))
			return usage_error(verb, "bad %s '%s'%s", o->name, value,
					   o->kind == OPT_FORMAT ? " (see 'vpte formats')" : ""),
			       -1;
		o->seen = true;
	}
	for (size_t i = 0; i < nopts; i++)
		if (opts[i].required && !opts[i].seen)
			return usage_error(verb, "missing %s", opts[i].name), -1;
	return nargs;
}
