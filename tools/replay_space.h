/* SPDX-License-Identifier: MIT */
/*
 * replay_space.h - a process's address space (proc_space.h) rebuilt in one
 * format with vpte_map(): each extent with the largest leaves and runs that
 * alignment and its known physical contiguity allow (max_shift).
 *
 * Policy where the host does not say (docs/tool.md, "vpte replay"):
 *   - Hidden page frames: PA = VA, and an extent is only as contiguous as
 *     its pieces (max_shift: a page, or a transparent huge page).
 *   - A granule larger than the host's page: each extent is rounded out to
 *     it, a page shared by two extents is mapped once, and PA = VA (the
 *     host's frames say nothing about where such a kernel would put them).
 *   - A VA space too narrow for the process (Sv39, arm64 39/42-bit): gaps
 *     longer than 1 GiB between present pages (between mappings, or inside
 *     one: a sanitizer's 16 TiB of shadow) are shortened, keeping every
 *     address's offset within its 1 GiB, so leaf and run alignment is as
 *     on the host.
 *   - Every leaf is readable (PROT_NONE and execute-only mappings
 *     included): all formats can encode that, and it changes no leaf size.
 *   - Mappings in the upper half of the address space (x86-64's
 *     [vsyscall], which pagemap does not show) are left out.
 */
#ifndef VPTE_TOOL_REPLAY_SPACE_H
#define VPTE_TOOL_REPLAY_SPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "proc_space.h"
#include "vpte/hosted.h"
#include "vpte/vpte.h"

struct replay_space {
	const struct vpte_format *fmt;
	struct vpte_heap heap;
	struct vpte_table table;
	uint64_t *delta;   /* per extent: its VA in the table is its VA - delta */
	uint64_t (*range)[2]; /* per mapping: [start, end) in the table */
	bool compacted;    /* some delta is not 0 */
	uint64_t skipped;  /* bytes of mappings outside the VA space (vsyscall) */
	struct vpte_stats stats;
};

/*
 * replay_space_build - build @s in @fmt into @rs (heap tables) and count it.
 * Returns 0, or -1 after printing why (the table then holds nothing).
 */
int replay_space_build(struct replay_space *rs, const struct vpte_format *fmt,
		       const struct proc_space *s);

/* replay_space_range - mapping @i's range in the table, rounded out to the granule. */
void replay_space_range(const struct replay_space *rs, const struct proc_space *s, size_t i,
			uint64_t *start, uint64_t *size);

void replay_space_release(struct replay_space *rs);

#endif
