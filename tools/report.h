/* SPDX-License-Identifier: MIT */
/*
 * report.h - what a table costs, as `vpte demo`, `vpte replay` and
 * `vpte stats` print it: one row per format (table pages and bytes, bytes
 * mapped, contiguous runs, TLB entries, leaves per size), table pages per
 * level, and the same as JSON.
 */
#ifndef VPTE_TOOL_REPORT_H
#define VPTE_TOOL_REPORT_H

#include <stdio.h>

#include "vpte/vpte.h"

/* report_header - the column names for report_row(). */
void report_header(FILE *out);

/* report_row - one format's row: tables, bytes, mapped, runs, TLB, leaves. */
void report_row(FILE *out, const struct vpte_format *fmt, const struct vpte_stats *st);

/* report_levels - one format's table pages and bytes per level, top first. */
void report_levels(FILE *out, const struct vpte_format *fmt, const struct vpte_stats *st);

/* report_legend - what the columns of report_row() mean. */
void report_legend(FILE *out);

/* Totals over the levels and sizes of @st. */
uint64_t report_table_pages(const struct vpte_stats *st);
uint64_t report_table_bytes(const struct vpte_stats *st);
uint64_t report_runs(const struct vpte_stats *st);

/* json_string - @s as a JSON string, quotes included. */
void json_string(FILE *out, const char *s);

/*
 * report_json - @st as a JSON object: "table_pages" and "table_bytes" per
 * level (index = level), "leaves" and "runs" as {"SIZE-IN-BYTES": count},
 * "tlb_entries", "mapped_bytes".
 */
void report_json(FILE *out, const struct vpte_format *fmt, const struct vpte_stats *st);

/* report_json_leaves - only the "leaves" member's object. */
void report_json_leaves(FILE *out, const struct vpte_stats *st);

#endif
