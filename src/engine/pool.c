/* SPDX-License-Identifier: MIT */
#include "engine/internal.h"

static uint64_t page_size(const struct vpte_table *t)
{
	return 1ull << t->fmt->granule_shift;
}

static uint64_t *page_ptr(const struct vpte_table *t, vpte_pa_t pa)
{
	return t->mem.ops->phys_to_virt(t->mem.ctx, pa, page_size(t));
}

int vpte_pool_fill(struct vpte_pool *pool, const struct vpte_table *t, uint64_t count)
{
	uint64_t size = page_size(t);
	while (pool->count < count) {
		vpte_pa_t pa;
		if (t->mem.ops->alloc(t->mem.ctx, size, size, &pa)) {
			vpte_pool_drain(pool, t);
			return -VPTE_ENOMEM;
		}
		vpte_pool_put(pool, t, pa);
	}
	return 0;
}

vpte_pa_t vpte_pool_take(struct vpte_pool *pool, const struct vpte_table *t)
{
	vpte_pa_t pa = pool->head;
	uint64_t *page = page_ptr(t, pa);
	pool->head = vpte_pa(page[0]);
	page[0] = 0;
	pool->count--;
	return pa;
}

void vpte_pool_put(struct vpte_pool *pool, const struct vpte_table *t, vpte_pa_t pa)
{
	uint64_t *page = page_ptr(t, pa);
	page[0] = pool->head.addr;
	pool->head = pa;
	pool->count++;
}

void vpte_pool_drain(struct vpte_pool *pool, const struct vpte_table *t)
{
	while (pool->count)
		t->mem.ops->free(t->mem.ctx, vpte_pool_take(pool, t), page_size(t));
}

bool vpte_page_is_zero(const void *table, uint64_t len)
{
	const uint64_t *entries = table;
	uint64_t any = 0;
	for (uint64_t i = 0; i < len / sizeof(uint64_t); i++)
		any |= entries[i];
	return any == 0;
}
