/* SPDX-License-Identifier: MIT */
/* report.c - per-format statistics as text and JSON. */
#include "report.h"

#include <inttypes.h>

#include "numbers.h"

uint64_t report_table_pages(const struct vpte_stats *st)
{
	uint64_t pages = 0;
	for (unsigned l = 0; l < VPTE_MAX_LEVELS; l++)
		pages += st->table_pages[l];
	return pages;
}

uint64_t report_table_bytes(const struct vpte_stats *st)
{
	uint64_t bytes = 0;
	for (unsigned l = 0; l < VPTE_MAX_LEVELS; l++)
		bytes += st->table_bytes[l];
	return bytes;
}

uint64_t report_runs(const struct vpte_stats *st)
{
	uint64_t runs = 0;
	for (unsigned s = 0; s < 64; s++)
		runs += st->runs[s];
	return runs;
}

void report_header(FILE *out)
{
	fprintf(out, "%-13s %6s %8s %8s %6s %6s  %s\n", "format", "tables", "bytes", "mapped",
		"runs", "TLB", "leaves (size:count)");
}

void report_row(FILE *out, const struct vpte_format *fmt, const struct vpte_stats *st)
{
	fprintf(out, "%-13s %6" PRIu64 " %8s %8s %6" PRIu64 " %6" PRIu64 " ", fmt->name,
		report_table_pages(st), size_text(report_table_bytes(st)).s,
		size_text(st->mapped_bytes).s, report_runs(st), st->tlb_entries);
	for (unsigned s = 0; s < 64; s++)
		if (st->leaves[s])
			fprintf(out, " %s:%" PRIu64, size_text(1ull << s).s, st->leaves[s]);
	fprintf(out, "\n");
}

void report_levels(FILE *out, const struct vpte_format *fmt, const struct vpte_stats *st)
{
	fprintf(out, "%-13s", fmt->name);
	for (unsigned l = fmt->levels; l-- > 0;)
		fprintf(out, "  L%u %" PRIu64 " (%s)", l, st->table_pages[l],
			size_text(st->table_bytes[l]).s);
	fprintf(out, "\n");
}

void report_legend(FILE *out)
{
	fprintf(out,
		"leaves: mappings of each size; a contiguous run (arm64 contiguous bit, RISC-V\n"
		"Svnapot) counts once, at its run size, and is also counted in runs.\n"
		"TLB: entries needed to cover everything mapped, the sum of leaves.\n");
}

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* {"SIZE": count, ...} for the sizes with a count. */
static void json_sizes(FILE *out, const uint64_t counts[64])
{
	const char *sep = "";
	fputc('{', out);
	for (unsigned s = 0; s < 64; s++)
		if (counts[s]) {
			fprintf(out, "%s\"%" PRIu64 "\":%" PRIu64, sep, (uint64_t)1 << s, counts[s]);
			sep = ",";
		}
	fputc('}', out);
}

static void json_levels(FILE *out, const struct vpte_format *fmt, const uint64_t v[])
{
	fputc('[', out);
	for (unsigned l = 0; l < fmt->levels; l++)
		fprintf(out, "%s%" PRIu64, l ? "," : "", v[l]);
	fputc(']', out);
}

void report_json_leaves(FILE *out, const struct vpte_stats *st)
{
	json_sizes(out, st->leaves);
}

void report_json(FILE *out, const struct vpte_format *fmt, const struct vpte_stats *st)
{
	fprintf(out, "{\"table_pages\":");
	json_levels(out, fmt, st->table_pages);
	fprintf(out, ",\"table_bytes\":");
	json_levels(out, fmt, st->table_bytes);
	fprintf(out, ",\"table_bytes_total\":%" PRIu64 ",\"leaves\":", report_table_bytes(st));
	json_sizes(out, st->leaves);
	fprintf(out, ",\"runs\":");
	json_sizes(out, st->runs);
	fprintf(out, ",\"tlb_entries\":%" PRIu64 ",\"mapped_bytes\":%" PRIu64 "}", st->tlb_entries,
		st->mapped_bytes);
}
