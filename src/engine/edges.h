/* SPDX-License-Identifier: MIT */
/*
 * edges.h - splitting leaves: the one mechanism behind vpte_split and the
 * edges of vpte_unmap and vpte_protect.
 *
 * split_range() makes every leaf that meets a range no larger than a given
 * shift: a contiguous run that is too large loses its flag, a huge leaf
 * that is too large becomes a table of smaller leaves, level by level,
 * splitting only the pieces that meet the range.  An edit whose range ends
 * inside a leaf (unmap, protect) makes each end a leaf boundary the same
 * way: "x is a boundary" is "the leaf holding the address next to x, on the
 * range's side, is no larger than x's alignment" (cut_edges()).
 *
 * Order of work, so that a failure changes nothing: a read-only pass
 * checks the range and counts the tables the splits need (plan_edges(), or
 * vpte_split's own count); the caller fills a pool with that many pages;
 * only then is anything written, and the writing cannot fail.
 */
#ifndef VPTE_ENGINE_EDGES_H
#define VPTE_ENGINE_EDGES_H

#include "engine/leafbits.h"
#include "engine/table.h"

/* An attribute change (vpte_protect): each field is cleared, then set. */
struct prot_change {
	struct vpte_prot set, clear;
};

VPTE_INLINE struct vpte_prot prot_apply(const struct prot_change *ch, struct vpte_prot p)
{
	p.flags = (p.flags & ~ch->clear.flags) | ch->set.flags;
	p.memtype = (p.memtype & ~ch->clear.memtype) | ch->set.memtype;
	p.raw = (p.raw & ~ch->clear.raw) | ch->set.raw;
	return p;
}

/*
 * edit_check - the checks every edit of [va, va + size) starts with: the
 * table is writable, a gather is one of this table, the range is valid.
 * Sets the range in index addresses, *@last inclusive.
 */
VPTE_INLINE int edit_check(const struct vpte_format *f, const struct vpte_table *t, vpte_va_t va,
			   uint64_t size, const struct vpte_gather *gather, uint64_t *first,
			   uint64_t *last)
{
	if (t->flags & VPTE_TABLE_READONLY)
		return -VPTE_EROFS;
	if (gather && gather->table != t)
		return -VPTE_EINVAL;
	return check_va_range(f, va.addr, size, true, first, last);
}

/*
 * struct edge_plan - what plan_edges() found: the tables that splitting at
 * the range's edges will create (@count, each named by its level and the
 * index address it starts at); @cut: a leaf or run straddles an edge, so
 * cut_edges() has work (a run is cut without a new table).  And the table
 * the check ended in: its @level and the @path down to it; @one_table: the
 * whole range lies in it; @mixed: an entry of it in the range is neither
 * empty nor a plain leaf (a run member, an invalid entry with bits set).
 * The edit after the plan may start from that table instead of the root
 * (clear_planned(), unmap.h) where no other thread edits the tree.
 */
struct edge_plan {
	unsigned count, level;
	bool cut, one_table, mixed;
	void *path[VPTE_MAX_LEVELS];
	struct {
		unsigned level;
		uint64_t ia;
	} tables[2 * VPTE_MAX_LEVELS];
};

/* Plan the split that makes @x a boundary inside the leaf entry at @level. */
VPTE_INLINE void plan_edge(const struct vpte_format *f, struct edge_plan *plan, unsigned level,
			   uint64_t x)
{
	for (; level > 0 && (x & mask_below(g_shift(f, level))); level--) {
		uint64_t start = x & ~mask_below(g_shift(f, level));
		bool known = false;
		for (unsigned i = 0; i < plan->count; i++)
			known |= plan->tables[i].level == level - 1u && plan->tables[i].ia == start;
		if (!known) {
			plan->tables[plan->count].level = level - 1u;
			plan->tables[plan->count].ia = start;
			plan->count++;
		}
	}
}

/* The index of the last entry of the table at @level holding @ia that
 * [ia, last] reaches. */
VPTE_INLINE unsigned stretch_end(const struct vpte_format *f, unsigned level, uint64_t ia,
				 uint64_t last)
{
	if (level == g_top(f) || !((ia ^ last) >> g_shift(f, level + 1u)))
		return g_index(f, last, level);
	return g_entries(f, level) - 1u;
}

/* The index address that entry 0 of the table at @level holding @ia maps. */
VPTE_INLINE uint64_t table_base(const struct vpte_format *f, unsigned level, uint64_t ia)
{
	return level == g_top(f) ? 0 : ia & ~mask_below(g_shift(f, level + 1u));
}

/*
 * plan_leaf - plan_edges() for the leaf @e, entry *@i at @level of @table
 * (whose entry 0 maps index address @base).  @edge: the entry holds first
 * or last, so it may reach out of the range.  Sets *@i to the leaf's last
 * member.
 */
VPTE_INLINE int plan_leaf(const struct vpte_format *f, const struct vpte_codec *c,
			  vpte_slot_t *table, unsigned level, uint64_t base, unsigned *i,
			  uint64_t e, bool edge, uint64_t first, uint64_t last,
			  const struct prot_change *change, struct edge_plan *plan)
{
	uint64_t span_ia = base + ((uint64_t)*i << g_shift(f, level));
	unsigned span = g_shift(f, level);
	if (f->cont_bits[level] && c->leaf_cont(f, e, level)) {
		struct vpte_walk w;
		plan->mixed = true;
		w.path[level] = table;
		describe(f, c, &w, level, span_ia, e, VPTE_LEAF);
		if (!run_consistent(f, c, &w))
			return -VPTE_EFAULT;
		span = w.shift;
		span_ia = w.index_addr;
		*i = g_index(f, span_ia, level) + (1u << f->cont_bits[level]) - 1u;
		edge = true;
	}
	if (!edge && !change)
		return 0;
	bool before = span_ia < first, after = span_ia + mask_below(span) > last;
	struct vpte_prot prot = c->leaf_prot(f, e, level);
	if (((before || after) && !c->prot_ok(f, prot)) ||
	    (change && !c->prot_ok(f, prot_apply(change, prot))))
		return -VPTE_EINVAL;
	plan->cut |= before || after;
	if (before)
		plan_edge(f, plan, level, first);
	if (after)
		plan_edge(f, plan, level, last + 1u);
	return 0;
}

/*
 * plan_entry - plan_edges() for entry *@i of the table at @level: 0 when
 * done with it, 1 for a table entry to go down into, or an error.
 */
VPTE_INLINE int plan_entry(const struct vpte_format *f, const struct vpte_codec *c,
			   vpte_slot_t *table, unsigned level, uint64_t base, unsigned *i,
			   bool edge, uint64_t first, uint64_t last,
			   const struct prot_change *change, struct edge_plan *plan)
{
	uint64_t e = slot_load_made(c, slot_at(table, *i));
	int kind = c->kind(f, e, level);
	if (kind == VPTE_HOLE) {
		plan->mixed |= e != 0;
		return 0;
	}
	if (kind == VPTE_KIND_CORRUPT)
		return -VPTE_EFAULT;
	if (kind == VPTE_TABLE)
		return 1;
	return plan_leaf(f, c, table, level, base, i, e, edge, first, last, change, plan);
}

/*
 * plan_table - plan_edges() for entries *@i..@end of the table at @level:
 * 0 when all are done, 1 with *@i at a table entry to go down into, or an
 * error.  Only the first and the last entry can hold a leaf reaching out
 * of the range; the loop over those between is inlined with @level 0 and
 * @change NULL as constants for the leaf tables, where nearly all the
 * entries are.  An empty entry, or a plain leaf agreeing with the last
 * one checked (under plain_mask(); with a change, in every bit outside
 * the PA field, which is what its attributes and so the change's result
 * depend on) costs a load and a compare; only the others go through
 * kind() and plan_entry().
 */
VPTE_INLINE int plan_table(const struct vpte_format *f, const struct vpte_codec *c,
			   vpte_slot_t *table, unsigned level, uint64_t base, unsigned *i,
			   unsigned end, uint64_t first, uint64_t last,
			   const struct prot_change *change, struct edge_plan *plan)
{
	/* With a change, the attributes decide whether it is encodable, and
	 * they lie outside the PA field only. */
	const uint64_t mask = change ? ~pa_field(f, c, level) : plain_mask(f, c, level);
	uint64_t key = MEMO_NONE;
	int ret = plan_entry(f, c, table, level, base, i, true, first, last, change, plan);
	if (ret)
		return ret;
	for ((*i)++; *i < end; (*i)++) {
		vpte_slot_t *slot = slot_at(table, *i), *stop = slot_at(table, end);
		uint64_t e = slot_load(slot);
		/* A local cursor: *i in the loop would be a store per entry. */
		for (; slot < stop; e = slot_load(++slot)) {
			if ((e & mask) == key)
				slot = skip_alike(slot, stop, mask, key);
			else if (e != 0)
				break;
		}
		*i = (unsigned)(slot - (vpte_slot_t *)table);
		if (*i == end)
			break;
		if ((ret = plan_entry(f, c, table, level, base, i, false, first, last, change, plan)))
			return ret;
		key = plain_key(f, c, e, level, mask, key);
	}
	if (*i == end)
		return plan_entry(f, c, table, level, base, i, true, first, last, change, plan);
	return 0;
}

/*
 * plan_edges - check every entry in [first, last] and plan the splits at
 * both edges.  A straddling leaf must be re-encodable at a smaller size.
 * @change: the attribute change the edit makes to every leaf in the range
 * (vpte_protect), whose result must be encodable too; NULL when the
 * leaves go (vpte_unmap).  Each table's entries are checked in one loop (a
 * leaf inside the range costs a load and a classification); a contiguous
 * run is checked as a whole, as iteration does (run_consistent()).
 */
VPTE_INLINE int plan_edges(const struct vpte_format *f, const struct vpte_codec *c,
			   const struct vpte_table *t, uint64_t first, uint64_t last,
			   const struct prot_change *change, struct edge_plan *plan)
{
	void **path = plan->path;
	unsigned level = g_top(f);
	uint64_t ia = first;
	plan->count = 0;
	plan->cut = false;
	path[level] = tab_ptr(f, t, t->root.addr);
	if (!path[level])
		return -VPTE_EFAULT;
	for (;;) {
		unsigned shift = g_shift(f, level), end = stretch_end(f, level, ia, last);
		unsigned i = g_index(f, ia, level);
		uint64_t base = table_base(f, level, ia);
		plan->mixed = false;
		int ret = level || change ? plan_table(f, c, path[level], level, base, &i, end,
						       first, last, change, plan)
					  : plan_table(f, c, path[0], 0, base, &i, end, first, last, NULL,
						       plan);
		if (ret < 0)
			return ret;
		if (ret) {
			uint64_t e = slot_load(slot_at(path[level], i));
			ia = base + ((uint64_t)i << shift);
			ia = ia > first ? ia : first;
			/* Freed meanwhile by a concurrent unmap (clear_range()):
			 * look at the entry again. */
			if (c->kind(f, e, level) != VPTE_TABLE)
				continue;
			if (!(path[level - 1u] = tab_ptr(f, t, c->table_pa(f, e))))
				return -VPTE_EFAULT;
			level--;
			continue;
		}
		/* This table is done: on to the entry after the last one seen. */
		uint64_t next = base + ((uint64_t)end << shift) + (1ull << shift);
		if (next > last || next > g_ia_mask(f)) {
			/* Only a walk that went straight down starts a
			 * table's stretch at first. */
			plan->one_table = ia == first;
			plan->level = level;
			return 0;
		}
		ia = next;
		while (level < g_top(f) && !(ia & mask_below(g_shift(f, level + 1u))))
			level++;
	}
}

/*
 * rewrite_leaf - rewrite the @members entries of one leaf or run at
 * @level, from @first (the entry mapping @span_ia) on: each keeps its own
 * PA and accessed/dirty state, gets @change applied to its attributes
 * (NULL: none) and @cont as its run flag.  Only the bits in which the old
 * and the new attributes' encodings differ are flipped, so bits vpte has no
 * name for stay (in a foreign table: arm64 DBM, a PXN the attributes do not
 * imply); a memory type vpte cannot name has no encoding to differ from and
 * is replaced whole (the change must then set one).  Each entry is replaced
 * by compare-and-swap, so an accessed or dirty flag the hardware sets
 * meanwhile is kept.  Returns whether any entry changed.
 */
/* What rewrite_leaf() makes of the member @e (mapping @member_ia). */
VPTE_INLINE uint64_t leaf_rewritten(const struct vpte_format *f, const struct vpte_codec *c,
				    uint64_t e, unsigned level, uint64_t member_ia,
				    const struct prot_change *change, bool cont)
{
	uint64_t pa = c->leaf_pa(f, e, level, member_ia);
	struct vpte_prot old = c->leaf_prot(f, e, level);
	struct vpte_prot prot = change ? prot_apply(change, old) : old;
	uint64_t next = c->make_leaf(f, pa, level, prot, cont);
	if (old.memtype != VPTE_MT_OTHER)
		next ^= e ^ c->make_leaf(f, pa, level, old, c->leaf_cont(f, e, level));
	return next;
}

VPTE_INLINE bool rewrite_leaf(const struct vpte_format *f, const struct vpte_codec *c,
			      vpte_slot_t *first, unsigned members, unsigned level,
			      uint64_t span_ia, const struct prot_change *change, bool cont)
{
	bool changed = false;
	for (unsigned i = 0; i < members; i++) {
		uint64_t member_ia = span_ia + ((uint64_t)i << g_shift(f, level));
		uint64_t e = slot_load(first + i), next;
		do {
			next = leaf_rewritten(f, c, e, level, member_ia, change, cont);
		} while (next != e &&
			 !atomic_compare_exchange_weak_explicit(first + i, &e, next,
								memory_order_release,
								memory_order_acquire));
		changed |= next != e;
	}
	return changed;
}

/*
 * break_run - rewrite_leaf() without the run flag, by break-before-make
 * (Arm ARM D8.16.1: the contiguous flag of live entries changes): every
 * member is swapped for SLOT_BREAK (the swap returns it with whatever
 * accessed or dirty flag the hardware set), the run's TLB entries are
 * invalidated through @g, and each member is made again, plain.  Two
 * edits cutting one run at once both start with the first member: the one
 * that finds it broken, plain, or changed under its swap leaves the run to
 * the other (the caller reads the entry again, waiting for the make).
 */
VPTE_INLINE void break_run(const struct vpte_format *f, const struct vpte_codec *c,
			   struct vpte_gather *g, vpte_slot_t *first, unsigned level,
			   uint64_t span_ia)
{
	uint64_t old[1u << 7]; /* the longest run: 128 x 16 KiB */
	unsigned members = 1u << f->cont_bits[level];
	old[0] = slot_load_made(c, first);
	if (c->kind(f, old[0], level) != VPTE_LEAF || !c->leaf_cont(f, old[0], level) ||
	    !atomic_compare_exchange_strong_explicit(first, &old[0], SLOT_BREAK,
						     memory_order_acq_rel, memory_order_relaxed))
		return;
	for (unsigned i = 1; i < members; i++)
		old[i] = atomic_exchange_explicit(first + i, SLOT_BREAK, memory_order_acq_rel);
	vpte_gather_break(g, ia_to_va(f, span_ia), g_shift(f, level) + f->cont_bits[level]);
	for (unsigned i = 0; i < members; i++)
		slot_store(first + i,
			   leaf_rewritten(f, c, old[i], level,
					  span_ia + ((uint64_t)i << g_shift(f, level)), NULL, false));
}

/*
 * split_table - a new table, one level below @level, of leaves mapping
 * what the single leaf @e (its span at @span_ia) maps, with its attributes.
 * They form contiguous runs where the format has them, except runs that
 * meet [plain_first, plain_last] (empty when plain_first > plain_last):
 * those are written as single leaves, so a run the caller would cut at
 * once never exists.  Tells the observer: the leaf became runs (or
 * leaves), then each run written plain became leaves.  The table is
 * written whole, so its page need not be zeroed (vpte_pool_take_whole()),
 * its plain leaves from one encoding stepped by PA (leaf_step()).  Returns
 * the table's PA; the caller publishes it.
 */
VPTE_INLINE uint64_t split_table(const struct vpte_format *f, const struct vpte_codec *c,
				 const struct vpte_table *t, struct vpte_pool *pool, uint64_t e,
				 unsigned level, uint64_t span_ia, uint64_t plain_first,
				 uint64_t plain_last)
{
	unsigned lower = level - 1u, lower_shift = g_shift(f, lower);
	unsigned run_shift = lower_shift + f->cont_bits[lower];
	unsigned members = 1u << f->cont_bits[lower];
	unsigned n = g_entries(f, lower), plain_from = 0;
	uint64_t pa = c->leaf_pa(f, e, level, span_ia);
	struct vpte_prot prot = c->leaf_prot(f, e, level);
	vpte_pa_t table_pa = vpte_pool_take_whole(pool, t);
	vpte_slot_t *table = tab_ptr(f, t, table_pa.addr);
	uint64_t e0 = c->make_leaf(f, pa, lower, prot, false);
	uint64_t step = leaf_step(f, c, prot, lower, pa, e0, n);

	/* Without runs at this level, and stepped, all of it is the fill below. */
	unsigned runs_end = members == 1u && step ? 0 : n;

	observe_split(t, ia_to_va(f, span_ia), pa, g_shift(f, level), run_shift);
	for (unsigned run = 0; run < runs_end; run += members) {
		uint64_t run_ia = span_ia + ((uint64_t)run << lower_shift);
		uint64_t run_pa = pa + ((uint64_t)run << lower_shift);
		bool cont = members > 1u &&
			    (run_ia > plain_last || run_ia + mask_below(run_shift) < plain_first);
		if (members > 1u && !cont)
			observe_split(t, ia_to_va(f, run_ia), run_pa, run_shift, lower_shift);
		/* Plain leaves stepped by PA: written together, below. */
		if (!cont && step)
			continue;
		fill_private(&t->mem, table + plain_from, run - plain_from, e0 + plain_from * step,
			     step);
		plain_from = run + members;
		for (unsigned i = 0; i < members; i++)
			slot_store(table + run + i,
				   c->make_leaf(f, run_pa + ((uint64_t)i << lower_shift), lower, prot,
						cont));
	}
	fill_private(&t->mem, table + plain_from, n - plain_from, e0 + plain_from * step, step);
	return table_pa.addr;
}

/* What split_range() does: leaves meeting [first, last] become no larger
 * than 2^shift; @report: record the leaves split in the gather. */
struct split_req {
	uint64_t first, last;
	unsigned shift;
	bool report;
};

/*
 * split_range - split every leaf that meets [r->first, r->last] and is
 * larger than 2^r->shift, using the pool's pages (planned: cannot fail).
 *
 * A leaf larger than the shift becomes a table one level down whose runs
 * meeting the range are written plain when they are too large, and the
 * walk goes on into it: pieces that still meet the range and are too large
 * are split in turn, the others stay as large as they are.  The new tables
 * under one split leaf are filled in before the topmost is published by
 * one store, once the walk leaves its span: a concurrent walker sees the
 * old leaf or the finished tables, both translating alike.  A run larger
 * than the shift loses its flag in place (each member keeps translating
 * its own part).
 *
 * With @r->report, each split leaf and broken run goes into the gather
 * (TLB entries of the old size must go); edits that change the range
 * afterwards record that change instead.  Reads only entries that meet the
 * range.
 *
 * An edge cut (one address) on a concurrent table publishes by
 * compare-and-swap from the leaf it read: the edits of two neighbouring
 * ranges may cut one huge leaf that straddles both at once.  The loser
 * empties its new tables, gives them back to the pool and starts again
 * from the root, where it finds the winner's table (a split never needs
 * more tables in a table more split than planned).  A lost swap also
 * means the leaf changed (accessed, dirty), which the new tables would
 * not hold: starting again takes the change along.
 */
VPTE_INLINE void split_range(const struct vpte_format *f, const struct vpte_codec *c,
			     const struct vpte_table *t, struct vpte_pool *pool,
			     struct vpte_gather *g, const struct split_req *r)
{
	void *path[VPTE_MAX_LEVELS];
	unsigned level = g_top(f);
	uint64_t ia = r->first;
	/* The topmost new table not yet published: its entry, slot and level,
	 * the leaf it replaces, and the new tables under it so far (one per
	 * level for one address). */
	vpte_slot_t *pending_slot = NULL;
	uint64_t pending_entry = 0, pending_old = 0;
	uint64_t pending_ia = 0;
	unsigned pending_level = 0, fresh = 0;
	uint64_t fresh_pa[VPTE_MAX_LEVELS];
	const bool swap = r->first == r->last && table_concurrent(t);

	path[level] = tab_ptr(f, t, t->root.addr);
	for (;;) {
		vpte_slot_t *slot = slot_at(path[level], g_index(f, ia, level));
		uint64_t e = slot_load_made(c, slot);
		int kind = c->kind(f, e, level);
		unsigned entry_shift = g_shift(f, level), step = entry_shift;
		if (kind == VPTE_TABLE) {
			path[level - 1u] = tab_ptr(f, t, c->table_pa(f, e));
			level--;
			continue;
		}
		if (kind == VPTE_LEAF)
			step = leaf_shift(f, c, e, level);
		if (kind == VPTE_LEAF && step > r->shift) {
			uint64_t span_ia = ia & ~mask_below(step);
			/* Leaves in a new table were never seen: nothing to report. */
			if (r->report && !pending_slot)
				vpte_gather_leaf(g, ia_to_va(f, span_ia), step);
			if (step != entry_shift) {
				uint64_t entry_ia = ia & ~mask_below(entry_shift);
				observe_split(t, ia_to_va(f, span_ia),
					      c->leaf_pa(f, e, level, entry_ia) - (entry_ia - span_ia),
					      step, entry_shift);
				vpte_slot_t *run = slot_at(path[level], g_index(f, span_ia, level));
				if (c->break_before_make && !pending_slot)
					break_run(f, c, g, run, level, span_ia);
				else
					rewrite_leaf(f, c, run, 1u << (step - entry_shift), level,
						     span_ia, NULL, false);
				continue;
			}
			bool plain = g_shift(f, level - 1u) + f->cont_bits[level - 1u] > r->shift;
			uint64_t table_pa = split_table(f, c, t, pool, e, level, span_ia,
							plain ? r->first : 1u, plain ? r->last : 0u);
			uint64_t table_entry = c->make_table(f, table_pa);
			if (pending_slot) {
				slot_store(slot, table_entry);
			} else {
				pending_slot = slot;
				pending_entry = table_entry;
				pending_old = e;
				pending_level = level;
				pending_ia = span_ia;
			}
			if (fresh < VPTE_MAX_LEVELS)
				fresh_pa[fresh++] = table_pa;
			path[level - 1u] = tab_ptr(f, t, table_pa);
			level--;
			if (g_shift(f, level) > r->shift)
				continue;
			/* Nothing in the new table is too large: past its
			 * entries in the range at once. */
			uint64_t table_last = span_ia + mask_below(g_shift(f, level + 1u));
			step = g_shift(f, level);
			ia = (table_last < r->last ? table_last : r->last) & ~mask_below(step);
		}

		uint64_t next = span_next(ia, step);
		bool done = next > r->last || next > g_ia_mask(f);
		ia = next;
		/* Leave each table this step finishes; publish a finished split. */
		bool lost = false;
		while (level < g_top(f) && (done || !(ia & mask_below(g_shift(f, level + 1u))))) {
			level++;
			if (pending_slot && level == pending_level) {
				/* Break-before-make (Arm ARM D8.16.1): the block
				 * goes, its TLB entries go, then the table comes. */
				uint64_t make = c->break_before_make ? SLOT_BREAK : pending_entry;
				if (!swap) {
					slot_store(pending_slot, make);
				} else if (!atomic_compare_exchange_strong_explicit(
						   pending_slot, &pending_old, make,
						   memory_order_release, memory_order_relaxed)) {
					lost = true;
					break;
				}
				if (c->break_before_make) {
					vpte_gather_break(g, ia_to_va(f, pending_ia),
							  g_shift(f, pending_level));
					slot_store(pending_slot, pending_entry);
				}
				vpte_gather_table(g);
				pending_slot = NULL;
				fresh = 0;
			}
		}
		if (lost) {
			/* Never published: empty the tables, back to the pool. */
			for (unsigned i = 0; i < fresh; i++) {
				vpte_slot_t *page = tab_ptr(f, t, fresh_pa[i]);
				for (unsigned k = 0; k < g_entries(f, 0); k++)
					slot_store(page + k, 0);
				vpte_pool_put(pool, t, vpte_pa(fresh_pa[i]));
			}
			pending_slot = NULL;
			fresh = 0;
			level = g_top(f);
			ia = r->first;
			continue;
		}
		if (done)
			return;
	}
}

/*
 * cut_edges - make the ends of [first, last] leaf boundaries, with the
 * pages @plan (plan_edges()) counted.  The end at x is cut through its side inside
 * the range, so that an entry that merely starts at last + 1 is never read:
 * it lies outside the range and may be anything, even corrupt.
 */
VPTE_INLINE void cut_edges(const struct vpte_format *f, const struct vpte_codec *c,
			   const struct vpte_table *t, struct vpte_pool *pool,
			   struct vpte_gather *g, const struct edge_plan *plan, uint64_t first,
			   uint64_t last)
{
	/* Nothing straddles an edge: no leaf can come to straddle one before
	 * this edit ends either, as concurrent edits keep to disjoint
	 * ranges (and a split or collapse to its caller's). */
	if (!plan->cut)
		return;
	/* Alignment of the boundary: leaves up to that size cannot straddle it. */
	struct split_req start = { first, first, first ? (unsigned)__builtin_ctzll(first) : 63u,
				   false };
	split_range(f, c, t, pool, g, &start);
	if (last < g_ia_mask(f)) {
		struct split_req end = { last, last, (unsigned)__builtin_ctzll(last + 1u), false };
		split_range(f, c, t, pool, g, &end);
	}
}

/*
 * edges_prepare - the read-only start of an edit that cuts its range's
 * edges: edit_check(), plan_edges() (with @change) into @plan, and @pool
 * filled with the pages the cuts need.  On error nothing was changed or
 * kept.
 */
VPTE_INLINE int edges_prepare(const struct vpte_format *f, const struct vpte_codec *c,
			      const struct vpte_table *t, vpte_va_t va, uint64_t size,
			      const struct prot_change *change, const struct vpte_gather *gather,
			      uint64_t *first, uint64_t *last, struct edge_plan *plan,
			      struct vpte_pool *pool)
{
	int err = edit_check(f, t, va, size, gather, first, last);
	if (!err)
		err = plan_edges(f, c, t, *first, *last, change, plan);
	if (err || !plan->count)
		return err;
	return vpte_pool_fill(pool, t, plan->count);
}

#endif
