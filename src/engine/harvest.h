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

#include "engine/walk.h"

/* How a leaf encodes one flag: the bits set when it is on, and those set
 * when it is off (arm64 W: on = nothing, off = AP[2]). */
struct flag_bits {
	uint64_t on, off;
};

/*
 * flag_bits - how a leaf at @level encodes @flag (VPTE_W, VPTE_A or
 * VPTE_D).  Derived from the codec's make_leaf rather than stated again by
 * each format: every format encodes these three flags independently of the
 * other attributes, so the two encodings differ in exactly the flag's bits.
 * With a constant format this folds to two constants.
 */
VPTE_INLINE struct flag_bits flag_bits(const struct vpte_format *f, const struct vpte_codec *c,
				       unsigned level, uint32_t flag)
{
	struct vpte_prot p = { VPTE_R, VPTE_MT_WB, 0 };
	uint64_t off = c->make_leaf(f, 0, level, p, false);
	p.flags |= flag;
	uint64_t on = c->make_leaf(f, 0, level, p, false);
	uint64_t diff = on ^ off;
	return (struct flag_bits){ on & diff, off & diff };
}

VPTE_INLINE bool flag_in(uint64_t e, struct flag_bits b)
{
	return (e & (b.on | b.off)) == b.on;
}

/* Clear the flag in the entry at @slot if it is set; returns whether it was. */
VPTE_INLINE bool slot_test_clear(vpte_slot_t *slot, struct flag_bits b)
{
	uint64_t e = slot_load(slot);
	while (flag_in(e, b))
		if (atomic_compare_exchange_weak_explicit(slot, &e, (e & ~b.on) | b.off,
							  memory_order_release, memory_order_acquire))
			return true;
	return false;
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

	struct vpte_walk w = { .shift = 0 }; /* GCC cannot see iter_start set it */
	/* Clearing changes the table: first make sure the whole range reads. */
	if (clear) {
		for (ret = eng_iter_start(f, c, &w, t, va, size, VPTE_ITER_LEAVES); ret > 0;
		     ret = eng_iter_next(f, c, &w))
			;
		if (ret)
			return ret;
	}
	for (ret = eng_iter_start(f, c, &w, t, va, size, VPTE_ITER_LEAVES); ret > 0;
	     ret = eng_iter_next(f, c, &w)) {
		uint64_t end = w.index_addr + mask_below(w.shift);
		/* A leaf the range cuts keeps its flag for its part outside. */
		bool take = clear && w.index_addr >= first && end <= last;
		if (!leaf_test_flag(f, &w, flag_bits(f, c, w.level, opts->flag), take))
			continue;
		if (take && opts->gather)
			vpte_gather_leaf(opts->gather, w.va.addr, w.shift);
		if (bitmap)
			bitmap_set_bits(bitmap, ((w.index_addr > first ? w.index_addr : first) - first) >> shift,
					((end < last ? end : last) - first) >> shift);
	}
	return ret;
}

#endif
