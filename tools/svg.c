/* SPDX-License-Identifier: MIT */
/* svg.c - the address-space picture and the format chart, as SVG. */
#include "svg.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "numbers.h"

#define WIDTH 960
#define ROW 16
#define CHART_BAR_MAX 300
#define LABEL_WIDTH 340
#define BAR_MIN 8
#define BAR_MAX (WIDTH - LABEL_WIDTH - 20)
#define MAX_ROWS 400
#define GAP_SHOWN (1ull << 30) /* a gap this large gets a row saying so */

/* A colour per leaf size: blues for pages and their runs, oranges to reds for
 * blocks of 2 MiB and up, purples for the giant leaves. */
static const struct {
	unsigned shift;
	const char *colour;
} palette[] = {
	{ 12, "#9ecae1" }, { 14, "#6baed6" }, { 16, "#3182bd" }, { 21, "#fdae6b" },
	{ 25, "#fd8d3c" }, { 29, "#e6550d" }, { 30, "#a63603" }, { 34, "#7f2704" },
	{ 39, "#9e9ac8" }, { 48, "#54278f" },
};
#define UNMAPPED "#e8e8e8"

static const char *colour(unsigned shift)
{
	for (size_t i = 0; i < sizeof(palette) / sizeof(palette[0]); i++)
		if (palette[i].shift == shift)
			return palette[i].colour;
	return "#636363";
}

static void text_in(FILE *out, int x, int y, const char *anchor, const char *fill, const char *s)
{
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" fill=\"%s\">", x, y, anchor,
		fill);
	for (; *s; s++) { /* XML escapes; control characters dropped */
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
			fputc(*s, out);
		else if ((unsigned char)*s >= 0x80)
			fputc('?', out); /* bytes of a file name need not be UTF-8 */
	}
	fputs("</text>\n", out);
}

static void text(FILE *out, int x, int y, const char *anchor, const char *s)
{
	text_in(out, x, y, anchor, "black", s);
}

static int bar_width(uint64_t value, uint64_t max)
{
	return max ? (int)((double)value / (double)max * CHART_BAR_MAX + 0.5) : 0;
}

/* The chart; returns the y below it. */
static int chart(FILE *out, int y, const struct svg_format *f, size_t n)
{
	uint64_t max_bytes = 0, max_tlb = 0;
	char s[64];
	for (size_t i = 0; i < n; i++) {
		max_bytes = f[i].table_bytes > max_bytes ? f[i].table_bytes : max_bytes;
		max_tlb = f[i].tlb_entries > max_tlb ? f[i].tlb_entries : max_tlb;
	}
	text(out, 140, y, "start", "table memory");
	text(out, 560, y, "start", "TLB entries");
	y += 6;
	for (size_t i = 0; i < n; i++, y += ROW) {
		text(out, 130, y + 12, "end", f[i].name);
		fprintf(out, "<rect x=\"140\" y=\"%d\" width=\"%d\" height=\"12\" fill=\"#3182bd\"/>\n",
			y + 2, bar_width(f[i].table_bytes, max_bytes));
		text(out, 144 + bar_width(f[i].table_bytes, max_bytes), y + 12, "start",
		     size_text(f[i].table_bytes).s);
		fprintf(out, "<rect x=\"560\" y=\"%d\" width=\"%d\" height=\"12\" fill=\"#e6550d\"/>\n",
			y + 2, bar_width(f[i].tlb_entries, max_tlb));
		snprintf(s, sizeof(s), "%" PRIu64, f[i].tlb_entries);
		text(out, 564 + bar_width(f[i].tlb_entries, max_tlb), y + 12, "start", s);
	}
	return y + ROW;
}

/* A region's bar length: 4 KiB is BAR_MIN + 16, each doubling 16 more. */
static int region_width(uint64_t size)
{
	int log = 0;
	while (log < 63 && (1ull << (log + 1)) <= size)
		log++;
	int w = BAR_MIN + (log - 11) * 16;
	return w < BAR_MIN ? BAR_MIN : w > BAR_MAX ? BAR_MAX : w;
}

/* Bytes of each leaf shift per pixel column of one region's bar. */
struct columns {
	uint64_t (*bytes)[64];
	int width;
	uint64_t per_column;
};

static void add_leaf(struct columns *c, uint64_t off, uint64_t len, unsigned shift)
{
	while (len) {
		uint64_t column = off / c->per_column;
		uint64_t in = c->per_column - off % c->per_column;
		in = in < len ? in : len;
		if (column >= (uint64_t)c->width)
			return;
		c->bytes[column][shift] += in;
		off += in;
		len -= in;
	}
}

/* The colour of column @x: the shift mapping most of its bytes, or unmapped
 * when more of them are unmapped than that. */
static const char *column_colour(const struct columns *c, int x)
{
	unsigned best = 64;
	uint64_t mapped = 0;
	for (unsigned s = 0; s < 64; s++) {
		mapped += c->bytes[x][s];
		if (c->bytes[x][s] && (best == 64 || c->bytes[x][s] > c->bytes[x][best]))
			best = s;
	}
	if (best == 64 || c->per_column - mapped > c->bytes[x][best])
		return UNMAPPED;
	return colour(best);
}

/* One region's row; returns 0 or a walk error. */
static int region_row(FILE *out, int y, const struct vpte_table *t, const struct svg_region *r,
		      struct columns *c)
{
	char label[160];
	const char *name = strrchr(r->label, '/') ? strrchr(r->label, '/') + 1 : r->label;
	snprintf(label, sizeof(label), "0x%012" PRIx64 " %6s %.25s", r->start,
		 size_text(r->size).s, name);
	text(out, 10, y + 11, "start", label);
	c->width = region_width(r->size);
	c->per_column = r->size / (uint64_t)c->width + (r->size % (uint64_t)c->width != 0);
	memset(c->bytes, 0, sizeof(c->bytes[0]) * (size_t)c->width);
	struct vpte_walk w;
	vpte_for_each_leaf(&w, t, vpte_va(r->start), r->size)
	{
		uint64_t a = w.va.addr > r->start ? w.va.addr : r->start;
		uint64_t end = w.va.addr + (1ull << w.shift) - 1u; /* inclusive: may be 2^64 - 1 */
		uint64_t last = end < r->start + r->size - 1u ? end : r->start + r->size - 1u;
		add_leaf(c, a - r->start, last - a + 1u, w.shift);
	}
	if (w.error)
		return w.error;
	for (int x = 0; x < c->width;) {
		const char *fill = column_colour(c, x);
		int x2 = x + 1;
		while (x2 < c->width && column_colour(c, x2) == fill)
			x2++;
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"12\" fill=\"%s\"/>\n",
			LABEL_WIDTH + x, y + 2, x2 - x, fill);
		x = x2;
	}
	return 0;
}

/* Whether @fmt has leaves or runs of 2^@shift bytes. */
static bool format_has_size(const struct vpte_format *fmt, unsigned shift)
{
	for (unsigned l = 0; l < fmt->levels; l++) {
		unsigned s = vpte_level_shift(fmt, l);
		if ((fmt->leaf_levels >> l & 1u) &&
		    (s == shift || (fmt->cont_bits[l] && s + fmt->cont_bits[l] == shift)))
			return true;
	}
	return false;
}

static int legend(FILE *out, int y, const struct vpte_table *t)
{
	int x = 10;
	text(out, x, y + 11, "start", "leaf size:");
	x += 80;
	for (size_t i = 0; i < sizeof(palette) / sizeof(palette[0]); i++) {
		if (!format_has_size(t->fmt, palette[i].shift))
			continue;
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x,
			y + 2, palette[i].colour);
		text(out, x + 16, y + 12, "start", size_text(1ull << palette[i].shift).s);
		x += 64;
	}
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x, y + 2,
		UNMAPPED);
	text(out, x + 16, y + 12, "start", "unmapped");
	return y + ROW + 4;
}

int svg_write(FILE *out, const char *title, const struct svg_format *formats, size_t nformats,
	      const struct vpte_table *table, const struct svg_region *regions, size_t nregions)
{
	size_t rows = nregions < MAX_ROWS ? nregions : MAX_ROWS;
	size_t gaps = 0;
	for (size_t i = 1; i < rows; i++)
		gaps += regions[i].start - (regions[i - 1].start + regions[i - 1].size) >= GAP_SHOWN;
	int height = 40 + (nformats ? (int)(nformats + 2) * ROW : 0) +
		     (table ? (int)(rows + gaps + 5) * ROW : 0);
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"11\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		WIDTH, height, WIDTH, height);
	text(out, 10, 20, "start", title);
	int y = 40, err = 0;
	if (nformats)
		y = chart(out, y, formats, nformats);
	if (table) {
		struct columns c = { .bytes = calloc(BAR_MAX, sizeof(*c.bytes)) };
		if (!c.bytes)
			return -VPTE_ENOMEM;
		text(out, 10, y + 11, "start", "address space (bar length: log of the size):");
		y = legend(out, y + ROW, table);
		for (size_t i = 0; i < rows && !err; i++, y += ROW) {
			uint64_t gap = i ? regions[i].start - (regions[i - 1].start +
							       regions[i - 1].size) : 0;
			if (gap >= GAP_SHOWN) { /* the sparse space between clusters */
				char s[64];
				unsigned unit = 0; /* a rounded size: 41T, not 44506857832K */
				while (unit < 5 && gap >> (10 * (unit + 1)) >= 1)
					unit++;
				static const char *const units[] = { "", "K", "M", "G", "T", "P" };
				snprintf(s, sizeof(s), "    ... %.4g%s unmapped ...",
					 (double)gap / (double)(1ull << (10 * unit)), units[unit]);
				text_in(out, 10, y + 10, "start", "#808080", s);
				y += ROW;
			}
			err = region_row(out, y, table, &regions[i], &c);
		}
		if (!err && rows < nregions) {
			char more[64];
			snprintf(more, sizeof(more), "... and %zu more", nregions - rows);
			text(out, 10, y + 11, "start", more);
		}
		free(c.bytes);
	}
	fputs("</svg>\n", out);
	return err;
}
