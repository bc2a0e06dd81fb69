/* SPDX-License-Identifier: MIT */
/*
 * harvest.h - vpte_harvest, and the leaf-flag primitive it shares with
 * vpte_copy and vpte_collapse: reading a flag over every member of a leaf
 * or contiguous run, and clearing it (leafstore.h: a compare-and-swap
 * where the hardware may set a flag meanwhile, else a plain store).
 */
#ifndef VPTE_ENGINE_HARVEST_H
#define VPTE_ENGINE_HARVEST_H

#include "engine/edges.h"
#include "engine/leafstore.h"
#include "engine/unmap.h"

/*
 * leaf_test_flag - does any member of the leaf the iteration @w stands on
 * (one entry, or every entry of a contiguous run) have the flag?  With
 * @clear, clear it in every member, by compare-and-swap (runs are rare).
 * A run is one TLB entry that the hardware may fill from, and update
 * through, any member, so its flag is the OR of its members' (as Linux's
 * contpte_ptep_get reads arm64 runs).
 */
VPTE_INLINE bool leaf_test_flag(const struct vpte_format *f, const struct vpte_walk *w,
				struct flag_bits b, bool clear)
{
	unsigned members = 1u << (w->shift - g_shift(f, w->level));
	vpte_slot_t *first = slot_at(w->path[w->level], g_index(f, w->index_addr, w->level));
	bool any = false;
	for (unsigned i = 0; i < members; i++) {
		uint64_t e = slot_load(first + i);
		any |= flag_in(clear ? leaf_clear_flag(first + i, e, b, false) : e, b);
	}
	return any;
}

/* Bits @lo..@hi (inclusive, at most 63) of a word. */
VPTE_INLINE uint64_t bit_range(unsigned lo, unsigned hi)
{
	return (~0ull >> (63u - hi)) & (~0ull << lo);
}

/* Set bits @first..@last (inclusive) of @bitmap. */
VPTE_INLINE void bitmap_set_bits(uint64_t *bitmap, uint64_t first, uint64_t last)
{
	for (uint64_t word = first / 64u; word <= last / 64u; word++) {
		unsigned lo = word == first / 64u ? (unsigned)(first % 64u) : 0u;
		unsigned hi = word == last / 64u ? (unsigned)(last % 64u) : 63u;
		bitmap[word] |= bit_range(lo, hi);
	}
}

/*
 * struct harvest_pass - what one leaf of eng_harvest() does: read the flag
 * @flag (@clear: and clear it, for a leaf wholly inside [first, last]),
 * then mark @bitmap in granules of 2^@shift bytes from @first and record
 * cleared leaves in @batch, for @gather (NULL: none).  @check: the pass
 * that only makes sure the range reads, before anything is cleared.
 * @no_hw: the table is VPTE_TABLE_NO_HW_UPDATES.
 */
struct harvest_pass {
	uint64_t first, last, *bitmap;
	struct vpte_gather *gather;
	struct leaf_batch batch;
	uint32_t flag;
	unsigned shift;
	bool clear, check, no_hw;
};

/* The leaf at index address @ia of shift @leaf_shift had the flag (and
 * lost it, with @taken). */
VPTE_INLINE void harvest_mark(struct harvest_pass *h, uint64_t ia, unsigned leaf_shift, bool taken)
{
	uint64_t end = ia + mask_below(leaf_shift);
	if (taken && h->gather)
		batch_leaf(&h->batch, ia, leaf_shift);
	if (h->bitmap)
		bitmap_set_bits(h->bitmap, ((ia > h->first ? ia : h->first) - h->first) >> h->shift,
				((end < h->last ? end : h->last) - h->first) >> h->shift);
}

/* Clear the flag @b in the plain leaf @e at @slot, at @level; returns
 * whether this cleared it (false: the leaf lost it meanwhile). */
VPTE_INLINE bool harvest_take(const struct vpte_format *f, const struct vpte_codec *c,
			      vpte_slot_t *slot, uint64_t e, unsigned level, struct flag_bits b,
			      bool no_hw)
{
	return flag_in(leaf_clear_flag(slot, e, b, leaf_store_plain(f, c, no_hw, e, level)), b);
}

/*
 * harvest_check_row - the check pass over entries @at..@end of the table
 * @table at @level: past the plain leaves (no run members: the iterator
 * checks those whole), four at a test while they agree with the one before
 * (plain_mask()).  Returns the index of the first entry that is not one.
 */
VPTE_INLINE unsigned harvest_check_row(const struct vpte_format *f, const struct vpte_codec *c,
				       vpte_slot_t *table, unsigned level, unsigned at, unsigned end)
{
	const uint64_t mask = plain_mask(f, c, level);
	uint64_t key = MEMO_NONE;
	vpte_slot_t *slot = slot_at(table, at), *stop = slot_at(table, end);
	for (; slot <= stop; slot++) {
		uint64_t e = slot_load(slot);
		if ((e & mask) != key && (key = plain_key(f, c, e, level, mask, MEMO_NONE)) == MEMO_NONE)
			break;
		slot = skip_alike(slot, stop, mask, key);
	}
	return (unsigned)(slot - table);
}

/*
 * harvest_leaf_row - the pass over the plain leaves among entries
 * @at..@end of the leaf table @table (entry 0 maps @base): each is a
 * granule wholly inside the range (which is granule-aligned), so it is one
 * bit of the bitmap; the bits of a bitmap word are gathered in a register
 * and ORed in with one store, and the cleared leaves go to the batch once
 * for the row.  The answers for a leaf (has it the flag, may a plain store
 * replace it) depend only on its bits outside the PA field, its encoding,
 * which the leaves of a row nearly all share: they are worked out once per
 * encoding met, and a row of one encoding is passed (skip_alike()) or
 * changed (change_row(): plain stores, or compare-and-swaps two at a time
 * where the host can) as a whole, its bits set as one range.  An entry the
 * hardware changed meanwhile ends the row and is looked at again.  Inlined
 * with @no_hw as a constant.  Returns the index of the first entry that is
 * not a plain leaf.
 */
VPTE_INLINE unsigned harvest_leaf_row(const struct vpte_format *f, const struct vpte_codec *c,
				      vpte_slot_t *table, unsigned at, unsigned end, uint64_t base,
				      struct harvest_pass *h, bool no_hw)
{
	const unsigned shift = g_shift(f, 0), d = h->shift - shift;
	const uint64_t mask = plain_mask(f, c, 0), pam = pa_field(f, c, 0);
	const struct flag_bits b = flag_bits(f, c, 0, h->flag);
	const bool clear = h->clear;
	uint64_t *bitmap = h->bitmap, key = MEMO_NONE;
	/* The encoding last learnt, whether its leaves have the flag and
	 * whether a plain store may replace them. */
	uint64_t encoding = MEMO_NONE;
	bool had = false, plain = false;
	/* Granules from the range's start to entry @at: its bit is u >> d. */
	uint64_t u = (base + ((uint64_t)at << shift) - h->first) >> shift;
	unsigned first_taken = ~0u, last_taken = 0;
	bool more = true;
	while (more && at <= end) {
		/* The entries whose bits lie in the bitmap word of entry @at. */
		uint64_t word = u >> (d + 6u), left = ((word + 1u) << (d + 6u)) - u;
		unsigned stop = left > end - at ? end : at + (unsigned)left - 1u;
		uint64_t bits = 0;
		while (at <= stop) {
			vpte_slot_t *slot = slot_at(table, at);
			uint64_t e = slot_load(slot);
			if ((e & ~pam) != encoding) {
				if ((e & mask) != key &&
				    (key = plain_key(f, c, e, 0, mask, MEMO_NONE)) == MEMO_NONE) {
					more = false;
					break;
				}
				encoding = e & ~pam;
				had = flag_in(e, b);
				plain = leaf_store_plain(f, c, no_hw, e, 0);
			}
			unsigned next;
			if (had && clear) {
				bool lost = false;
				next = change_row(table, at, stop, ~pam, encoding, b.on | b.off, plain,
						  &lost);
				if (next > at) {
					first_taken = first_taken < at ? first_taken : at;
					last_taken = next - 1u;
				}
			} else {
				next = (unsigned)(skip_alike(slot, slot_at(table, stop), ~pam, encoding) -
						  table) + 1u;
			}
			if (had && next > at)
				bits |= bit_range((u >> d) & 63u, ((u + (next - at) - 1u) >> d) & 63u);
			u += next - at;
			at = next;
		}
		/* Not when nothing was read: the iteration may stand on a run
		 * that starts before the range. */
		if (bitmap && bits)
			bitmap[word] |= bits;
	}
	if (first_taken != ~0u && h->gather) {
		batch_leaf(&h->batch, base + ((uint64_t)first_taken << shift), shift);
		batch_leaf(&h->batch, base + ((uint64_t)last_taken << shift), shift);
	}
	return at;
}

/*
 * harvest_row - the pass over the plain leaves (no run members: the
 * iterator checks and reads those whole) from the entry the iteration @w
 * stands on, as far as they go in a row in its table within the range,
 * with no describe() or vpte_iter_next() per leaf: harvest_leaf_row() in
 * a leaf table, one leaf at a time above (a leaf there may straddle the
 * range's edge or cover many bits).  Leaves @w on the last of them and
 * returns how many there were (0: @w's leaf is not plain).
 */
VPTE_INLINE unsigned harvest_row(const struct vpte_format *f, const struct vpte_codec *c,
				 struct vpte_walk *w, struct harvest_pass *h)
{
	unsigned level = w->level, shift = g_shift(f, level);
	unsigned start = g_index(f, w->index_addr, level), at = start;
	unsigned end = stretch_end(f, level, w->index_addr, w->index_last);
	uint64_t base = table_base(f, level, w->index_addr);
	vpte_slot_t *table = w->path[level];
	if (h->check) {
		at = harvest_check_row(f, c, table, level, at, end);
	} else if (level == 0) {
		at = h->no_hw ? harvest_leaf_row(f, c, table, at, end, base, h, true)
			      : harvest_leaf_row(f, c, table, at, end, base, h, false);
	} else {
		const uint64_t mask = plain_mask(f, c, level);
		const struct flag_bits b = flag_bits(f, c, level, h->flag);
		uint64_t key = MEMO_NONE;
		for (; at <= end; at++) {
			vpte_slot_t *slot = slot_at(table, at);
			uint64_t e = slot_load(slot);
			if ((e & mask) != key &&
			    (key = plain_key(f, c, e, level, mask, MEMO_NONE)) == MEMO_NONE)
				break;
			uint64_t ia = base + ((uint64_t)at << shift);
			/* A leaf the range cuts keeps its flag for its part outside. */
			bool take = h->clear && ia >= h->first && ia + mask_below(shift) <= h->last;
			bool had = flag_in(e, b);
			if (had && take)
				had = harvest_take(f, c, slot, e, level, b, h->no_hw);
			if (had)
				harvest_mark(h, ia, shift, take);
		}
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

	struct harvest_pass h = { first, last, bitmap, opts->gather, { false, 0, 0, 0, 0 },
				  opts->flag, shift, clear, clear, t->flags & VPTE_TABLE_NO_HW_UPDATES };
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
			harvest_mark(&h, w.index_addr, w.shift, take);
	}
	if (h.gather)
		batch_flush(f, &h.batch, h.gather);
	return ret;
}

#endif
