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
		int err = alloc(t->mem.ctx, size, size, &pa);
		vpte_pool_reach(pool, t); /* the allocation may move an arena */
		if (err) {
			vpte_pool_drain(pool, t);
			return -VPTE_ENOMEM;
		}
		vpte_pool_put(pool, t, pa);
	}
	return 0;
}

/* The most pages asked of alloc_batch at once: what the stack holds. */
#define POOL_BATCH 64u

static uint64_t pages_short(const struct vpte_pool *pool, uint64_t count)
{
	return count > pool->count ? count - pool->count : 0;
}

/*
 * pool_fill_batch - the pages of both pools through the backend's
 * alloc_batch, a call per POOL_BATCH pages: the first go to @zeroed,
 * zeroed here, the rest to @whole as they come, untouched but for the
 * index pages (struct vpte_pool).  One request for all of an edit's pages,
 * so the backend's fixed costs (finding its per-CPU state, a lock, a
 * counter) are paid once, not once for the zeroed pages and again for the
 * others (docs/performance.md item 29).  A short batch is out of memory:
 * what came is freed with the rest of both pools.
 */
static int pool_fill_batch(struct vpte_pool *zeroed, uint64_t zeroed_count,
			   struct vpte_pool *whole, uint64_t whole_count,
			   const struct vpte_table *t)
{
	uint64_t size = page_size(t);
	uint64_t zero = pages_short(zeroed, zeroed_count);
	uint64_t need = zero + pages_short(whole, whole_count);
	vpte_pa_t got[POOL_BATCH];
	while (need) {
		uint64_t want = need < POOL_BATCH ? need : POOL_BATCH;
		uint64_t n = t->mem.ops->alloc_batch(t->mem.ctx, size, size, want, got), i = 0;
		/* The allocation may have moved an arena's memory. */
		vpte_pool_reach(zeroed, t);
		vpte_pool_reach(whole, t);
		for (; i < n && i < zero; i++) {
			__builtin_memset(vpte_pool_page(t, got[i]), 0, size);
			vpte_pool_put(zeroed, t, got[i]);
		}
		for (; i < n; i++)
			vpte_pool_put(whole, t, got[i]);
		if (n < want) {
			vpte_pool_drain(zeroed, t);
			vpte_pool_drain(whole, t);
			return -VPTE_ENOMEM;
		}
		zero -= zero < n ? zero : n;
		need -= n;
	}
	return 0;
}

int vpte_pool_fill(struct vpte_pool *pool, const struct vpte_table *t, uint64_t count)
{
	struct vpte_pool none = { 0 };
	return vpte_pools_fill(pool, count, &none, 0, t);
}

int vpte_pools_fill(struct vpte_pool *zeroed, uint64_t zeroed_count, struct vpte_pool *whole,
		    uint64_t whole_count, const struct vpte_table *t)
{
	const struct vpte_mem_ops *ops = t->mem.ops;
	if (ops->alloc_batch)
		return pool_fill_batch(zeroed, zeroed_count, whole, whole_count, t);
	int err = pool_fill(zeroed, t, zeroed_count, ops->alloc);
	if (!err && (err = pool_fill(whole, t, whole_count,
				     ops->alloc_uninit ? ops->alloc_uninit : ops->alloc)))
		vpte_pool_drain(zeroed, t);
	vpte_pool_reach(zeroed, t); /* @whole's allocations may have moved it */
	return err;
}

void vpte_pool_put_index(struct vpte_pool *pool, const struct vpte_table *t, vpte_pa_t pa)
{
	uint64_t *index = vpte_pool_page(t, pa);
	index[POOL_NEXT] = pool->head.addr;
	pool->head = pa;
	pool->index = index;
	pool->held = 0;
	pool->room = page_size(t) / sizeof(uint64_t) - POOL_ADDRS;
	pool->count++;
}

void *vpte_pool_take_index(struct vpte_pool *pool, const struct vpte_table *t, bool zeroed,
			   vpte_pa_t *pa)
{
	uint64_t *index = pool->index;
	*pa = pool->head;
	pool->head = vpte_pa(index[POOL_NEXT]);
	pool->count--;
	if (zeroed)
		index[POOL_NEXT] = 0;
	vpte_pool_reach(pool, t);
	/* The index page before is full; with none left, @first holds the
	 * rest. */
	pool->held = pool->room = pool->index ? pool->room : 0;
	return index;
}

vpte_pa_t vpte_pool_take(struct vpte_pool *pool, const struct vpte_table *t)
{
	vpte_pa_t pa;
	vpte_pool_take_page(pool, t, true, &pa);
	return pa;
}

void vpte_pool_drain(struct vpte_pool *pool, const struct vpte_table *t)
{
	while (pool->count) {
		vpte_pool_reach(pool, t); /* the free before may have moved the memory */
		t->mem.ops->free(t->mem.ctx, vpte_pool_take(pool, t), page_size(t));
	}
}

bool vpte_page_is_zero(const void *table, uint64_t len)
{
	const uint64_t *entries = table;
	uint64_t n = len / sizeof(uint64_t), i = 0;
	/* Sixteen entries a step, stopping at the first step that finds one:
	 * an OR from memory is one instruction an entry, and the step's test
	 * and count are shared by sixteen (docs/performance.md, item 47).
	 * Plain ORs, not entries_or()'s pairs: SSE2 has no unaligned OR from
	 * memory, so a pair costs a load and an OR and the early exit three
	 * more for its two halves. */
	for (; i + 16 <= n; i += 16) {
		uint64_t any = 0;
		for (unsigned k = 0; k < 16; k++)
			any |= entries[i + k];
		if (any)
			return false;
	}
	for (; i < n; i++)
		if (entries[i])
			return false;
	return true;
}
