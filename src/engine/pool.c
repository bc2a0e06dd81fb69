/* SPDX-License-Identifier: MIT */
#include "engine/internal.h"

static uint64_t page_size(const struct vpte_table *t)
{
	return 1ull << t->fmt->granule_shift;
}

typedef int (*alloc_fn)(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa);

/* Zero the first @n of the pages at @pa, which a batch allocation gave
 * unzeroed; the backend's fill, where it has one, is its widest store. */
static void pages_zero(const struct vpte_table *t, const vpte_pa_t *pa, uint64_t n)
{
	const struct vpte_mem_ops *ops = t->mem.ops;
	uint64_t size = page_size(t);
	for (uint64_t i = 0; i < n; i++) {
		void *page = vpte_pool_page(t, pa[i]);
		if (ops->fill)
			ops->fill(t->mem.ctx, page, size / 8, 0, 0);
		else
			__builtin_memset(page, 0, size);
	}
}

int vpte_pages_alloc(const struct vpte_table *t, uint64_t zeroed, uint64_t n, vpte_pa_t *pa)
{
	const struct vpte_mem_ops *ops = t->mem.ops;
	uint64_t size = page_size(t), got = 0;
	/* of the @zeroed pages, those left for pages_zero() */
	uint64_t to_zero = 0;
	if (ops->alloc_batch) {
		got = ops->alloc_batch(t->mem.ctx, size, size, n, pa);
		to_zero = zeroed; /* a batch comes unzeroed */
	} else {
		alloc_fn uninit = ops->alloc_uninit ? ops->alloc_uninit : ops->alloc;
		while (got < n && !(got < zeroed ? ops->alloc : uninit)(t->mem.ctx, size, size, &pa[got]))
			got++;
	}
	if (got < n) {
		while (got)
			ops->free(t->mem.ctx, pa[--got], size);
		return -VPTE_ENOMEM;
	}
	pages_zero(t, pa, to_zero);
	return 0;
}

/* The most pages asked of vpte_pages_alloc() at once: what the stack holds. */
#define POOL_BATCH 64u

static uint64_t pages_short(const struct vpte_pool *pool, uint64_t count)
{
	return count > pool->count ? count - pool->count : 0;
}

int vpte_pool_fill(struct vpte_pool *pool, const struct vpte_table *t, uint64_t count)
{
	struct vpte_pool none = { 0 };
	return vpte_pools_fill(pool, count, &none, 0, t);
}

/* The pages of both pools, POOL_BATCH a request: the first go to @zeroed,
 * the rest to @whole, untouched but for the index pages (struct
 * vpte_pool).  One request for all of an edit's pages where it can, not
 * one for the zeroed pages and another for the others. */
int vpte_pools_fill(struct vpte_pool *zeroed, uint64_t zeroed_count, struct vpte_pool *whole,
		    uint64_t whole_count, const struct vpte_table *t)
{
	uint64_t zero = pages_short(zeroed, zeroed_count);
	uint64_t need = zero + pages_short(whole, whole_count);
	vpte_pa_t got[POOL_BATCH];
	while (need) {
		uint64_t want = need < POOL_BATCH ? need : POOL_BATCH;
		uint64_t wanted_zero = zero < want ? zero : want, i;
		int err = vpte_pages_alloc(t, wanted_zero, want, got);
		/* The allocation may have moved an arena's memory. */
		vpte_pool_reach(zeroed, t);
		vpte_pool_reach(whole, t);
		if (err) {
			vpte_pool_drain(zeroed, t);
			vpte_pool_drain(whole, t);
			return err;
		}
		/* Last first: a pool hands out its pages last in first out, so
		 * a batch's pages go out in the order the backend gave them (the
		 * heap's in ascending address order: docs/performance-log.md item
		 * 54); the batches themselves go out newest first. */
		for (i = wanted_zero; i; i--)
			vpte_pool_put(zeroed, t, got[i - 1u]);
		for (i = want; i > wanted_zero; i--)
			vpte_pool_put(whole, t, got[i - 1u]);
		zero -= wanted_zero;
		need -= want;
	}
	return 0;
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
	 * and count are shared by sixteen (docs/performance-log.md, item 47).
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
