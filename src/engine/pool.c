/* SPDX-License-Identifier: MIT */
#include "engine/internal.h"

static uint64_t page_size(const struct vpte_table *t)
{
	return 1ull << t->fmt->granule_shift;
}

static uint64_t *page_ptr(const struct vpte_table *t, vpte_pa_t pa)
{
	return vpte_mem_ptr(&t->mem, pa, page_size(t));
}

typedef int (*alloc_fn)(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa);

static int pool_fill(struct vpte_pool *pool, const struct vpte_table *t, uint64_t count,
		     alloc_fn alloc)
{
	uint64_t size = page_size(t);
	while (pool->count < count) {
		vpte_pa_t pa;
		if (alloc(t->mem.ctx, size, size, &pa)) {
			vpte_pool_drain(pool, t);
			return -VPTE_ENOMEM;
		}
		vpte_pool_put(pool, t, pa);
	}
	return 0;
}

int vpte_pool_fill(struct vpte_pool *pool, const struct vpte_table *t, uint64_t count)
{
	return pool_fill(pool, t, count, t->mem.ops->alloc);
}

int vpte_pools_fill(struct vpte_pool *zeroed, uint64_t zeroed_count, struct vpte_pool *whole,
		    uint64_t whole_count, const struct vpte_table *t)
{
	alloc_fn uninit = t->mem.ops->alloc_uninit;
	int err = vpte_pool_fill(zeroed, t, zeroed_count);
	if (!err && (err = pool_fill(whole, t, whole_count, uninit ? uninit : t->mem.ops->alloc)))
		vpte_pool_drain(zeroed, t);
	return err;
}

vpte_pa_t vpte_pool_take(struct vpte_pool *pool, const struct vpte_table *t)
{
	vpte_pa_t pa = vpte_pool_take_whole(pool, t);
	page_ptr(t, pa)[0] = 0;
	return pa;
}

vpte_pa_t vpte_pool_take_whole(struct vpte_pool *pool, const struct vpte_table *t)
{
	vpte_pa_t pa = pool->head;
	pool->head = vpte_pa(page_ptr(t, pa)[0]);
	pool->count--;
	return pa;
}

vpte_pa_t vpte_pool_take_for_whole(struct vpte_pool *whole, struct vpte_pool *zeroed,
				   const struct vpte_table *t)
{
	return vpte_pool_take_whole(whole && whole->count ? whole : zeroed, t);
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
	uint64_t n = len / sizeof(uint64_t), i = 0;
	/* Eight entries a step, stopping at the first step that finds one. */
	for (; i + 8 <= n; i += 8)
		if (entries[i] | entries[i + 1] | entries[i + 2] | entries[i + 3] | entries[i + 4] |
		    entries[i + 5] | entries[i + 6] | entries[i + 7])
			return false;
	for (; i < n; i++)
		if (entries[i])
			return false;
	return true;
}
