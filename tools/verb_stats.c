/* SPDX-License-Identifier: MIT */
/*
 * verb_stats.c - `vpte stats`: what an image's table holds, reported as
 * `vpte replay` reports a format (vpte_stats_table), with its mapped
 * ranges for --json and --svg.  The image may be hostile: one walk bounded
 * by --max-entries comes first, so the count after it is bounded too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "grow.h"
#include "image_table.h"
#include "report.h"
#include "svg.h"
#include "verbs.h"

/* The image's mapped ranges: leaves that follow each other in VA, merged;
 * the first MAX_RANGES are kept, the others only counted. */
#define MAX_RANGES 100000u
struct ranges {
	struct svg_region *r;
	size_t count, cap, dropped;
};

static int add_range(struct ranges *rs, uint64_t va, uint64_t size)
{
	struct svg_region *last = rs->count ? &rs->r[rs->count - 1] : NULL;
	if (last && last->start + last->size == va) {
		last->size += size;
		return 0;
	}
	if (rs->count == MAX_RANGES) {
		rs->dropped++;
		return 0;
	}
	struct svg_region *grown = grow_array(rs->r, &rs->cap, rs->count, sizeof(*grown));
	if (!grown)
		return -1;
	rs->r = grown;
	rs->r[rs->count++] = (struct svg_region){ va, size, "mapped" };
	return 0;
}

static int range_leaf(void *ctx, const struct vpte_walk *w)
{
	if (add_range(ctx, w->va.addr, 1ull << w->shift)) {
		fprintf(stderr, "vpte: stats: out of memory\n");
		return -1;
	}
	return 0;
}

static void print_json(const struct image_table *it, const char *path,
		       const struct vpte_stats *st, const struct ranges *rs)
{
	printf("{\"source\":{\"kind\":\"image\",\"path\":");
	json_string(stdout, path);
	printf(",\"root\":\"0x%" PRIx64 "\"},\n\"formats\":[\n{\"name\":\"%s\",\"stats\":",
	       it->table.root.addr, it->table.fmt->name);
	report_json(stdout, it->table.fmt, st);
	printf("}\n],\n\"ranges\":[\n");
	for (size_t i = 0; i < rs->count; i++)
		printf("{\"start\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 "}%s\n", rs->r[i].start,
		       rs->r[i].size, i + 1 < rs->count ? "," : "");
	printf("],\n\"ranges_dropped\":%zu}\n", rs->dropped);
}

static int write_svg(const struct image_table *it, const char *image, const char *path,
		     const struct vpte_stats *st, const struct ranges *rs)
{
	FILE *out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	struct svg_format chart = { it->table.fmt->name, report_table_bytes(st), st->tlb_entries };
	char title[160];
	snprintf(title, sizeof(title), "vpte stats: %.100s (%s)", image, it->table.fmt->name);
	int err = svg_write(out, title, &chart, 1, &it->table, rs->r, rs->count);
	if (err)
		fprintf(stderr, "vpte: stats: %s: %s\n", path, vpte_strerror(err));
	if (fclose(out) && !err) {
		perror(path);
		return -1;
	}
	return err ? -1 : 0;
}

int verb_stats(int argc, char **argv)
{
	struct image_args args = IMAGE_ARGS_INIT;
	uint64_t max_entries = IMAGE_MAX_ENTRIES;
	const char *svg = NULL;
	struct opt opts[] = {
		IMAGE_OPTIONS(&args),
		{ "--max-entries", OPT_NUMBER, false, &max_entries, false },
		{ "--svg", OPT_STRING, false, &svg, false },
		{ "--json", OPT_FLAG, false, NULL, false },
	};
	int nargs = parse_options("stats", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (nargs < 0)
		return EXIT_USAGE;
	if (nargs)
		return usage_error("stats", "takes no arguments");

	struct image_table it;
	int opened = image_table_open(&it, &args, "stats");
	if (opened)
		return opened == -2 ? EXIT_USAGE : EXIT_FAILED;
	struct ranges rs = { 0 };
	struct vpte_stats st;
	int status = EXIT_FAILED, err;
	if (image_walk(&it.table, max_entries, "stats", range_leaf, &rs))
		goto done;
	if ((err = vpte_stats_table(&it.table, &st))) {
		fprintf(stderr, "vpte: stats: %s\n", vpte_strerror(err));
		goto done;
	}
	if (opts[6].seen) {
		print_json(&it, args.path, &st, &rs);
	} else {
		printf("%s: %s table at root 0x%" PRIx64 ", %zu mapped ranges\n\n", args.path,
		       it.table.fmt->name, it.table.root.addr, rs.count + rs.dropped);
		report_header(stdout);
		report_row(stdout, it.table.fmt, &st);
		printf("\ntable pages (bytes) per level, top first:\n");
		report_levels(stdout, it.table.fmt, &st);
		printf("\n");
		report_legend(stdout);
	}
	status = svg && write_svg(&it, args.path, svg, &st, &rs) ? EXIT_FAILED : EXIT_OK;
done:
	free(rs.r);
	image_table_close(&it);
	return status;
}
