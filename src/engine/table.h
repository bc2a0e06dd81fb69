/* SPDX-License-Identifier: MIT */
/*
 * table.h - whole-table walks: teardown.
 */
#ifndef VPTE_ENGINE_TABLE_H
#define VPTE_ENGINE_TABLE_H

#include "engine/walk.h"

/*
 * eng_destroy - free every table page below the root, children before
 * parents, then the root.  Bounded by the level count like every walk, so
 * a table entry pointing back up the tree cannot loop; such a tree is not
 * one vpte built, and its shared pages would be freed twice, so destroy is
 * for tables created with vpte_table_init() or attached writable ones that
 * the caller knows to be trees.
 */
VPTE_INLINE int eng_destroy(const struct vpte_format *f, const struct vpte_codec *c,
			    struct vpte_table *t)
{
	void *path[VPTE_MAX_LEVELS];
	vpte_pa_t path_pa[VPTE_MAX_LEVELS];
	unsigned level = g_top(f);
	uint64_t ia = 0;
	int err = 0;

	if (t->flags & VPTE_TABLE_READONLY)
		return 0;
	path[level] = tab_ptr(f, t, t->root.addr);
	path_pa[level] = t->root;
	if (!path[level])
		return -VPTE_EFAULT;
	for (;;) {
		uint64_t e = slot_load(slot_at(path[level], g_index(f, ia, level)));
		int kind = c->kind(f, e, level);
		if (kind == VPTE_TABLE) {
			void *lower = tab_ptr(f, t, c->table_pa(f, e));
			if (lower) {
				level--;
				path[level] = lower;
				path_pa[level] = vpte_pa(c->table_pa(f, e));
				continue;
			}
			err = -VPTE_EFAULT;
		} else if (kind == VPTE_KIND_CORRUPT) {
			err = -VPTE_EFAULT;
		}
		uint64_t next = (ia & ~mask_below(g_shift(f, level))) + (1ull << g_shift(f, level));
		bool done = next > g_ia_mask(f);
		ia = next;
		while (level < g_top(f) && (done || !(ia & mask_below(g_shift(f, level + 1u))))) {
			t->mem.ops->free(t->mem.ctx, path_pa[level], g_page(f));
			level++;
		}
		if (done)
			break;
	}
	t->mem.ops->free(t->mem.ctx, t->root, g_page(f));
	return err;
}

#endif
