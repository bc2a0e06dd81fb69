/* SPDX-License-Identifier: MIT */
/* verb_build.c - `vpte build`: run a mapping script into an image file. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "script.h"
#include "verbs.h"
#include "vpte/hosted.h"

/* Runs the script and writes the image; the arena is the caller's to release. */
static int build_image(struct vpte_arena *arena, const struct vpte_format *fmt,
		       const char *script, const char *output)
{
	struct vpte_table table;
	int err = vpte_table_init(&table, fmt, vpte_arena_mem(arena));
	if (err) {
		fprintf(stderr, "vpte: build: top table: %s\n", vpte_strerror(err));
		return EXIT_FAILED;
	}
	bool from_stdin = !strcmp(script, "-");
	FILE *in = from_stdin ? stdin : fopen(script, "r");
	if (!in) {
		fprintf(stderr, "vpte: build: %s: %s\n", script, strerror(errno));
		return EXIT_FAILED;
	}
	err = run_script(&table, in, from_stdin ? "<stdin>" : script);
	if (!from_stdin)
		fclose(in);
	if (err)
		return EXIT_FAILED;
	/* vpte_arena_write() reports C library errors as -errno, not vpte codes. */
	err = vpte_arena_write(arena, output);
	if (err) {
		fprintf(stderr, "vpte: build: %s: %s\n", output, strerror(-err));
		return EXIT_FAILED;
	}
	printf("root 0x%" PRIx64 "\nbase 0x%" PRIx64 "\nsize %" PRIu64 "\n", table.root.addr,
	       arena->base, arena->used);
	return EXIT_OK;
}

int verb_build(int argc, char **argv)
{
	const struct vpte_format *fmt = NULL;
	uint64_t base = 0, limit = DEFAULT_ARENA_LIMIT;
	const char *output = NULL;
	struct opt opts[] = {
		{ "--format", OPT_FORMAT, true, &fmt, false },
		{ "--base", OPT_NUMBER, true, &base, false },
		{ "--limit", OPT_NUMBER, false, &limit, false },
		{ "-o", OPT_STRING, true, &output, false },
	};
	int nargs = parse_options("build", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (nargs < 0)
		return EXIT_USAGE;
	if (nargs != 1)
		return usage_error("build", "want one SCRIPT (or - for stdin)");

	struct vpte_arena arena;
	int err = vpte_arena_init(&arena, vpte_pa(base), limit);
	if (err) {
		fprintf(stderr, "vpte: build: --base 0x%" PRIx64 " --limit %" PRIu64 ": %s\n", base,
			limit, vpte_strerror(err));
		return EXIT_FAILED;
	}
	int status = build_image(&arena, fmt, argv[0], output);
	vpte_arena_release(&arena);
	return status;
}
