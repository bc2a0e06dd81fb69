/* SPDX-License-Identifier: MIT */
#include "engine/internal.h"

static uint64_t page_size(const struct vpte_table *t)
{
	return 1ull << t->fmt->granule_shift;
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

/* The most pages asked of alloc_batch at once: what the stack holds. */
#define POOL_BATCH 64u

/* pool_fill() through the backend's alloc_batch: a call per POOL_BATCH
 * pages; a short batch is out of memory, and what it brought is freed with
 * the rest. */
static int pool_fill_batch(struct vpte_pool *pool, const struct vpte_table *t, uint64_t count)
{
	uint64_t size = page_size(t);
	vpte_pa_t got[POOL_BATCH];
	while (pool->count < count) {
		uint64_t want = count - pool->count < POOL_BATCH ? count - pool->count : POOL_BATCH;
		uint64_t n = t->mem.ops->alloc_batch(t->mem.ctx, size, size, want, got);
		for (uint64_t i = 0; i < n; i++)
			vpte_pool_put(pool, t, got[i]);
		if (n < want) {
			vpte_pool_drain(pool, t);
			return -VPTE_ENOMEM;
		}
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
	const struct vpte_mem_ops *ops = t->mem.ops;
	int err = vpte_pool_fill(zeroed, t, zeroed_count);
	if (err)
		return err;
	if (ops->alloc_batch)
		err = pool_fill_batch(whole, t, whole_count);
	else
		err = pool_fill(whole, t, whole_count,
				ops->alloc_uninit ? ops->alloc_uninit : ops->alloc);
	if (err)
		vpte_pool_drain(zeroed, t);
	return err;
}

vpte_pa_t vpte_pool_take(struct vpte_pool *pool, const struct vpte_table *t)
{
	vpte_pa_t pa = vpte_pool_take_whole(pool, t);
	vpte_pool_page(t, pa)[0] = 0;
	return pa;
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
