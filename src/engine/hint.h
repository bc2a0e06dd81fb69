/* SPDX-License-Identifier: MIT */
/*
 * hint.h - the leaf-table hint of a single-page map (struct vpte_map_hint,
 * vpte/vpte.h): a fault handler or a VMM filling memory page by page maps
 * consecutive pages, nearly always into the leaf table of the map before.
 *
 * The hint is validated, never trusted: it records the entry the descent
 * read at each level and where, and is used only when every one of them
 * still holds that value, compared from the root down.  The root and the
 * direct window being the ones recorded make the root's slot the one the
 * descent would read; an entry equal to the recorded one makes the table
 * it points to the one the descent would reach (the pointer derives from
 * the entry and the window alone, so a table freed and another allocated
 * at its PA is the live table, as it would be for the descent).  So no
 * memory is read that the descent would not read, and nothing has to tell
 * the hint that a table was freed.
 */
#ifndef VPTE_ENGINE_HINT_H
#define VPTE_ENGINE_HINT_H

#include "engine/walk.h"

/* The hint's key for @va: the last VA of its leaf table's span, which is
 * never 0 (a zeroed hint matches nothing). */
VPTE_INLINE uint64_t hint_span(const struct vpte_format *f, uint64_t va)
{
	return va | mask_below(g_shift(f, 1));
}

/*
 * hint_leaf_table - point *@table at the leaf table holding @va's entry,
 * from @t's hint, when the hint is for @va's span and still describes the
 * path the descent would take; false otherwise.
 */
VPTE_INLINE bool hint_leaf_table(const struct vpte_format *f, const struct vpte_table *t,
				 uint64_t va, void **table)
{
	const struct vpte_map_hint *h = &t->hint;
	const struct vpte_direct_map *d = t->mem.direct;
	if (hint_span(f, va) != h->span || d != h->direct)
		return false;
	/* A window moved or resized since, or another root, would put the
	 * recorded slots elsewhere: one test of them all. */
	if ((d->pa_base ^ h->pa_base) | (d->size ^ h->size) | (d->virt ^ h->virt) |
	    (t->root.addr ^ h->root))
		return false;
	VPTE_UNROLL_LEVELS
	for (unsigned i = 0; i + 1u < f->levels; i++)
		if (slot_load((vpte_slot_t *)h->slot[i]) != h->entry[i])
			return false;
	*table = h->leaf_table;
	return true;
}

/* Start recording a new path: the hint matches nothing until
 * hint_finish(), so a descent that stops half-way leaves no mixed path. */
VPTE_INLINE void hint_start(struct vpte_map_hint *h)
{
	h->span = 0;
}

/* The descent read @e at @slot, @i levels below the top. */
VPTE_INLINE void hint_step(struct vpte_map_hint *h, unsigned i, vpte_slot_t *slot, uint64_t e)
{
	h->slot[i] = (void *)slot;
	h->entry[i] = e;
}

/* The descent for @va reached @leaf_table through @view from @t's root. */
VPTE_INLINE void hint_finish(const struct vpte_format *f, const struct vpte_table *t,
			     struct vpte_map_hint *h, const struct mem_view *view, uint64_t va,
			     void *leaf_table)
{
	h->direct = t->mem.direct;
	h->pa_base = view->base;
	h->size = view->pages + g_page(f) - 1u; /* mem_view()'s pages, undone */
	h->virt = view->virt;
	h->root = t->root.addr;
	h->leaf_table = leaf_table;
	h->span = hint_span(f, va);
}

#endif
