/* SPDX-License-Identifier: MIT */
/*
 * heap.c - table pages from the C heap; PA = host address.  Safe for edits
 * running concurrently on disjoint ranges (DESIGN "Concurrency"): the C
 * heap is thread-safe and live_pages is counted atomically.
 */
#include <stdlib.h>
#include <string.h>

#include "vpte/hosted.h"

static int heap_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	struct vpte_heap *heap = ctx;
	void *page = aligned_alloc(align, size);
	if (!page)
		return -VPTE_ENOMEM;
	memset(page, 0, size);
	__atomic_fetch_add(&heap->live_pages, 1, __ATOMIC_RELAXED);
	*pa = vpte_pa((uintptr_t)page);
	return 0;
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

static const struct vpte_mem_ops heap_ops = { heap_alloc, heap_free, heap_phys_to_virt };

/* Every PA is its host address: one window over all of memory. */
static const struct vpte_direct_map heap_direct = { 0, UINT64_MAX, 0 };

struct vpte_mem vpte_heap_mem(struct vpte_heap *heap)
{
	struct vpte_mem mem = { &heap_ops, heap, &heap_direct };
	return mem;
}
