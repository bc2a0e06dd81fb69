/* SPDX-License-Identifier: MIT */
/*
 * heap.c - table pages from the C heap; PA = host address.  Safe for edits
 * running concurrently on disjoint ranges (DESIGN "Concurrency"): the C
 * heap is thread-safe and live_pages is counted atomically.
 */
#include <stdlib.h>
#include <string.h>

#include "vpte/hosted.h"

/* A page with unspecified contents (alloc_uninit): for tables the engine
 * writes whole before publishing them. */
static int heap_alloc_uninit(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	struct vpte_heap *heap = ctx;
	void *page = aligned_alloc(align, size);
	if (!page)
		return -VPTE_ENOMEM;
	__atomic_fetch_add(&heap->live_pages, 1, __ATOMIC_RELAXED);
	*pa = vpte_pa((uintptr_t)page);
	return 0;
}

static int heap_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	int err = heap_alloc_uninit(ctx, size, align, pa);
	if (!err)
		memset((void *)(uintptr_t)pa->addr, 0, size);
	return err;
}

static void heap_free(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct vpte_heap *heap = ctx;
	(void)size;
	__atomic_fetch_sub(&heap->live_pages, 1, __ATOMIC_RELAXED);
	free((void *)(uintptr_t)pa.addr);
}

static void *heap_phys_to_virt(void *ctx, vpte_pa_t pa, uint64_t size)
{
	(void)ctx;
	(void)size;
	return (void *)(uintptr_t)pa.addr;
}

static const struct vpte_mem_ops heap_ops = { heap_alloc, heap_free, heap_phys_to_virt,
					      heap_alloc_uninit };

/* Every PA is its host address: one window over all of memory. */
static const struct vpte_direct_map heap_direct = { 0, UINT64_MAX, 0 };

struct vpte_mem vpte_heap_mem(struct vpte_heap *heap)
{
	struct vpte_mem mem = { &heap_ops, heap, &heap_direct };
	return mem;
}
