/* SPDX-License-Identifier: MIT */
/*
 * verb_convert.c - `vpte convert`: re-encode an image's address space in
 * another format, as a new image (vpte_copy from the image's table into an
 * arena).  The input may be hostile, so one bounded walk checks it first:
 * every mapping must fit the new format's address space, the walk visits
 * at most --max-entries entries, and the tables the copy needs at the
 * least must fit --limit, so the copy's own walks are bounded too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image_table.h"
#include "verbs.h"

/* Does one of @to's translatable ranges hold [va, last]? */
static bool in_space(const struct vpte_format *to, uint64_t va, uint64_t last)
{
	vpte_va_t start[2];
	uint64_t size[2];
	unsigned ranges = vpte_va_space(to, start, size);
	for (unsigned i = 0; i < ranges; i++)
		if (va >= start[i].addr && last - start[i].addr <= size[i] - 1)
			return true;
	return false;
}

/* The fewest table bytes a leaf of 2^shift needs in @to: an 8-byte entry
 * for each of @to's largest leaves that fit in it. */
static uint64_t least_bytes(const struct vpte_format *to, unsigned shift)
{
	unsigned fit = to->granule_shift;
	for (unsigned l = 0; l < to->levels; l++)
		if ((to->leaf_levels & (1u << l)) && vpte_level_shift(to, l) <= shift)
			fit = vpte_level_shift(to, l);
	return shift > fit ? 8ull << (shift - fit) : 8;
}

struct source_check {
	const struct vpte_format *to;
	uint64_t limit, bytes;
};

/* One leaf of the source: inside @to's space, and the tables so far within --limit. */
static int check_leaf(void *ctx, const struct vpte_walk *w)
{
	struct source_check *c = ctx;
	if (!in_space(c->to, w->va.addr, w->va.addr + ((1ull << w->shift) - 1))) {
		fprintf(stderr, "vpte: convert: the leaf at VA 0x%" PRIx64
				" (shift %u) is outside %s's address space\n",
			w->va.addr, w->shift, c->to->name);
		return -1;
	}
	c->bytes += least_bytes(c->to, w->shift);
	if (c->bytes > c->limit) {
		fprintf(stderr, "vpte: convert: %s needs more than --limit %" PRIu64
				" bytes of tables\n",
			c->to->name, c->limit);
		return -1;
	}
	return 0;
}

/* The bounded check of the source; returns 0, or -1 after saying why. */
static int check_source(const struct vpte_table *src, const struct vpte_format *to, uint64_t limit,
			uint64_t max_entries)
{
	struct source_check c = { to, limit, 0 };
	return image_walk(src, max_entries, "convert", check_leaf, &c) ? -1 : 0;
}

/* What a copy refuses once the VA space is known to fit. */
static const char *copy_hint(int err)
{
	switch (err) {
	case -VPTE_EINVAL:
		return "; a leaf smaller than the new format's pages, or attributes it lacks";
	case -VPTE_ERANGE:
		return "; a PA beyond the new format's width";
	default:
		return "";
	}
}

/* Copies each part of the source's space that @dst's format shares. */
static int copy_space(struct vpte_table *dst, struct vpte_table *src)
{
	vpte_va_t start[2], dstart[2];
	uint64_t size[2], dsize[2];
	unsigned halves = vpte_va_space(src->fmt, start, size);
	unsigned dhalves = vpte_va_space(dst->fmt, dstart, dsize);
	for (unsigned h = 0; h < halves; h++)
		for (unsigned d = 0; d < dhalves; d++) {
			uint64_t lo = start[h].addr > dstart[d].addr ? start[h].addr : dstart[d].addr;
			uint64_t last = start[h].addr + (size[h] - 1), dlast = dstart[d].addr + (dsize[d] - 1);
			last = last < dlast ? last : dlast;
			if (lo > last)
				continue;
			int err = vpte_copy(dst, src, vpte_va(lo), last - lo + 1, NULL);
			if (err) {
				fprintf(stderr, "vpte: convert: [0x%" PRIx64 ", 0x%" PRIx64 "]: %s%s\n", lo,
					last, vpte_strerror(err), copy_hint(err));
				return -1;
			}
		}
	return 0;
}

static int convert(struct vpte_table *src, const struct vpte_format *to, uint64_t out_base,
		   uint64_t limit, const char *output)
{
	struct vpte_arena arena;
	struct vpte_table dst;
	int err = vpte_arena_init(&arena, vpte_pa(out_base), limit);
	if (err) {
		fprintf(stderr, "vpte: convert: --out-base 0x%" PRIx64 " --limit %" PRIu64 ": %s\n",
			out_base, limit, vpte_strerror(err));
		return EXIT_FAILED;
	}
	int status = EXIT_FAILED;
	if ((err = vpte_table_init(&dst, to, vpte_arena_mem(&arena)))) {
		fprintf(stderr, "vpte: convert: top table: %s\n", vpte_strerror(err));
	} else if (!copy_space(&dst, src)) {
		/* vpte_arena_write() reports C library errors as -errno, not vpte codes. */
		if ((err = vpte_arena_write(&arena, output))) {
			fprintf(stderr, "vpte: convert: %s: %s\n", output, strerror(-err));
		} else {
			printf("root 0x%" PRIx64 "\nbase 0x%" PRIx64 "\nsize %" PRIu64 "\n",
			       dst.root.addr, arena.base, arena.used);
			status = EXIT_OK;
		}
	}
	vpte_arena_release(&arena);
	return status;
}

int verb_convert(int argc, char **argv)
{
	struct image_args args = IMAGE_ARGS_INIT;
	const struct vpte_format *to = NULL;
	const char *output = NULL;
	uint64_t out_base = 0, limit = DEFAULT_ARENA_LIMIT, max_entries = IMAGE_MAX_ENTRIES;
	struct opt opts[] = {
		{ "--from", OPT_FORMAT, true, &args.fmt, false },
		{ "--to", OPT_FORMAT, true, &to, false },
		{ "--image", OPT_STRING, true, &args.path, false },
		{ "--base", OPT_NUMBER, false, &args.base, false },
		{ "--root", OPT_NUMBER, false, &args.root, false },
		{ "-o", OPT_STRING, true, &output, false },
		{ "--out-base", OPT_NUMBER, false, &out_base, false },
		{ "--limit", OPT_NUMBER, false, &limit, false },
		{ "--max-entries", OPT_NUMBER, false, &max_entries, false },
	};
	int nargs = parse_options("convert", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (nargs < 0)
		return EXIT_USAGE;
	if (nargs)
		return usage_error("convert", "takes no arguments");
	struct image_table it;
	int opened = image_table_open(&it, &args, "convert");
	if (opened)
		return opened == -2 ? EXIT_USAGE : EXIT_FAILED;
	if (!opts[6].seen) { /* --out-base: the input's base by default */
		if (it.is_elf) {
			image_table_close(&it);
			return usage_error("convert", "missing --out-base (an ELF dump has no --base)");
		}
		out_base = args.base;
	}
	int status = EXIT_FAILED;
	if (!check_source(&it.table, to, limit, max_entries))
		status = convert(&it.table, to, out_base, limit, output);
	image_table_close(&it);
	return status;
}
