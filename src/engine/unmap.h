/* SPDX-License-Identifier: MIT */
/*
 * unmap.h - vpte_unmap and the splitting it needs.
 *
 * An edit whose range ends inside a huge leaf or a contiguous run first
 * makes each end of the range a leaf boundary ("edges"): the run loses its
 * contiguous flag, the huge leaf becomes a full table of smaller leaves,
 * level by level until the boundary is reached.  Then every leaf inside the
 * range is whole and is simply cleared.
 *
 * Order of work, so that a failure changes nothing: a read-only pass over
 * the range checks every entry and finds the leaves at the edges; the
 * tables the splits need are counted and allocated; only then is anything
 * written.
 */
#ifndef VPTE_ENGINE_UNMAP_H
#define VPTE_ENGINE_UNMAP_H

#include "engine/map.h"

/* The tables that splitting at the range's edges will create, each named by
 * its level and the index address it starts at. */
struct edge_plan {
	unsigned count;
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

/*
 * plan_edges - check every entry in [first, last] and plan the splits at
 * both edges.  A straddling leaf must be re-encodable at a smaller size.
 */
VPTE_INLINE int plan_edges(const struct vpte_format *f, const struct vpte_codec *c,
			   const struct vpte_table *t, uint64_t first, uint64_t last,
			   struct edge_plan *plan)
{
	struct vpte_walk w;
	int ret;
	plan->count = 0;
	for (ret = eng_iter_start(f, c, &w, t, vpte_va(ia_to_va(f, first)), last - first + 1u,
				  VPTE_ITER_LEAVES);
	     ret > 0; ret = eng_iter_next(f, c, &w)) {
		uint64_t end = w.index_addr + mask_below(w.shift);
		bool straddles = w.index_addr < first || end > last;
		if (straddles && !c->prot_ok(f, w.prot))
			return -VPTE_EINVAL;
		if (w.index_addr < first)
			plan_edge(f, plan, w.level, first);
		if (end > last)
			plan_edge(f, plan, w.level, last + 1u);
	}
	return ret;
}

/* Rewrite the members of the run at @ia (level @level) without the
 * contiguous flag; each keeps its own accessed/dirty state. */
VPTE_INLINE void break_run(const struct vpte_format *f, const struct vpte_codec *c, void *table,
			   unsigned level, uint64_t ia)
{
	unsigned entry_shift = g_shift(f, level);
	uint64_t run_ia = ia & ~mask_below(entry_shift + f->cont_bits[level]);
	unsigned first = g_index(f, run_ia, level), members = 1u << f->cont_bits[level];
	for (unsigned i = 0; i < members; i++) {
		vpte_slot_t *slot = slot_at(table, first + i);
		uint64_t e = slot_load(slot);
		uint64_t member_ia = run_ia + ((uint64_t)i << entry_shift);
		slot_store(slot, c->make_leaf(f, c->leaf_pa(f, e, level, member_ia), level,
					      c->leaf_prot(f, e, level), false));
	}
}

/*
 * split_leaf - replace leaf @e at @slot (level @level, entry at @entry_ia)
 * by a table of leaves one level down, as contiguous runs where the format
 * has them.  The table is complete before one store publishes it, so a
 * concurrent walker sees the old leaf or the new table, both translating
 * alike.
 */
VPTE_INLINE void *split_leaf(const struct vpte_format *f, const struct vpte_codec *c,
			     const struct vpte_table *t, struct vpte_pool *pool,
			     struct vpte_gather *g, vpte_slot_t *slot, uint64_t e, unsigned level,
			     uint64_t entry_ia)
{
	unsigned lower = level - 1u, lower_shift = g_shift(f, lower);
	uint64_t pa = c->leaf_pa(f, e, level, entry_ia);
	struct vpte_prot prot = c->leaf_prot(f, e, level);
	bool cont = f->cont_bits[lower] != 0;
	vpte_pa_t table_pa = vpte_pool_take(pool, t);
	void *table = tab_ptr(f, t, table_pa.addr);
	for (unsigned i = 0; i < g_entries(f, lower); i++)
		slot_store(slot_at(table, i),
			   c->make_leaf(f, pa + ((uint64_t)i << lower_shift), lower, prot, cont));
	slot_store(slot, c->make_table(f, table_pa.addr));
	vpte_gather_table(g);
	return table;
}

/*
 * make_edge - make @x a leaf boundary, using pages planned in @pool.
 * @inner: the side of the boundary inside the range (x itself for the
 * range's start, x - 1 for its end).  Entries are found through @inner and
 * only while they straddle @x, so make_edge reads nothing but the path
 * that plan_edges() checked: an entry that merely starts at @x lies
 * outside the range and may be anything, even corrupt.
 */
VPTE_INLINE void make_edge(const struct vpte_format *f, const struct vpte_codec *c,
			   const struct vpte_table *t, struct vpte_pool *pool,
			   struct vpte_gather *g, uint64_t x, uint64_t inner)
{
	void *table = tab_ptr(f, t, t->root.addr);
	for (unsigned level = g_top(f);; level--) {
		vpte_slot_t *slot = slot_at(table, g_index(f, inner, level));
		uint64_t e = slot_load(slot);
		int kind = c->kind(f, e, level);
		unsigned entry_shift = g_shift(f, level);
		if (kind == VPTE_TABLE && (x & mask_below(entry_shift))) {
			table = tab_ptr(f, t, c->table_pa(f, e));
			continue;
		}
		if (kind != VPTE_LEAF)
			return;
		unsigned span = leaf_shift(f, c, e, level);
		if (span != entry_shift && (x & mask_below(span))) {
			break_run(f, c, table, level, inner);
			e = slot_load(slot);
		}
		if (!(x & mask_below(entry_shift)))
			return;
		table = split_leaf(f, c, t, pool, g, slot, e, level, inner & ~mask_below(entry_shift));
	}
}

/*
 * clear_range - remove every leaf in [first, last] (all whole, after
 * make_edge) and free each table that this leaves empty.  A table whose
 * span lies inside the range is empty once the walk leaves it, whatever
 * it held (an attached table may hold empty lower tables vpte would never
 * build), so it goes without a look.  One the range covers in part goes
 * if this walk changed it and it is now all zero: a table the walk did not
 * touch may be one that a concurrent map of a neighbouring range has just
 * installed and is about to fill.
 */
VPTE_INLINE void clear_range(const struct vpte_format *f, const struct vpte_codec *c,
			     const struct vpte_table *t, struct vpte_gather *g, uint64_t first,
			     uint64_t last)
{
	void *path[VPTE_MAX_LEVELS];
	bool touched[VPTE_MAX_LEVELS] = { false };
	unsigned level = g_top(f);
	uint64_t ia = first;

	path[level] = tab_ptr(f, t, t->root.addr);
	for (;;) {
		vpte_slot_t *slot = slot_at(path[level], g_index(f, ia, level));
		uint64_t e = slot_load(slot);
		int kind = c->kind(f, e, level);
		unsigned step = g_shift(f, level);
		if (kind == VPTE_TABLE) {
			path[level - 1u] = tab_ptr(f, t, c->table_pa(f, e));
			level--;
			touched[level] = false;
			continue;
		}
		if (kind == VPTE_LEAF) {
			step = leaf_shift(f, c, e, level);
			unsigned members = 1u << (step - g_shift(f, level));
			unsigned index = g_index(f, ia & ~mask_below(step), level);
			for (unsigned i = 0; i < members; i++)
				slot_store(slot_at(path[level], index + i), 0);
			vpte_gather_leaf(g, ia_to_va(f, ia & ~mask_below(step)), step);
			touched[level] = true;
		}

		uint64_t here = ia;
		uint64_t next = (ia & ~mask_below(step)) + (1ull << step);
		bool done = next > last || next > g_ia_mask(f);
		ia = next;
		/* Leave each table this step finishes; free it if now empty. */
		while (level < g_top(f) && (done || !(ia & mask_below(g_shift(f, level + 1u))))) {
			unsigned span = g_shift(f, level + 1u);
			uint64_t start = here & ~mask_below(span);
			bool covered = start >= first && start + mask_below(span) <= last;
			if (covered || (touched[level] && vpte_page_is_zero(path[level], g_page(f)))) {
				vpte_slot_t *parent = slot_at(path[level + 1u], g_index(f, here, level + 1u));
				uint64_t table_pa = c->table_pa(f, slot_load(parent));
				slot_store(parent, 0);
				vpte_gather_page(g, vpte_pa(table_pa));
				touched[level + 1u] = true;
			}
			level++;
		}
		if (done)
			return;
	}
}

VPTE_INLINE int eng_unmap(const struct vpte_format *f, const struct vpte_codec *c,
			  struct vpte_table *t, vpte_va_t va, uint64_t size,
			  struct vpte_gather *gather)
{
	uint64_t first, last;
	struct edge_plan plan;
	if (t->flags & VPTE_TABLE_READONLY)
		return -VPTE_EROFS;
	int err = check_va_range(f, va.addr, size, true, &first, &last);
	if (err)
		return err;
	if ((err = plan_edges(f, c, t, first, last, &plan)))
		return err;
	struct vpte_pool pool = { vpte_pa(0), 0 };
	if ((err = vpte_pool_fill(&pool, t, plan.count)))
		return err;

	struct vpte_gather local;
	struct vpte_gather *g = gather;
	if (!g) {
		vpte_gather_init(&local, t, NULL, NULL);
		g = &local;
	}
	make_edge(f, c, t, &pool, g, first, first);
	if (last < g_ia_mask(f))
		make_edge(f, c, t, &pool, g, last + 1u, last);
	clear_range(f, c, t, g, first, last);
	vpte_pool_drain(&pool, t);
	if (!gather)
		vpte_gather_finish(&local);
	return 0;
}

#endif
