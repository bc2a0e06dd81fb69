/* SPDX-License-Identifier: MIT */
/*
 * verb_replay.c - `vpte replay`: read a live process's address space from
 * /proc, rebuild it in each chosen format with vpte_map() (replay_space.h
 * says how), and report what each format needs: table pages and bytes per
 * level, leaves per size, contiguous runs, TLB entries; per mapping too
 * (--json), and as a picture (--svg).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "numbers.h"
#include "options.h"
#include "progress.h"
#include "replay_space.h"
#include "report.h"
#include "svg.h"
#include "verbs.h"

struct replay {
	struct proc_space space;
	struct replay_space *formats;
	size_t nformats;
};

static const char *huge_source(enum huge_source from)
{
	switch (from) {
	case HUGE_FROM_SCAN:
		return "pagemap_scan";
	case HUGE_FROM_KPAGEFLAGS:
		return "kpageflags";
	case HUGE_FROM_SMAPS:
		return "smaps";
	default:
		return "none";
	}
}

static void page_totals(const struct proc_space *s, uint64_t *present, uint64_t *swapped,
			uint64_t *huge)
{
	*present = *swapped = *huge = 0;
	for (size_t i = 0; i < s->nvmas; i++) {
		*present += s->vmas[i].present_bytes;
		*swapped += s->vmas[i].swapped_bytes;
		*huge += s->vmas[i].huge_bytes;
	}
}

static void print_text(const struct replay *r)
{
	const struct proc_space *s = &r->space;
	uint64_t present, swapped, huge;
	page_totals(s, &present, &swapped, &huge);
	printf("process %d (%s): %zu mappings, %s present, %s swapped, %s in huge pages (from %s)\n",
	       (int)s->pid, s->command, s->nvmas, size_text(present).s, size_text(swapped).s,
	       size_text(huge).s, huge_source(s->huge_from));
	if (s->pfns_known)
		printf("page frames: known; leaves as large as physical contiguity allows\n");
	else
		printf("page frames: unknown (needs CAP_SYS_ADMIN, or --presence-only); PA = VA,\n"
		       "contiguous only within a huge page\n");
	printf("\n");
	report_header(stdout);
	for (size_t i = 0; i < r->nformats; i++)
		report_row(stdout, r->formats[i].fmt, &r->formats[i].stats);
	printf("\ntable pages (bytes) per level, top first:\n");
	for (size_t i = 0; i < r->nformats; i++)
		report_levels(stdout, r->formats[i].fmt, &r->formats[i].stats);
	for (size_t i = 0; i < r->nformats; i++)
		if (r->formats[i].compacted)
			printf("%s: VAs compacted to fit its %u-bit space (gaps over 1G shortened)\n",
			       r->formats[i].fmt->name, r->formats[i].fmt->va_bits);
	printf("\n");
	report_legend(stdout);
}

/* One mapping as a JSON object on one line, with what each format built for it. */
static int print_json_mapping(const struct replay *r, size_t i)
{
	const struct proc_vma *v = &r->space.vmas[i];
	printf("{\"start\":\"0x%" PRIx64 "\",\"end\":\"0x%" PRIx64 "\",\"perms\":\"%s\",\"path\":",
	       v->start, v->end, v->perms);
	json_string(stdout, v->path);
	printf(",\"present_bytes\":%" PRIu64 ",\"swapped_bytes\":%" PRIu64
	       ",\"huge_bytes\":%" PRIu64 ",\"smaps_rss_bytes\":%" PRIu64
	       ",\"smaps_huge_bytes\":%" PRIu64 ",\"formats\":{",
	       v->present_bytes, v->swapped_bytes, v->huge_bytes, v->smaps_rss_bytes,
	       v->smaps_huge_bytes);
	for (size_t f = 0; f < r->nformats; f++) {
		const struct replay_space *rs = &r->formats[f];
		struct vpte_stats st = { 0 };
		uint64_t start, size;
		int err = 0;
		replay_space_range(rs, &r->space, i, &start, &size);
		if (!(v->start >> 63)) /* the upper half is never replayed (replay_space.h) */
			err = vpte_stats(&rs->table, vpte_va(start), size, &st);
		if (err) {
			fprintf(stderr, "vpte: replay: %s: stats of 0x%" PRIx64 ": %s\n", rs->fmt->name,
				start, vpte_strerror(err));
			return -1;
		}
		printf("%s\"%s\":{\"start\":\"0x%" PRIx64 "\",\"mapped_bytes\":%" PRIu64
		       ",\"tlb_entries\":%" PRIu64 ",\"leaves\":",
		       f ? "," : "", rs->fmt->name, start, st.mapped_bytes, st.tlb_entries);
		report_json_leaves(stdout, &st);
		printf("}");
	}
	printf("}}");
	return 0;
}

static int print_json(const struct replay *r)
{
	const struct proc_space *s = &r->space;
	printf("{\"source\":{\"kind\":\"process\",\"pid\":%d,\"command\":", (int)s->pid);
	json_string(stdout, s->command);
	printf(",\"page_size\":%" PRIu64 ",\"page_frames\":\"%s\",\"huge_pages_from\":\"%s\"},\n",
	       (uint64_t)1 << s->page_shift, s->pfns_known ? "known" : "unknown",
	       huge_source(s->huge_from));
	printf("\"formats\":[\n");
	for (size_t i = 0; i < r->nformats; i++) {
		printf("{\"name\":\"%s\",\"compacted\":%s,\"stats\":", r->formats[i].fmt->name,
		       r->formats[i].compacted ? "true" : "false");
		report_json(stdout, r->formats[i].fmt, &r->formats[i].stats);
		printf("}%s\n", i + 1 < r->nformats ? "," : "");
	}
	printf("],\n\"mappings\":[\n");
	for (size_t i = 0; i < s->nvmas; i++) {
		if (print_json_mapping(r, i))
			return -1;
		printf("%s\n", i + 1 < s->nvmas ? "," : "");
	}
	printf("]}\n");
	return 0;
}

/* The picture of the first format, and the chart of them all. */
static int write_svg(const struct replay *r, const char *path)
{
	const struct proc_space *s = &r->space;
	const struct replay_space *first = &r->formats[0];
	struct svg_format *chart = calloc(r->nformats, sizeof(*chart));
	struct svg_region *regions = calloc(s->nvmas ? s->nvmas : 1u, sizeof(*regions));
	FILE *out = NULL;
	int status = -1;
	if (!chart || !regions) {
		fprintf(stderr, "vpte: replay: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < r->nformats; i++)
		chart[i] = (struct svg_format){ r->formats[i].fmt->name,
						report_table_bytes(&r->formats[i].stats),
						r->formats[i].stats.tlb_entries };
	size_t n = 0;
	for (size_t i = 0; i < s->nvmas; i++) {
		if (s->vmas[i].start >> 63)
			continue;
		regions[n].label = *s->vmas[i].path ? s->vmas[i].path : "[anonymous]";
		replay_space_range(first, s, i, &regions[n].start, &regions[n].size);
		n++;
	}
	char title[160];
	snprintf(title, sizeof(title), "vpte replay: process %d (%s), leaves as built for %s",
		 (int)s->pid, s->command, first->fmt->name);
	if (!(out = fopen(path, "w"))) {
		perror(path);
		goto done;
	}
	int err = svg_write(out, title, chart, r->nformats, &first->table, regions, n);
	if (err)
		fprintf(stderr, "vpte: replay: %s: %s\n", path, vpte_strerror(err));
	else
		status = 0;
done:
	if (out && fclose(out) && !status) {
		perror(path);
		status = -1;
	}
	free(chart);
	free(regions);
	return status;
}

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
	progress_update(ctx, done, total);
}

/* Builds every chosen format; returns 0 or -1 (after printing why). */
static int build_formats(struct replay *r, const struct vpte_format *only)
{
	size_t count;
	const struct vpte_format *const *all = vpte_formats(&count);
	r->formats = calloc(count, sizeof(*r->formats));
	if (!r->formats) {
		fprintf(stderr, "vpte: replay: out of memory\n");
		return -1;
	}
	struct progress p;
	progress_start(&p, "replay: building tables");
	int status = 0;
	for (size_t i = 0; i < count && !status; i++) {
		if (only && all[i] != only)
			continue;
		status = replay_space_build(&r->formats[r->nformats++], all[i], &r->space);
		progress_update(&p, r->nformats, only ? 1 : count);
	}
	progress_end(&p);
	return status;
}

int verb_replay(int argc, char **argv)
{
	uint64_t pid = (uint64_t)getpid();
	const char *format = "all", *svg = NULL;
	struct opt opts[] = {
		{ "--pid", OPT_NUMBER, false, &pid, false },
		{ "--format", OPT_STRING, false, &format, false },
		{ "--svg", OPT_STRING, false, &svg, false },
		{ "--json", OPT_FLAG, false, NULL, false },
		{ "--presence-only", OPT_FLAG, false, NULL, false },
		{ "--no-scan", OPT_FLAG, false, NULL, false },
	};
	int nargs = parse_options("replay", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (nargs < 0)
		return EXIT_USAGE;
	if (nargs)
		return usage_error("replay", "takes no arguments");
	const struct vpte_format *only = NULL;
	if (strcmp(format, "all") && !(only = vpte_format_by_name(format)))
		return usage_error("replay", "bad --format '%s' (a name from 'vpte formats', or all)",
				   format);
	if (!pid || pid > INT32_MAX)
		return usage_error("replay", "bad --pid %" PRIu64, pid);

	struct replay r = { 0 };
	struct progress p;
	progress_start(&p, "replay: reading pages");
	int failed = proc_space_read(&r.space, (pid_t)pid, opts[4].seen, !opts[5].seen,
				     show_progress, &p);
	progress_end(&p);
	if (failed)
		return EXIT_FAILED;
	failed = build_formats(&r, only);
	if (!failed) {
		if (opts[3].seen)
			failed = print_json(&r);
		else
			print_text(&r);
	}
	if (!failed && svg)
		failed = write_svg(&r, svg);
	for (size_t i = 0; i < r.nformats; i++)
		replay_space_release(&r.formats[i]);
	free(r.formats);
	proc_space_release(&r.space);
	return failed ? EXIT_FAILED : EXIT_OK;
}
