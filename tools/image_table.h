/* SPDX-License-Identifier: MIT */
/*
 * image_table.h - a table read from an image file: what translate and dump
 * share, from their common options to the read-only attach.
 */
#ifndef VPTE_TOOL_IMAGE_TABLE_H
#define VPTE_TOOL_IMAGE_TABLE_H

#include <stdint.h>

#include "options.h"
#include "vpte/hosted.h"
#include "vpte/vpte.h"

/* The most entries (leaves, holes and table entries) a verb visits in an
 * image unless told (--max-entries): well under a second's walk, and a
 * bound on a hostile image's tables of tables. */
#define IMAGE_MAX_ENTRIES (1ull << 26)

struct image_args {
	const struct vpte_format *fmt;
	const char *path;
	uint64_t base;
	uint64_t root;
};

/* The options that fill struct image_args, for a verb's struct opt array. */
#define IMAGE_OPTIONS(a)                                                                    \
	{ "--format", OPT_FORMAT, true, &(a)->fmt, false },                                 \
	{ "--image", OPT_STRING, true, &(a)->path, false },                                 \
	{ "--base", OPT_NUMBER, true, &(a)->base, false },                                  \
	{ "--root", OPT_NUMBER, true, &(a)->root, false }

struct image_table {
	struct vpte_image image;
	struct vpte_table table;
};

/*
 * image_table_open - load the image and attach its root read-only.
 * Returns 0, or -1 after printing why (naming @verb).
 */
int image_table_open(struct image_table *it, const struct image_args *args, const char *verb);

void image_table_close(struct image_table *it);

#endif
