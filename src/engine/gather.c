/* SPDX-License-Identifier: MIT */
#include "engine/internal.h"

static void gather_reset(struct vpte_gather *g)
{
	g->start = 0;
	g->last = 0;
	g->min_shift = 0;
	g->leaves_changed = false;
	g->tables_changed = false;
	g->nr_pages = 0;
}

void vpte_gather_init(struct vpte_gather *g, const struct vpte_table *t,
		      void (*invalidate)(void *ctx, const struct vpte_gather *g), void *ctx)
{
	g->table = t;
	g->invalidate = invalidate;
	g->ctx = ctx;
	gather_reset(g);
}

void vpte_gather_finish(struct vpte_gather *g)
{
	if (g->invalidate && (g->leaves_changed || g->tables_changed))
		g->invalidate(g->ctx, g);
	const struct vpte_table *t = g->table;
	const struct vpte_reclaim *r = t->reclaim;
	uint64_t size = 1ull << t->fmt->granule_shift;
	/* Walks that reached a page before it was unhooked may still read
	 * it: on a concurrent table it waits for the caller's grace period. */
	for (unsigned i = 0; i < g->nr_pages; i++) {
		if (r)
			r->retire(r->ctx, &t->mem, g->pages[i], size);
		else
			t->mem.ops->free(t->mem.ctx, g->pages[i], size);
	}
	gather_reset(g);
}

void vpte_gather_leaf(struct vpte_gather *g, uint64_t va, unsigned shift)
{
	uint64_t last = va + ((1ull << shift) - 1u);
	if (!g->leaves_changed) {
		g->start = va;
		g->last = last;
		g->min_shift = shift;
		g->leaves_changed = true;
		return;
	}
	if (va < g->start)
		g->start = va;
	if (last > g->last)
		g->last = last;
	if (shift < g->min_shift)
		g->min_shift = shift;
}

void vpte_gather_break(const struct vpte_gather *g, uint64_t va, unsigned shift)
{
	if (!g->invalidate)
		return;
	struct vpte_gather now = *g;
	gather_reset(&now);
	vpte_gather_leaf(&now, va, shift);
	now.tables_changed = true;
	g->invalidate(g->ctx, &now);
}

void vpte_gather_table(struct vpte_gather *g)
{
	g->tables_changed = true;
}

void vpte_gather_page(struct vpte_gather *g, vpte_pa_t pa, uint64_t va, unsigned shift)
{
	vpte_gather_leaf(g, va, shift);
	g->tables_changed = true;
	g->pages[g->nr_pages++] = pa;
	/* A full batch: the table is consistent here, so finish early. */
	if (g->nr_pages == VPTE_GATHER_BATCH)
		vpte_gather_finish(g);
}
