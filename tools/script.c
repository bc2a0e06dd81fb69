/* SPDX-License-Identifier: MIT */
/* script.c - the mapping-script interpreter. */
#include "script.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "lines.h"
#include "numbers.h"
#include "options.h"
#include "prot.h"

/* Where a message points: the script's name and the current line. */
struct script_pos {
	const char *name;
	unsigned long line;
};

static int script_error(const struct script_pos *pos, const char *format, ...) TOOL_PRINTF(2, 3);

static int script_error(const struct script_pos *pos, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	fprintf(stderr, "%s:%lu: ", pos->name, pos->line);
	vfprintf(stderr, format, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

static bool number_arg(const struct script_pos *pos, const char *command, const char *what,
		       const char *word, uint64_t *value)
{
	if (parse_u64(word, value))
		return true;
	script_error(pos, "%s: bad %s '%s' (want 0x hex, decimal, or decimal with K/M/G/T)",
		     command, what, word);
	return false;
}

/* The words after PROT: "max=SHIFT" and "insert", in any order. */
static int map_options(const struct script_pos *pos, char **words, size_t count,
		       struct vpte_map_opts *opts)
{
	static const char max_key[] = "max=";
	for (size_t i = 0; i < count; i++) {
		uint64_t shift;
		if (!strcmp(words[i], "insert")) {
			opts->flags |= VPTE_MAP_INSERT;
		} else if (!strncmp(words[i], max_key, sizeof(max_key) - 1u)) {
			if (!number_arg(pos, "map", "max", words[i] + sizeof(max_key) - 1u, &shift))
				return -1;
			if (shift > 63)
				return script_error(pos, "map: max=%s is not a shift (0..63)",
						    words[i] + sizeof(max_key) - 1u);
			opts->max_shift = (unsigned)shift;
		} else {
			return script_error(pos, "map: unknown option '%s' (want max=SHIFT or insert)",
					    words[i]);
		}
	}
	return 0;
}

static int command_map(struct vpte_table *t, const struct script_pos *pos, char **words,
		       size_t count)
{
	uint64_t va, pa, size;
	struct vpte_prot prot;
	struct vpte_map_opts opts = { 0, 0 };
	const char *why;

	if (count < 5 || count > 7)
		return script_error(pos, "map: want 'map VA PA SIZE PROT [max=SHIFT] [insert]'");
	if (!number_arg(pos, "map", "VA", words[1], &va) ||
	    !number_arg(pos, "map", "PA", words[2], &pa) ||
	    !number_arg(pos, "map", "SIZE", words[3], &size))
		return -1;
	if (!parse_prot(words[4], &prot, &why))
		return script_error(pos, "map: bad PROT '%s': %s", words[4], why);
	if (map_options(pos, words + 5, count - 5, &opts))
		return -1;
	int err = vpte_map(t, vpte_va(va), vpte_pa(pa), size, prot, &opts);
	return err ? script_error(pos, "map: %s", vpte_strerror(err)) : 0;
}

static int command_unmap(struct vpte_table *t, const struct script_pos *pos, char **words,
			 size_t count)
{
	uint64_t va, size;

	if (count != 3)
		return script_error(pos, "unmap: want 'unmap VA SIZE'");
	if (!number_arg(pos, "unmap", "VA", words[1], &va) ||
	    !number_arg(pos, "unmap", "SIZE", words[2], &size))
		return -1;
	/* No gather: an image being built has no TLB and no concurrent walker. */
	int err = vpte_unmap(t, vpte_va(va), size, NULL);
	return err ? script_error(pos, "unmap: %s", vpte_strerror(err)) : 0;
}

int run_script(struct vpte_table *t, FILE *in, const char *name)
{
	char line[LINE_BYTES + 2];
	struct script_pos pos = { name, 0 };
	enum line_status status;

	while ((status = read_line(in, line)) != LINE_EOF) {
		char *words[8];
		pos.line++;
		if (status == LINE_TOO_LONG)
			return script_error(&pos, "line longer than %d bytes", LINE_BYTES);
		size_t count = split_words(line, words, sizeof(words) / sizeof(words[0]));
		int err;
		if (!count)
			continue;
		if (!strcmp(words[0], "map"))
			err = command_map(t, &pos, words, count);
		else if (!strcmp(words[0], "unmap"))
			err = command_unmap(t, &pos, words, count);
		else
			err = script_error(&pos, "unknown command '%s' (want map or unmap)", words[0]);
		if (err)
			return err;
	}
	if (ferror(in))
		return script_error(&pos, "read error");
	return 0;
}
