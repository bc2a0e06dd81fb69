/* SPDX-License-Identifier: MIT */
/*
 * image_table.h - a table read from an image file: what translate and dump
 * share, from their common options to the read-only attach.  The file is
 * either raw physical memory from --base upward, or a QEMU
 * dump-guest-memory ELF core file, which places its memory itself and may
 * carry the root (x86 CR3) too.
 */
#ifndef VPTE_TOOL_IMAGE_TABLE_H
#define VPTE_TOOL_IMAGE_TABLE_H

#include <stdint.h>

#include "elf_dump.h"
#include "options.h"
#include "vpte/hosted.h"
#include "vpte/vpte.h"

/* The most entries (leaves, holes and table entries) a verb visits in an
 * image unless told (--max-entries): well under a second's walk, and a
 * bound on a hostile image's tables of tables. */
#define IMAGE_MAX_ENTRIES (1ull << 26)

/* An address option not given: no granule-aligned root or usable base is this. */
#define IMAGE_UNSET UINT64_MAX

struct image_args {
	const struct vpte_format *fmt;
	const char *path;
	uint64_t base; /* IMAGE_UNSET unless --base was given */
	uint64_t root; /* IMAGE_UNSET unless --root was given */
};

#define IMAGE_ARGS_INIT { NULL, NULL, IMAGE_UNSET, IMAGE_UNSET }

/* The options that fill struct image_args, for a verb's struct opt array:
 * --base and --root are checked by image_table_open(), which knows whether
 * the file needs them. */
#define IMAGE_OPTIONS(a)                                                                    \
	{ "--format", OPT_FORMAT, true, &(a)->fmt, false },                                 \
	{ "--image", OPT_STRING, true, &(a)->path, false },                                 \
	{ "--base", OPT_NUMBER, false, &(a)->base, false },                                 \
	{ "--root", OPT_NUMBER, false, &(a)->root, false }

struct image_table {
	void *file; /* the file's bytes, mapped */
	uint64_t size;
	bool is_elf;
	struct vpte_image image; /* raw */
	struct elf_dump dump;    /* ELF */
	struct vpte_table table;
};

/*
 * image_table_open - map the image file and attach its root read-only: a
 * raw image needs --base and --root; an ELF dump refuses --base and takes
 * its root from the dump's CPU state unless --root is given.
 * Returns 0, -1 after printing why (naming @verb), or -2 after printing a
 * usage error (a missing or meaningless --base or --root).
 */
int image_table_open(struct image_table *it, const struct image_args *args, const char *verb);

void image_table_close(struct image_table *it);

/*
 * image_walk - one bounded walk of every translatable range of @t (both
 * halves of a sign-extended format), calling @leaf for each leaf: at most
 * @max_entries entries (leaves, holes and table entries alike), so a
 * hostile image's tables of tables cannot keep it busy.
 * Returns 0, -1 after printing why ("vpte: VERB: ...": too many entries, a
 * corrupt table), or the non-zero value @leaf returned to stop the walk
 * (after printing its own reason).
 */
int image_walk(const struct vpte_table *t, uint64_t max_entries, const char *verb,
	       int (*leaf)(void *ctx, const struct vpte_walk *w), void *ctx);

#endif
