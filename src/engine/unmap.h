/* SPDX-License-Identifier: MIT */
/*
 * unmap.h - vpte_unmap: cut the range's edges (edges.h), then every leaf
 * inside the range is whole and is simply cleared.
 */
#ifndef VPTE_ENGINE_UNMAP_H
#define VPTE_ENGINE_UNMAP_H

#include "engine/edges.h"

/*
 * clear_range - remove every leaf in [first, last] (all whole, after
 * cut_edges()) and free each table that this leaves empty.  A table whose
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
			uint64_t span_ia = ia & ~mask_below(step);
			unsigned members = 1u << (step - g_shift(f, level));
			unsigned index = g_index(f, span_ia, level);
			for (unsigned i = 0; i < members; i++)
				slot_store(slot_at(path[level], index + i), 0);
			vpte_gather_leaf(g, ia_to_va(f, span_ia), step);
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
				vpte_gather_page(g, vpte_pa(table_pa), ia_to_va(f, start), span);
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
	struct vpte_pool pool = { vpte_pa(0), 0 };
	int err = edges_prepare(f, c, t, va, size, NULL, gather, &first, &last, &pool);
	if (err)
		return err;
	struct vpte_gather local, *g = edit_gather(t, gather, &local);
	cut_edges(f, c, t, &pool, g, first, last);
	clear_range(f, c, t, g, first, last);
	vpte_pool_drain(&pool, t);
	edit_gather_end(g, &local);
	return 0;
}

#endif
