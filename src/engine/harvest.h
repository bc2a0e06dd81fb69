/* SPDX-License-Identifier: MIT */
/*
 * harvest.h - vpte_harvest, and the leaf-flag primitives it shares with
 * vpte_copy's write-protect: how a flag is encoded, reading it over every
 * member of a leaf or contiguous run, and clearing it atomically.
 *
 * Clearing is a compare-and-swap loop on each entry: the hardware may set
 * accessed or dirty in an entry at any moment (x86-64 and RISC-V with
 * Svadu; arm64 AF with FEAT_HAFDBS), and a plain read-modify-write store
 * would lose such an update.
 */
#ifndef VPTE_ENGINE_HARVEST_H
#define VPTE_ENGINE_HARVEST_H

#include "engine/edges.h"

/* Clear the flag in the entry at @slot, last read as @e, if it is set;
 * returns whether it was.  Only an entry with the flag costs an atomic. */
VPTE_INLINE bool slot_clear_loaded(vpte_slot_t *slot, uint64_t e, struct flag_bits b)
{
	while (flag_in(e, b))
		if (atomic_compare_exchange_weak_explicit(slot, &e, (e & ~b.on) | b.off,
							  memory_order_release, memory_order_acquire))
			return true;
	return false;
}

/* Clear the flag in the entry at @slot if it is set; returns whether it was. */
VPTE_INLINE bool slot_test_clear(vpte_slot_t *slot, struct flag_bits b)
{
	return slot_clear_loaded(slot, slot_load(slot), b);
}

/*
 * leaf_test_flag - does any member of the leaf the iteration @w stands on
 * (one entry, or every entry of a contiguous run) have the flag?  With
 * @clear, clear it in every member.  A run is one TLB entry that the
 * hardware may fill from, and update through, any member, so its flag is
 * the OR of its members' (as Linux's contpte_ptep_get reads arm64 runs).
 */
VPTE_INLINE bool leaf_test_flag(const struct vpte_format *f, const struct vpte_walk *w,
				struct flag_bits b, bool clear)
{
	unsigned members = 1u << (w->shift - g_shift(f, w->level));
	vpte_slot_t *first = slot_at(w->path[w->level], g_index(f, w->index_addr, w->level));
	bool any = false;
	for (unsigned i = 0; i < members; i++)
		any |= clear ? slot_test_clear(first + i, b) : flag_in(slot_load(first + i), b);
	return any;
}

/* Set bits @first..@last (inclusive) of @bitmap. */
VPTE_INLINE void bitmap_set_bits(uint64_t *bitmap, uint64_t first, uint64_t last)
{
	for (uint64_t word = first / 64u; word <= last / 64u; word++) {
		uint64_t lo = word == first / 64u ? first % 64u : 0u;
		uint64_t hi = word == last / 64u ? last % 64u : 63u;
		bitmap[word] |= (~0ull >> (63u - hi)) & (~0ull << lo);
	}
}

/*
 * struct harvest_pass - what one leaf of eng_harvest() does: read the flag
 * @flag (@clear: and clear it, for a leaf wholly inside [first, last]),
 * then mark @bitmap in granules of 2^@shift bytes from @first and record
 * cleared leaves in @gather.  @check: the pass that only makes sure the
 * range reads, before anything is cleared.  @no_hw: the table is
 * VPTE_TABLE_NO_HW_UPDATES.
 */
struct harvest_pass {
	uint64_t first, last, *bitmap;
	struct vpte_gather *gather;
	uint32_t flag;
	unsigned shift;
	bool clear, check, no_hw;
};

/* The leaf at index address @ia of shift @leaf_shift (at @va) had the flag
 * (and lost it, with @taken). */
VPTE_INLINE void harvest_mark(const struct harvest_pass *h, uint64_t ia, uint64_t va,
			      unsigned leaf_shift, bool taken)
{
	uint64_t end = ia + mask_below(leaf_shift);
	if (taken && h->gather)
		vpte_gather_leaf(h->gather, va, leaf_shift);
	if (h->bitmap)
		bitmap_set_bits(h->bitmap, ((ia > h->first ? ia : h->first) - h->first) >> h->shift,
				((end < h->last ? end : h->last) - h->first) >> h->shift);
}

/*
 * harvest_row - the pass over the plain leaves (no run members: the
 * iterator checks and reads those whole) from the entry the iteration @w
 * stands on, as far as they go in a row in its table within the range:
 * one load each, an atomic only where the flag is to be cleared and set,
 * and no describe() or vpte_iter_next() per leaf; a plain store instead
 * of the atomic on a table whose entries only vpte writes (@h->no_hw).
 * Leaves @w on the last of them and returns how many there were (0: @w's
 * leaf is not plain).
 */
VPTE_INLINE unsigned harvest_row(const struct vpte_format *f, const struct vpte_codec *c,
				 struct vpte_walk *w, const struct harvest_pass *h)
{
	unsigned level = w->level, shift = g_shift(f, level);
	unsigned start = g_index(f, w->index_addr, level), at = start;
	unsigned end = stretch_end(f, level, w->index_addr, w->index_last);
	uint64_t base = table_base(f, level, w->index_addr);
	vpte_slot_t *table = w->path[level];
	const struct flag_bits b = flag_bits(f, c, level, h->flag);
	for (; at <= end; at++) {
		vpte_slot_t *slot = slot_at(table, at);
		uint64_t e = slot_load(slot);
		if (c->kind(f, e, level) != VPTE_LEAF || (f->cont_bits[level] && c->leaf_cont(f, e, level)))
			break;
		if (h->check)
			continue;
		uint64_t ia = base + ((uint64_t)at << shift);
		/* A leaf the range cuts keeps its flag for its part outside. */
		bool take = h->clear && ia >= h->first && ia + mask_below(shift) <= h->last;
		bool had = flag_in(e, b);
		if (had && take && h->no_hw)
			slot_store(slot, (e & ~b.on) | b.off);
		else if (had && take)
			had = slot_clear_loaded(slot, e, b);
		if (had)
			harvest_mark(h, ia, ia_to_va(f, ia), shift, take);
	}
	if (at == start)
		return 0;
	w->index_addr = base + ((uint64_t)(at - 1u) << shift);
	w->shift = shift;
	return at - start;
}

VPTE_INLINE int eng_harvest(const struct vpte_format *f, const struct vpte_codec *c,
			    struct vpte_table *t, vpte_va_t va, uint64_t size, uint64_t *bitmap,
			    const struct vpte_harvest_opts *opts)
{
	uint64_t first, last;
	if (!opts)
		return -VPTE_EINVAL;
	unsigned shift = opts->bitmap_shift ? opts->bitmap_shift : f->granule_shift;
	bool clear = opts->flags & VPTE_HARVEST_CLEAR;
	if ((opts->flag != VPTE_A && opts->flag != VPTE_D) || (opts->flags & ~VPTE_HARVEST_CLEAR) ||
	    shift < f->granule_shift || shift > 63 || (opts->gather && opts->gather->table != t))
		return -VPTE_EINVAL;
	if (clear && (t->flags & VPTE_TABLE_READONLY))
		return -VPTE_EROFS;
	int ret = check_va_range(f, va.addr, size, true, &first, &last);
	if (ret)
		return ret;

	struct harvest_pass h = { first, last, bitmap, opts->gather, opts->flag, shift, clear, clear,
				  t->flags & VPTE_TABLE_NO_HW_UPDATES };
	struct vpte_walk w = { .shift = 0 }; /* GCC cannot see iter_start set it */
	/* Clearing changes the table: first make sure the whole range reads. */
	if (clear) {
		for (ret = eng_iter_start(f, c, &w, t, va, size, VPTE_ITER_LEAVES); ret > 0;
		     ret = eng_iter_next(f, c, &w))
			harvest_row(f, c, &w, &h);
		if (ret)
			return ret;
		h.check = false;
	}
	for (ret = eng_iter_start(f, c, &w, t, va, size, VPTE_ITER_LEAVES); ret > 0;
	     ret = eng_iter_next(f, c, &w)) {
		if (harvest_row(f, c, &w, &h))
			continue;
		uint64_t end = w.index_addr + mask_below(w.shift);
		bool take = clear && w.index_addr >= first && end <= last;
		if (leaf_test_flag(f, &w, flag_bits(f, c, w.level, opts->flag), take))
			harvest_mark(&h, w.index_addr, w.va.addr, w.shift, take);
	}
	return ret;
}

#endif
