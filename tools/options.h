/* SPDX-License-Identifier: MIT */
/*
 * options.h - a verb's command line: its options, usage errors and the
 * tool's exit codes.  An option is "--name VALUE" or "--name=VALUE"
 * ("-o VALUE" for short ones); "-" alone is an argument, "--" ends the
 * options.
 */
#ifndef VPTE_TOOL_OPTIONS_H
#define VPTE_TOOL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpte/vpte.h"

/* Exit codes of the tool. */
enum tool_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,    /* a script, image or file error */
	EXIT_USAGE = 2,     /* bad command line */
	EXIT_TRUNCATED = 3, /* dump stopped at --max-ranges or --max-entries */
};

enum opt_kind {
	OPT_STRING, /* value: const char ** */
	OPT_NUMBER, /* value: uint64_t *, numbers.h syntax */
	OPT_FORMAT, /* value: const struct vpte_format **, a format name */
	OPT_FLAG,   /* no value: only .seen is set */
};

struct opt {
	const char *name; /* "--format", "-o" */
	enum opt_kind kind;
	bool required;
	void *value;
	bool seen; /* set by parse_options() */
};

/*
 * parse_options - set the options in @opts from @argv[0..@argc) (the words
 * after the verb) and move the other arguments to the front of @argv.
 * Returns how many arguments there are, or -1 after printing a usage error
 * naming @verb.
 */
int parse_options(const char *verb, int argc, char **argv, struct opt *opts, size_t nopts);

#if defined(__GNUC__)
#define TOOL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TOOL_PRINTF(f, a)
#endif

/* usage_error - print "vpte: VERB: MESSAGE" and a pointer to --help; returns EXIT_USAGE. */
int usage_error(const char *verb, const char *format, ...) TOOL_PRINTF(2, 3);

#endif
