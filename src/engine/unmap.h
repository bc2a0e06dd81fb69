/* SPDX-License-Identifier: MIT */
/*
 * unmap.h - vpte_unmap: cut the range's edges (edges.h), then every leaf
 * inside the range is whole and is simply cleared.
 */
#ifndef VPTE_ENGINE_UNMAP_H
#define VPTE_ENGINE_UNMAP_H

#include "engine/edges.h"

/*
 * struct leaf_batch - the leaves clear_range() removed since it last told
 * the gather: the first's start, the last's start and shift, and the
 * smallest shift, passed on as two vpte_gather_leaf() calls (the gather
 * keeps only the hull and the smallest shift, so that is exactly what one
 * call per leaf would leave in it).
 */
struct leaf_batch {
	bool any;
	uint64_t first_ia, last_ia;
	unsigned min_shift, last_shift;
};

VPTE_INLINE void batch_leaf(struct leaf_batch *b, uint64_t ia, unsigned shift)
{
	if (!b->any) {
		b->any = true;
		b->first_ia = ia;
		b->min_shift = shift;
	} else if (shift < b->min_shift) {
		b->min_shift = shift;
	}
	b->last_ia = ia;
	b->last_shift = shift;
}

VPTE_INLINE void batch_flush(const struct vpte_format *f, struct leaf_batch *b,
			     struct vpte_gather *g)
{
	if (!b->any)
		return;
	vpte_gather_leaf(g, ia_to_va(f, b->first_ia), b->min_shift);
	vpte_gather_leaf(g, ia_to_va(f, b->last_ia), b->last_shift);
	b->any = false;
}

/*
 * clear_table - clear the leaves among entries *@i..@end of the table at
 * @level (entry 0 maps index address @base) into @batch: 0 when all are
 * done, 1 with *@i at a table entry to go down into.  Sets *@touched when
 * a leaf was cleared.  Inlined with @level 0 as a constant for the leaf
 * tables.  An empty entry, or one of the plain leaves' encoding
 * (plain_mask()), is told apart by a compare; kind() runs for the others
 * (plan_edges() has refused corrupt entries).
 */
VPTE_INLINE int clear_table(const struct vpte_format *f, const struct vpte_codec *c,
			    vpte_slot_t *table, unsigned level, uint64_t base, unsigned *i,
			    unsigned end, struct leaf_batch *batch, bool *touched)
{
	const uint64_t mask = plain_mask(f, c, level);
	uint64_t key = MEMO_NONE;
	unsigned shift = g_shift(f, level), at = *i;
	unsigned first_at = ~0u, last_at = 0, last_run_at = ~0u, run_step = 63;
	bool plain = false;
	int ret = 0;
	for (; at <= end; at++) {
		vpte_slot_t *slot = slot_at(table, at);
		uint64_t e = slot_load(slot);
		/* A leaf of the encoding met last: only the first leaf of that
		 * encoding pays for the bookkeeping below. */
		if ((e & mask) == key) {
			slot_store(slot, 0);
			last_at = at;
			continue;
		}
		if (e == 0)
			continue;
		int kind = c->kind(f, e, level);
		if (kind == VPTE_TABLE) {
			ret = 1;
			break;
		}
		if (kind != VPTE_LEAF)
			continue;
		if (f->cont_bits[level] && c->leaf_cont(f, e, level)) {
			unsigned members = 1u << f->cont_bits[level];
			at &= ~(members - 1u);
			for (unsigned m = 0; m < members; m++)
				slot_store(slot_at(table, at + m), 0);
			last_at = last_run_at = at;
			at += members - 1u;
			run_step = shift + f->cont_bits[level];
		} else {
			slot_store(slot, 0);
			key = e & mask;
			last_at = at;
			plain = true;
		}
		if (first_at == ~0u)
			first_at = last_at;
	}
	*i = at;
	if (first_at != ~0u) {
		/* A plain leaf has the smallest shift there is at this level. */
		batch_leaf(batch, base + ((uint64_t)first_at << shift), plain ? shift : run_step);
		batch_leaf(batch, base + ((uint64_t)last_at << shift),
			   last_at == last_run_at ? run_step : shift);
		*touched = true;
	}
	return ret;
}

/*
 * leaves_in_covered - what clear_range() needs to know of a leaf table
 * (level 0) whose whole span the unmap covers, which goes with its
 * entries as they are (nobody else can reach them; the backend gets the
 * page back with them): 1 when it holds leaves, all plain (they go to
 * @batch as two leaves of the granule spanning its entries: the page's
 * own span, recorded right after, holds them all), 0 when it holds none,
 * -1 when it has contiguous runs, which the caller clears as usual to
 * learn their shift.  One OR of every entry (entries_or()), with plain
 * loads: no other thread writes these entries, and the hardware only
 * sets A or D in a leaf.  A leaf is an entry with the valid bit, bit 0 on
 * every format (SLOT_FROZEN, walk.h), as plan_edges() has refused
 * corrupt entries and level 0 has no table entries.
 */
VPTE_INLINE int leaves_in_covered(const struct vpte_format *f, const struct vpte_codec *c,
				  vpte_slot_t *table, uint64_t base, struct leaf_batch *batch)
{
	const struct vpte_prot p = { VPTE_R, VPTE_MT_WB, 0 };
	const uint64_t cont = f->cont_bits[0] ? (c->make_leaf(f, 0, 0, p, true) ^
						  c->make_leaf(f, 0, 0, p, false)) &
							 ~pa_field(f, c, 0)
					      : 0;
	unsigned n = g_entries(f, 0), shift = g_shift(f, 0);
	uint64_t any = entries_or(table, n);
	if (any & cont)
		return -1;
	if (!(any & 1u))
		return 0;
	batch_leaf(batch, base, shift);
	batch_leaf(batch, base + ((uint64_t)(n - 1u) << shift), shift);
	return 1;
}

/*
 * freeze_table - claim every entry of the @n-entry table at @table for
 * SLOT_FROZEN, first to last, so that it can be unhooked and freed while
 * concurrent maps of neighbouring ranges walk through it: a map claims an
 * empty entry by compare-and-swap (slot_claim()), so either its leaf or
 * table stops the freeze, or the freeze stops it and the map waits for
 * the unhook and starts again (map.h, MAP_RETRY).  An entry in use stops
 * the freeze, which empties again the entries it froze (nobody else writes
 * a frozen entry); so does an entry another unmap froze first, which then
 * frees the table itself.  Returns true when every entry is frozen.
 * Acquire-release: a failed freeze's entries go back to 0 in order.
 */
VPTE_INLINE bool freeze_table(vpte_slot_t *table, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t expected = 0;
		if (!atomic_compare_exchange_strong_explicit(table + i, &expected, SLOT_FROZEN,
							     memory_order_acq_rel,
							     memory_order_relaxed)) {
			while (i--)
				slot_store(table + i, 0);
			return false;
		}
	}
	return true;
}

/*
 * table_now_empty - is the table at @level, spanning 2^@span bytes from
 * index address @start, all zero after the unmap of [first, last] cleared
 * its part?  The entries outside that part are looked at first: where
 * leaves remain, that is where they are.
 */
VPTE_INLINE bool table_now_empty(const struct vpte_format *f, vpte_slot_t *table, unsigned level,
				 unsigned span, uint64_t start, uint64_t first, uint64_t last)
{
	unsigned n = g_entries(f, level);
	unsigned lo = first > start ? g_index(f, first, level) : 0;
	unsigned hi = last < start + mask_below(span) ? g_index(f, last, level) + 1u : n;
	return vpte_page_is_zero(table + hi, (uint64_t)(n - hi) * sizeof(*table)) &&
	       vpte_page_is_zero(table, (uint64_t)lo * sizeof(*table)) &&
	       vpte_page_is_zero(table + lo, (uint64_t)(hi - lo) * sizeof(*table));
}

/*
 * clear_plain - clear_table() for entries @i..@end of the table at @level
 * that the plan found to be empty or plain leaves, all inside the range
 * (struct edge_plan: not @mixed, nothing to cut), in a tree no other thread
 * edits, so they still are (the hardware only sets A or D in a leaf): the
 * first and the last leaf are found, and every entry from one to the other
 * is stored 0 without a look.
 */
VPTE_INLINE void clear_plain(const struct vpte_format *f, vpte_slot_t *table, unsigned level,
			     uint64_t base, unsigned i, unsigned end, struct leaf_batch *batch,
			     bool *touched)
{
	vpte_slot_t *lo = slot_at(table, i), *hi = slot_at(table, end);
	unsigned shift = g_shift(f, level);
	while (lo <= hi && !slot_load(lo))
		lo++;
	if (lo > hi)
		return;
	while (!slot_load(hi))
		hi--;
	batch_leaf(batch, base + ((uint64_t)(lo - table) << shift), shift);
	batch_leaf(batch, base + ((uint64_t)(hi - table) << shift), shift);
	*touched = true;
	_Pragma("GCC unroll 8")
	for (; lo <= hi; lo++)
		slot_store(lo, 0);
}

/*
 * clear_from - clear_range(), clear_planned(): the walk starts at the
 * table at @level whose path is @path (the root's: @level is the top);
 * @plain: the stretch of the range in that table is clear_plain()'s.
 */
VPTE_INLINE void clear_from(const struct vpte_format *f, const struct vpte_codec *c,
			    const struct vpte_table *t, struct vpte_gather *g, uint64_t first,
			    uint64_t last, void **path, unsigned level, bool plain)
{
	bool touched[VPTE_MAX_LEVELS] = { false };
	struct leaf_batch batch = { false, 0, 0, 0, 0 };
	uint64_t ia = first;
	const bool conc = table_concurrent(t);

	for (;;) {
		unsigned shift = g_shift(f, level), end = stretch_end(f, level, ia, last);
		unsigned i = g_index(f, ia, level);
		uint64_t base = table_base(f, level, ia);
		bool covered_leaves = level == 0 && i == 0 && end == g_entries(f, 0) - 1u;
		int down = 0;
		if (plain && !covered_leaves)
			clear_plain(f, path[level], level, base, i, end, &batch, &touched[level]);
		else if (level > 0)
			down = clear_table(f, c, path[level], level, base, &i, end, &batch,
					   &touched[level]);
		else if (!covered_leaves || leaves_in_covered(f, c, path[0], base, &batch) < 0)
			clear_table(f, c, path[0], 0, base, &i, end, &batch, &touched[0]);
		plain = false;
		if (down) {
			uint64_t e = slot_load(slot_at(path[level], i));
			ia = base + ((uint64_t)i << shift);
			ia = ia > first ? ia : first;
			/* A table this range shares may have been freed since
			 * clear_table() saw it (empty, by a concurrent unmap):
			 * look at the entry again. */
			if (c->kind(f, e, level) != VPTE_TABLE)
				continue;
			path[level - 1u] = tab_ptr(f, t, c->table_pa(f, e));
			level--;
			touched[level] = false;
			continue;
		}

		uint64_t here = base + ((uint64_t)end << shift);
		uint64_t next = here + (1ull << shift);
		bool done = next > last || next > g_ia_mask(f);
		ia = next;
		/* Leave each table this step finishes; free it if now empty. */
		while (level < g_top(f) && (done || !(ia & mask_below(g_shift(f, level + 1u))))) {
			unsigned span = g_shift(f, level + 1u);
			uint64_t start = here & ~mask_below(span);
			bool covered = start >= first && start + mask_below(span) <= last;
			if (covered ||
			    (touched[level] &&
			     (conc ? freeze_table(path[level], g_entries(f, level))
				   : table_now_empty(f, path[level], level, span, start, first,
						     last)))) {
				/* The only writer of this entry: its span is
				 * ours, or its table is frozen. */
				vpte_slot_t *parent = slot_at(path[level + 1u], g_index(f, here, level + 1u));
				uint64_t table_pa = c->table_pa(f, slot_load(parent));
				slot_store(parent, 0);
				batch_flush(f, &batch, g);
				vpte_gather_page(g, vpte_pa(table_pa), ia_to_va(f, start), span);
				touched[level + 1u] = true;
			}
			level++;
		}
		if (done) {
			batch_flush(f, &batch, g);
			return;
		}
	}
}

/*
 * clear_range - remove every leaf in [first, last] (all whole, after
 * cut_edges()) and free each table that this leaves empty.  A table whose
 * span lies inside the range is empty once the walk leaves it, whatever
 * it held (an attached table may hold empty lower tables vpte would never
 * build), so it goes without a look.  One the range covers in part goes
 * if this walk changed it and it is now all zero: a table the walk did not
 * touch may be one that a concurrent map of a neighbouring range has just
 * installed and is about to fill.  On a concurrent table such a table is
 * frozen first (freeze_table()): a concurrent map may be about to claim an
 * entry of it for a neighbouring range, and table_now_empty()'s plain reads
 * would race with its stores.  Each table's entries are cleared in one
 * loop, except a leaf table the range covers, which goes as it is
 * (leaves_in_covered()); the leaves go to the gather in batches (struct
 * leaf_batch), always before a table page does, so that an early finish
 * of the gather invalidates them before the page is freed.
 */
VPTE_INLINE void clear_range(const struct vpte_format *f, const struct vpte_codec *c,
			     const struct vpte_table *t, struct vpte_gather *g, uint64_t first,
			     uint64_t last)
{
	void *path[VPTE_MAX_LEVELS] = { NULL }; /* GCC cannot see the walk set path[0] */
	path[g_top(f)] = tab_ptr(f, t, t->root.addr);
	clear_from(f, c, t, g, first, last, path, g_top(f), false);
}

/*
 * clear_planned - clear_range() after @plan (plan_edges()) and
 * cut_edges().  In a tree no other thread edits, the tables the plan went
 * through are still there (a cut only turns leaves into tables), so the
 * walk starts where the plan ended when the range lies in that one table,
 * and clears it with clear_plain() when the plan found nothing there but
 * empty entries and plain leaves to remove whole.  Elsewhere a concurrent
 * unmap may have freed a table the plan went through: from the root then.
 */
VPTE_INLINE void clear_planned(const struct vpte_format *f, const struct vpte_codec *c,
			       const struct vpte_table *t, struct vpte_gather *g,
			       struct edge_plan *plan, uint64_t first, uint64_t last)
{
	if (table_concurrent(t) || !plan->one_table) {
		clear_range(f, c, t, g, first, last);
		return;
	}
	clear_from(f, c, t, g, first, last, plan->path, plan->level, !plan->cut && !plan->mixed);
}

/*
 * observe_leaves - tell the observer of each leaf in [first, last]: as
 * installed (@install: a map's private subtree once it is published,
 * map.h) or as removed (an unmap's leaves, all whole after cut_edges(),
 * before clear_range() removes them).  A walk of its own, so an edit
 * without an observer pays nothing for it; through the format's
 * out-of-line iteration, so an edit with one carries no second inlined
 * walk.
 */
VPTE_INLINE void observe_leaves(const struct vpte_format *f, const struct vpte_table *t,
				uint64_t first, uint64_t last, bool install)
{
	const struct vpte_observer *o = t->observer;
	struct vpte_walk w;
	if (!o || !(install ? o->install : o->remove))
		return;
	for (int ret = f->ops->iter_start(&w, t, vpte_va(ia_to_va(f, first)), last - first + 1u,
					  VPTE_ITER_LEAVES);
	     ret > 0; ret = f->ops->iter_next(&w)) {
		if (install)
			observe_install(t, w.va.addr, w.pa.addr, w.shift);
		else
			observe_remove(t, w.va.addr, w.pa.addr, w.shift);
	}
}

VPTE_INLINE int eng_unmap(const struct vpte_format *f, const struct vpte_codec *c,
			  struct vpte_table *t, vpte_va_t va, uint64_t size,
			  struct vpte_gather *gather)
{
	uint64_t first, last;
	struct vpte_pool pool = { 0 };
	struct edge_plan plan;
	int err = edges_prepare(f, c, t, va, size, NULL, gather, &first, &last, &plan, &pool);
	if (err)
		return err;
	struct vpte_gather local, *g = edit_gather(t, gather, &local);
	cut_edges(f, c, t, &pool, g, &plan, first, last);
	observe_leaves(f, t, first, last, false);
	clear_planned(f, c, t, g, &plan, first, last);
	vpte_pool_drain(&pool, t);
	edit_gather_end(g, &local);
	return 0;
}

#endif
