/* SPDX-License-Identifier: MIT */
/* verb_translate.c - `vpte translate`: look addresses up in an image. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image_table.h"
#include "lines.h"
#include "numbers.h"
#include "prot.h"
#include "verbs.h"

/* Prints one VA's translation; @where names the VA's origin in messages. Returns 0 or -1. */
static int translate_one(const struct vpte_table *t, const char *text, const char *where)
{
	uint64_t va;
	if (!parse_u64(text, &va)) {
		fprintf(stderr, "vpte: translate: %sbad VA '%s'\n", where, text);
		return -1;
	}
	struct vpte_walk w;
	int err = vpte_seek(&w, t, vpte_va(va));
	if (err) {
		fprintf(stderr, "vpte: translate: %s0x%" PRIx64 ": %s\n", where, va,
			vpte_strerror(err));
		return -1;
	}
	if (w.kind != VPTE_LEAF)
		printf("0x%" PRIx64 " -> none\n", va);
	else
		printf("0x%" PRIx64 " -> 0x%" PRIx64 " shift=%u %s\n", va,
		       w.pa.addr + (va - w.va.addr), w.shift, prot_text(w.prot).s);
	return 0;
}

/* One VA a line; blank lines and '#' comments are skipped. */
static int translate_stdin(const struct vpte_table *t)
{
	char line[LINE_BYTES + 2];
	char where[48];
	unsigned long number = 0;
	int failed = 0;
	enum line_status status;

	while ((status = read_line(stdin, line)) != LINE_EOF) {
		char *words[2];
		snprintf(where, sizeof(where), "<stdin>:%lu: ", ++number);
		size_t count = split_words(line, words, 2);
		if (status == LINE_TOO_LONG || count > 1) {
			fprintf(stderr, "vpte: translate: %swant one VA a line\n", where);
			failed = -1;
		} else if (count == 1 && translate_one(t, words[0], where)) {
			failed = -1;
		}
	}
	return failed;
}

int verb_translate(int argc, char **argv)
{
	struct image_args args = IMAGE_ARGS_INIT;
	struct opt opts[] = { IMAGE_OPTIONS(&args) };
	int nargs = parse_options("translate", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (nargs < 0)
		return EXIT_USAGE;
	if (!nargs)
		return usage_error("translate", "want VAs, or - to read them from stdin");

	struct image_table it;
	int opened = image_table_open(&it, &args, "translate");
	if (opened)
		return opened == -2 ? EXIT_USAGE : EXIT_FAILED;
	int failed = 0;
	for (int i = 0; i < nargs; i++) {
		/* Keep going: one bad address should not hide the others' answers. */
		if (!strcmp(argv[i], "-") ? translate_stdin(&it.table)
					  : translate_one(&it.table, argv[i], ""))
			failed = -1;
	}
	image_table_close(&it);
	return failed ? EXIT_FAILED : EXIT_OK;
}
