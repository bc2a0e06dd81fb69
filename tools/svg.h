/* SPDX-License-Identifier: MIT */
/*
 * svg.h - `--svg FILE`: a hand-written SVG picture of an address space and
 * a chart comparing formats.
 *
 * The chart has one row per format with two bars: table memory and TLB
 * entries, each scaled to the largest.  The picture has one row per region
 * (a process's mapping, an image's mapped range): a bar whose length grows
 * with the logarithm of the region's size, so that 4 KiB and 100 GiB
 * regions of a sparse 47-bit space are both readable, and along which the
 * leaves are coloured by their size (each pixel column takes the colour of
 * the size that maps most of its bytes; grey is unmapped).
 */
#ifndef VPTE_TOOL_SVG_H
#define VPTE_TOOL_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vpte/vpte.h"

struct svg_format {
	const char *name;
	uint64_t table_bytes, tlb_entries;
};

struct svg_region {
	uint64_t start, size; /* in the table's VA space */
	const char *label;
};

/*
 * svg_write - write the whole document to @out.
 * @title:    a line of text at the top.
 * @formats:  the chart's rows (@nformats of them; none: no chart).
 * @table:    the table the picture shows (NULL: no picture), with @regions.
 *
 * Returns 0, or a vpte error code from walking @table (the document is
 * then incomplete).
 */
int svg_write(FILE *out, const char *title, const struct svg_format *formats, size_t nformats,
	      const struct vpte_table *table, const struct svg_region *regions, size_t nregions);

#endif
