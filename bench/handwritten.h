/* SPDX-License-Identifier: MIT */
/*
 * handwritten.h - the comparison: an x86-64 4-level page-table walker
 * written the classic way, one function and one type per level
 * (pgd/pud/pmd/pte, as in Linux's mm/), with no format abstraction at all.
 * It shares the heap backend's memory with vpte (pages from the same
 * allocator; a PA is the host address, like the heap backend's).
 *
 * Same entry encoding as vpte's x86_64 format, so both build the same
 * bits.  It does what hand-written kernel code does and no more: maps
 * check-and-set in one pass (a conflict leaves what was done so far, as
 * Linux's vmap_pte_range() would), and takes attributes already encoded
 * (a pgprot_t).
 */
#ifndef VPTE_BENCH_HANDWRITTEN_H
#define VPTE_BENCH_HANDWRITTEN_H

#include <stdint.h>

#include "vpte/vpte.h"

struct hw_mm {
	uint64_t *pgd;
	struct vpte_mem mem;
};

/* What a lookup finds: the same facts vpte_seek() reports. */
struct hw_leaf {
	uint64_t va, pa, entry;
	unsigned level, shift;
	uint32_t flags;   /* VPTE_R | VPTE_W | ... decoded from the entry */
	uint32_t memtype; /* enum vpte_memtype */
};

/* The benchmark's 4 KiB pgprot: P | RW | A | XD, what vpte's x86_64 format
 * encodes for { VPTE_R | VPTE_W, VPTE_MT_WB } (vpte_map sets accessed). */
#define HW_PGPROT_RW 0x8000000000000023ull

int hw_init(struct hw_mm *mm, struct vpte_mem mem);
void hw_destroy(struct hw_mm *mm);

/* Map one 4 KiB page: allocate missing tables, -VPTE_EEXIST if mapped. */
int hw_map_4k(struct hw_mm *mm, uint64_t va, uint64_t pa, uint64_t pgprot);

/*
 * Map [va, va + size) (all 4 KiB aligned) with 2 MiB pages where alignment
 * and @max_shift (12 or 21) allow, 4 KiB pages elsewhere; the
 * vmap_range() walk: pgd -> pud -> pmd -> pte loops.
 */
int hw_map_range(struct hw_mm *mm, uint64_t va, uint64_t pa, uint64_t size, uint64_t pgprot,
		 unsigned max_shift);

/* Clear the 4 KiB pages of [va, va + size), keep the tables
 * (vunmap_range()); for resetting between repetitions. */
void hw_unmap_range(struct hw_mm *mm, uint64_t va, uint64_t size);

/* Look up @va: 1 and *out filled for a leaf, 0 for a hole. */
int hw_lookup(const struct hw_mm *mm, uint64_t va, struct hw_leaf *out);

#endif
