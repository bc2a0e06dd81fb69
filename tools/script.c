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

/* A shift: a number from 0 to 63. */
static bool shift_arg(const struct script_pos *pos, const char *command, const char *what,
		      const char *word, unsigned *shift)
{
	uint64_t value;
	if (!number_arg(pos, command, what, word, &value))
		return false;
	if (value > 63) {
		script_error(pos, "%s: %s %s is not a shift (0..63)", command, what, word);
		return false;
	}
	*shift = (unsigned)value;
	return true;
}

/* The words after PROT: "max=SHIFT" and "insert", in any order. */
static int map_options(const struct script_pos *pos, char **words, size_t count,
		       struct vpte_map_opts *opts)
{
	static const char max_key[] = "max=";
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(words[i], "insert")) {
			opts->flags |= VPTE_MAP_INSERT;
		} else if (!strncmp(words[i], max_key, sizeof(max_key) - 1u)) {
			if (!shift_arg(pos, "map", "max", words[i] + sizeof(max_key) - 1u,
				       &opts->max_shift))
				return -1;
		} else {
			return script_error(pos, "map: unknown option '%s' (want max=SHIFT or insert)",
					    words[i]);
		}
	}
	return 0;
}

static int edit_result(const struct script_pos *pos, const char *command, int err)
{
	return err ? script_error(pos, "%s: %s", command, vpte_strerror(err)) : 0;
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
	return edit_result(pos, "map", vpte_map(t, vpte_va(va), vpte_pa(pa), size, prot, &opts));
}

/*
 * The commands that edit a range, "NAME VA SIZE" and @extra more words:
 * check the word count (else say @usage) and read VA and SIZE.  They pass
 * no gather: an image being built has no TLB and no concurrent walker.
 */
static bool range_args(const struct script_pos *pos, char **words, size_t count, size_t extra,
		       const char *usage, uint64_t *va, uint64_t *size)
{
	if (count != 3 + extra) {
		script_error(pos, "%s: want '%s'", words[0], usage);
		return false;
	}
	return number_arg(pos, words[0], "VA", words[1], va) &&
	       number_arg(pos, words[0], "SIZE", words[2], size);
}

static int command_unmap(struct vpte_table *t, const struct script_pos *pos, char **words,
			 size_t count)
{
	uint64_t va, size;
	if (!range_args(pos, words, count, 0, "unmap VA SIZE", &va, &size))
		return -1;
	return edit_result(pos, "unmap", vpte_unmap(t, vpte_va(va), size, NULL));
}

/* The leaves' attributes become PROT; accessed and dirty stay unless PROT
 * names them (mprotect: the hardware's bookkeeping is not the caller's). */
static int command_protect(struct vpte_table *t, const struct script_pos *pos, char **words,
			   size_t count)
{
	uint64_t va, size;
	struct vpte_prot prot;
	const char *why;
	if (!range_args(pos, words, count, 1, "protect VA SIZE PROT", &va, &size))
		return -1;
	if (!parse_prot(words[3], &prot, &why))
		return script_error(pos, "protect: bad PROT '%s': %s", words[3], why);
	struct vpte_prot clear = { VPTE_PROT_FLAGS & ~(VPTE_A | VPTE_D), VPTE_MT_MASK,
				   t->fmt->raw_mask };
	return edit_result(pos, "protect", vpte_protect(t, vpte_va(va), size, prot, clear, NULL));
}

/* "NAME VA SIZE WHAT": an edit of a range with a shift (split, collapse). */
static int shift_command(struct vpte_table *t, const struct script_pos *pos, char **words,
			 size_t count, const char *usage, const char *what,
			 int (*edit)(struct vpte_table *t, vpte_va_t va, uint64_t size,
				     unsigned shift, struct vpte_gather *gather))
{
	uint64_t va, size;
	unsigned shift;
	if (!range_args(pos, words, count, 1, usage, &va, &size) ||
	    !shift_arg(pos, words[0], what, words[3], &shift))
		return -1;
	return edit_result(pos, words[0], edit(t, vpte_va(va), size, shift, NULL));
}

static int command_split(struct vpte_table *t, const struct script_pos *pos, char **words,
			 size_t count)
{
	return shift_command(t, pos, words, count, "split VA SIZE SHIFT", "SHIFT", vpte_split);
}

static int command_collapse(struct vpte_table *t, const struct script_pos *pos, char **words,
			    size_t count)
{
	return shift_command(t, pos, words, count, "collapse VA SIZE MAXSHIFT", "MAXSHIFT",
			     vpte_collapse);
}

static const struct {
	const char *name;
	int (*run)(struct vpte_table *t, const struct script_pos *pos, char **words,
		   size_t count);
} commands[] = {
	{ "map", command_map },
	{ "unmap", command_unmap },
	{ "protect", command_protect },
	{ "split", command_split },
	{ "collapse", command_collapse },
};

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
		if (!count)
			continue;
		size_t i = 0;
		while (i < sizeof(commands) / sizeof(commands[0]) && strcmp(words[0], commands[i].name))
			i++;
		int err = i < sizeof(commands) / sizeof(commands[0])
				  ? commands[i].run(t, &pos, words, count)
				  : script_error(&pos,
						 "unknown command '%s' (want map, unmap, protect, split or "
						 "collapse)",
						 words[0]);
		if (err)
			return err;
	}
	if (ferror(in))
		return script_error(&pos, "read error");
	return 0;
}
