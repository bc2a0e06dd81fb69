/* SPDX-License-Identifier: MIT */
/*
 * collapse.h - vpte_collapse: replace pieces of a range that are mapped
 * by smaller leaves alike (one physically contiguous region, the same
 * attributes but for accessed and dirty) with the largest leaves and runs
 * that alignment and max_shift allow, freeing the tables this empties.
 *
 * The range is read as *extents*: maximal stretches of leaves wholly inside
 * it, each mapping on where the previous one ends, alike.  Within an extent
 * the pieces are those vpte_map would choose for it (pick_level(), map.h):
 * each piece not already one leaf that large becomes one.  A read-only
 * pass first meets every entry of the range, so a corrupt table fails the
 * collapse before anything changes; collapsing allocates nothing.
 *
 * Every pass over leaves (the check, the extents, a piece's accessed and
 * dirty flags and its old leaves for the gather) takes the plain leaves
 * of a table row by row (alike_row(), leafbits.h): one load and a
 * compare or two per entry against the row's first leaf, instead of
 * vpte_iter_next() and a full describe() per leaf.  The iterator still takes everything else
 * (runs, holes, tables, leaves of other attributes, errors).
 */
#ifndef VPTE_ENGINE_COLLAPSE_H
#define VPTE_ENGINE_COLLAPSE_H

#include "engine/edges.h"
#include "engine/harvest.h"
#include "engine/map.h"
#include "engine/protect.h"
#include "engine/table.h"

/*
 * walk_row - alike_row() from the plain leaf the iteration @w stands on,
 * over the entries of its table that lie wholly in [.., @last]; leaves @w
 * on the last leaf of the row (vpte_iter_next() goes on after it) and
 * returns how many leaves the row has, or 0 when @w is not on a plain
 * leaf (a run, a huge leaf reaching beyond @last).
 */
VPTE_INLINE unsigned walk_row(const struct vpte_format *f, const struct vpte_codec *c,
			      struct vpte_walk *w, uint64_t last, uint32_t *ad)
{
	unsigned level = w->level, shift = g_shift(f, level);
	if (w->kind != VPTE_LEAF || w->shift != shift ||
	    (f->cont_bits[level] && c->leaf_cont(f, w->entry, level)) ||
	    w->index_addr + mask_below(shift) > last)
		return 0;
	unsigned at = g_index(f, w->index_addr, level);
	unsigned end = stretch_end(f, level, w->index_addr, last);
	uint64_t base = table_base(f, level, w->index_addr);
	if (base + ((uint64_t)end << shift) + mask_below(shift) > last)
		end--; /* a huge leaf reaching beyond the range */
	unsigned n = alike_row(f, c, w->path[level], level, at, end, w->entry, false, ad);
	w->index_addr += (uint64_t)(n - 1u) << shift;
	return n;
}

struct extent {
	uint64_t first, last; /* index addresses, inclusive */
	uint64_t pa;          /* the PA first maps to */
	struct vpte_prot prot;
	uint64_t leaves;
};

/*
 * next_extent - the next extent of [first, last] at or after *@pos; sets
 * *@pos where the search goes on.  A leaf the range cuts, or one whose
 * attributes the format cannot encode again, belongs to no extent.
 */
VPTE_INLINE bool next_extent(const struct vpte_format *f, const struct vpte_codec *c,
			     const struct vpte_table *t, uint64_t first, uint64_t last,
			     uint64_t *pos, struct extent *x)
{
	struct vpte_walk w;
	x->leaves = 0;
	if (*pos > last)
		return false;
	for (int ret = eng_iter_start(f, c, &w, t, vpte_va(ia_to_va(f, *pos)), last - *pos + 1u,
				      VPTE_ITER_LEAVES);
	     ret > 0; ret = eng_iter_next(f, c, &w)) {
		uint64_t end = w.index_addr + mask_below(w.shift);
		bool fits = w.index_addr >= first && end <= last && c->prot_ok(f, w.prot);
		if (x->leaves && !(fits && w.index_addr == x->last + 1u &&
				   w.pa.addr == x->pa + (w.index_addr - x->first) &&
				   same_attrs(w.prot, x->prot))) {
			*pos = w.index_addr;
			return true;
		}
		if (!fits)
			continue;
		if (!x->leaves)
			*x = (struct extent){ w.index_addr, end, w.pa.addr, w.prot, 0 };
		/* The leaf, and the plain leaves alike after it in its table. */
		unsigned row = walk_row(f, c, &w, last, NULL);
		x->leaves += row ? row : 1u;
		x->last = w.index_addr + mask_below(w.shift);
	}
	*pos = last + 1u;
	return x->leaves != 0;
}

/* Record in @g every leaf in [ia, ia + 2^shift): a row of plain leaves
 * as its first and its last (the gather keeps the hull and the smallest
 * shift, struct leaf_batch). */
VPTE_INLINE void gather_leaves(const struct vpte_format *f, const struct vpte_codec *c,
			       const struct vpte_table *t, struct vpte_gather *g, uint64_t ia,
			       unsigned shift)
{
	struct vpte_walk w;
	for (int ret = eng_iter_start(f, c, &w, t, vpte_va(ia_to_va(f, ia)), 1ull << shift,
				      VPTE_ITER_LEAVES);
	     ret > 0; ret = eng_iter_next(f, c, &w)) {
		vpte_gather_leaf(g, w.va.addr, w.shift);
		if (walk_row(f, c, &w, ia + mask_below(shift), NULL) > 1u)
			vpte_gather_leaf(g, ia_to_va(f, w.index_addr), w.shift);
	}
}

/*
 * leaf_table_row - if the entry at @slot (level @level) is a
 * table whose entries are one alike_row() of plain leaves, ORs their
 * accessed and dirty into *@ad and returns how many there are; else 0.
 * Such a member of a piece needs no walk: its leaves are a row, and its
 * table has no table under it.
 */
VPTE_INLINE unsigned leaf_table_row(const struct vpte_format *f, const struct vpte_codec *c,
				    const struct vpte_table *t, vpte_slot_t *slot, unsigned level,
				    uint32_t *ad)
{
	uint64_t e = slot_load(slot);
	if (!level || c->kind(f, e, level) != VPTE_TABLE)
		return 0;
	unsigned lower = level - 1u, n = g_entries(f, lower);
	vpte_slot_t *table = tab_ptr(f, t, c->table_pa(f, e));
	uint64_t e0 = slot_load(table);
	if (c->kind(f, e0, lower) != VPTE_LEAF || (f->cont_bits[lower] && c->leaf_cont(f, e0, lower)))
		return 0;
	return alike_row(f, c, table, lower, 0, n - 1u, e0, false, ad) == n ? n : 0;
}

/* Record in @g the leaves of the member at @ia, level @level: a table of
 * one row (leaf_table_row()) as its first and last leaf, else each. */
VPTE_INLINE void gather_member(const struct vpte_format *f, const struct vpte_codec *c,
			       const struct vpte_table *t, struct vpte_gather *g, uint64_t ia,
			       unsigned level, bool row)
{
	if (!row) {
		gather_leaves(f, c, t, g, ia, g_shift(f, level));
		return;
	}
	unsigned lower_shift = g_shift(f, level - 1u);
	vpte_gather_leaf(g, ia_to_va(f, ia), lower_shift);
	vpte_gather_leaf(g, ia_to_va(f, ia + mask_below(g_shift(f, level)) - mask_below(lower_shift)),
			 lower_shift);
}

/*
 * merge_piece - make [ia, ia + 2^shift) -> @pa one leaf at @level (a run
 * when @shift is the level's run shift); the extent guarantees it is mapped
 * by smaller leaves alike.  The new leaf carries the OR of the accessed and
 * dirty flags of everything it replaces (every member of a run the same);
 * the observer hears how many leaves it replaced.
 * Each member is stored by itself: its old leaves go into the gather just
 * before, the tables under it into the gather just after, so whenever the
 * gather is finished early every change made so far is in it.  With
 * break-before-make (arm64: a table becomes a block, entries gain the
 * contiguous flag; Arm ARM D8.16.1), every member is broken first (its
 * leaves gathered before), the piece invalidated, then each member made.
 * A member that is a table of one row of plain leaves (the usual case:
 * pages becoming a huge page) is read once, as a row, and its table goes
 * to the gather without a walk.
 */
VPTE_INLINE void merge_piece(const struct vpte_format *f, const struct vpte_codec *c,
			     const struct vpte_table *t, struct vpte_gather *g, vpte_slot_t *first,
			     uint64_t ia, uint64_t pa, unsigned level, unsigned shift,
			     struct vpte_prot prot)
{
	static const uint32_t hw_flags[] = { VPTE_A, VPTE_D };
	unsigned entry_shift = g_shift(f, level), members = 1u << (shift - entry_shift);
	uint64_t old[1u << 7]; /* the longest run: 128 x 16 KiB */
	bool row[1u << 7];
	struct vpte_walk w;
	uint64_t parts = 0;
	prot.flags &= ~(VPTE_A | VPTE_D);
	for (unsigned i = 0; i < members; i++) {
		uint64_t member_ia = ia + ((uint64_t)i << entry_shift);
		unsigned n = leaf_table_row(f, c, t, first + i, level, &prot.flags);
		row[i] = n != 0;
		parts += n;
		if (row[i])
			continue;
		for (int ret = eng_iter_start(f, c, &w, t, vpte_va(ia_to_va(f, member_ia)),
					      1ull << entry_shift, VPTE_ITER_LEAVES);
		     ret > 0; ret = eng_iter_next(f, c, &w)) {
			unsigned leaves = walk_row(f, c, &w, member_ia + mask_below(entry_shift),
						   &prot.flags);
			parts += leaves ? leaves : 1u;
			if (leaves)
				continue;
			for (unsigned k = 0; k < 2; k++)
				if (leaf_test_flag(f, &w, flag_bits(f, c, w.level, hw_flags[k]), false))
					prot.flags |= hw_flags[k];
		}
	}
	if (c->break_before_make) {
		for (unsigned i = 0; i < members; i++)
			gather_member(f, c, t, g, ia + ((uint64_t)i << entry_shift), level, row[i]);
		for (unsigned i = 0; i < members; i++)
			old[i] = atomic_exchange_explicit(first + i, SLOT_BREAK, memory_order_acq_rel);
		vpte_gather_break(g, ia_to_va(f, ia), shift);
	}
	for (unsigned i = 0; i < members; i++) {
		uint64_t member_ia = ia + ((uint64_t)i << entry_shift);
		if (!c->break_before_make) {
			gather_member(f, c, t, g, member_ia, level, row[i]);
			old[i] = slot_load(first + i);
		}
		slot_store(first + i, c->make_leaf(f, pa + ((uint64_t)i << entry_shift), level, prot,
						   members > 1u));
		if (row[i])
			vpte_gather_page(g, vpte_pa(c->table_pa(f, old[i])), ia_to_va(f, member_ia),
					 entry_shift);
		else if (c->kind(f, old[i], level) == VPTE_TABLE)
			free_tables(f, c, t, c->table_pa(f, old[i]), level - 1u, member_ia, g);
	}
	observe_merge(t, ia_to_va(f, ia), pa, shift, parts);
}

/*
 * collapse_piece - the piece of the extent at @ia, where vpte_map would
 * put a leaf or run of 2^shift at @level, becomes one unless a leaf at
 * least that large is there already.  Returns the span to step over.
 */
VPTE_INLINE unsigned collapse_piece(const struct vpte_format *f, const struct vpte_codec *c,
				    const struct vpte_table *t, struct vpte_gather *g,
				    const struct extent *x, uint64_t ia, unsigned level,
				    unsigned shift)
{
	void *table = tab_ptr(f, t, t->root.addr);
	for (unsigned l = g_top(f); l > level; l--) {
		uint64_t e = slot_load(slot_at(table, g_index(f, ia, l)));
		if (c->kind(f, e, l) == VPTE_LEAF)
			return leaf_shift(f, c, e, l); /* larger than the piece */
		table = tab_ptr(f, t, c->table_pa(f, e));
	}
	vpte_slot_t *first = slot_at(table, g_index(f, ia, level));
	uint64_t e = slot_load(first);
	if (c->kind(f, e, level) == VPTE_LEAF && leaf_shift(f, c, e, level) >= shift)
		return leaf_shift(f, c, e, level);
	merge_piece(f, c, t, g, first, ia, x->pa + (ia - x->first), level, shift, x->prot);
	return shift;
}

/* collapse_extent - every piece of @x as large as it can be. */
VPTE_INLINE void collapse_extent(const struct vpte_format *f, const struct vpte_codec *c,
				 const struct vpte_table *t, struct vpte_gather *g,
				 const struct extent *x, unsigned max_shift)
{
	struct map_req r = { .first = x->first, .last = x->last, .pa = x->pa, .prot = x->prot,
			     .max_shift = max_shift };
	for (uint64_t ia = x->first;;) {
		uint64_t pa = x->pa + (ia - x->first);
		unsigned level = pick_level(f, &r, ia, pa, g_top(f));
		unsigned shift = g_shift(f, level);
		if (f->cont_bits[level] && piece_fits(&r, ia, pa, shift + f->cont_bits[level]))
			shift += f->cont_bits[level];
		unsigned step = collapse_piece(f, c, t, g, x, ia, level, shift);
		if (x->last - ia <= mask_below(step))
			return;
		ia += 1ull << step;
	}
}

VPTE_INLINE int eng_collapse(const struct vpte_format *f, const struct vpte_codec *c,
			     struct vpte_table *t, vpte_va_t va, uint64_t size, unsigned max_shift,
			     struct vpte_gather *gather)
{
	uint64_t first, last, pos;
	struct vpte_walk w = { 0 }; /* (GCC cannot see that the loop below sets it) */
	struct extent x = { 0 };
	int ret = edit_check(f, t, va, size, gather, &first, &last);
	if (ret)
		return ret;
	if (max_shift && (max_shift < f->granule_shift || max_shift > 63))
		return -VPTE_EINVAL;
	for (ret = eng_iter_start(f, c, &w, t, va, size, VPTE_ITER_LEAVES); ret > 0;
	     ret = eng_iter_next(f, c, &w))
		walk_row(f, c, &w, last, NULL);
	if (ret < 0)
		return ret;
	struct vpte_gather local, *g = edit_gather(t, gather, &local);
	for (pos = first; next_extent(f, c, t, first, last, &pos, &x);)
		if (x.leaves > 1)
			collapse_extent(f, c, t, g, &x, max_shift ? max_shift : 63u);
	edit_gather_end(g, &local);
	return 0;
}

#endif
