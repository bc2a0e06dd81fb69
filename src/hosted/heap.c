/* SPDX-License-Identifier: MIT */
/*
 * heap.c - table pages from the C heap; PA = host address.  Safe for edits
 * running concurrently on disjoint ranges (DESIGN "Concurrency"): the C
 * heap is thread-safe, the live count is atomic per shard and the page
 * cache below takes a lock per shard.
 *
 * Freed table pages are kept for reuse: aligned_alloc() and free() of a
 * 4 KiB page cost more than writing its 512 entries (docs/performance.md).
 * The cache is process-wide, shared by every heap (a page belongs to none
 * once freed), so a struct vpte_heap can still be dropped without a call,
 * and what the cache holds stays reachable.  It is sharded for threads
 * editing at once: a thread uses the shard of the CPU it runs on, so two
 * threads mapping in parallel do not share a lock or a cache line; a
 * thread whose shard is empty takes from another (pages freed by the
 * thread that tore the tables down).  Bounded:
 * SHARD_BYTES a shard, HEAP_SHARDS shards; beyond that free() gets the
 * page.  vpte_heap_trim() empties it.
 */
#define _GNU_SOURCE /* sched_getcpu */
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vpte/hosted.h"

#include "fill.h"

/* Under AddressSanitizer a cached page is poisoned as free() would leave
 * it, so that a table page touched after the engine freed it is reported
 * while the cache holds it, as it would be without the cache. */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_POISON 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_POISON 1
#endif
#endif
#ifdef HEAP_POISON
#include <sanitizer/asan_interface.h>
#define page_poison(page, size) ASAN_POISON_MEMORY_REGION(page, size)
#define page_unpoison(page, size) ASAN_UNPOISON_MEMORY_REGION(page, size)
#else
#define page_poison(page, size) ((void)(page), (void)(size))
#define page_unpoison(page, size) ((void)(page), (void)(size))
#endif

#define HEAP_SHARDS VPTE_HEAP_SHARDS
#define SHARD_BYTES (8u << 20)
#define SHARD_PAGES (SHARD_BYTES / 4096u) /* room for the smallest class */
#define STEAL_BATCH 64u
/* Page sizes cached: 4, 16 and 64 KiB (every granule vpte has). */
#define SIZE_CLASSES 3

/*
 * The pages are kept in arrays of pointers, not chained through the pages
 * themselves: taking a page then reads nothing of it.  A chain made every
 * take a load from the page, which after a teardown on another CPU is a
 * cache miss to that CPU, one after another along the chain, and a steal
 * walked 64 of them holding the other shard's lock (docs/performance.md,
 * two threads).
 */
struct shard {
	alignas(64) atomic_flag lock;
	uint64_t bytes;
	uint32_t count[SIZE_CLASSES];
	void *pages[SIZE_CLASSES][SHARD_PAGES];
};

static struct shard shards[HEAP_SHARDS]; /* static zero: every lock clear */
static atomic_uint threads_seen;
static _Thread_local unsigned thread_index; /* index + 1; 0: none yet */

static int size_class(uint64_t size)
{
	return size == 4096u ? 0 : size == 16384u ? 1 : size == 65536u ? 2 : -1;
}

/* The shard of the calling thread's CPU; where the CPU cannot be read, one
 * given to the thread in turn. */
static unsigned own_shard_index(void)
{
	int cpu = sched_getcpu();
	if (cpu >= 0)
		return (unsigned)cpu % HEAP_SHARDS;
	if (!thread_index)
		thread_index = atomic_fetch_add_explicit(&threads_seen, 1, memory_order_relaxed) %
				       HEAP_SHARDS +
			       1u;
	return thread_index - 1u;
}

static void shard_lock(struct shard *s)
{
	while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
		;
}

static void shard_unlock(struct shard *s)
{
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/* Take up to @max pages of class @k off @s (locked): their number.  They
 * stay readable at &s->pages[k][s->count[k]] until the lock is dropped. */
static uint32_t shard_take(struct shard *s, int k, uint64_t size, uint64_t max)
{
	uint32_t n = s->count[k] < max ? s->count[k] : (uint32_t)max;
	s->count[k] -= n;
	s->bytes -= n * size;
	for (uint32_t i = 0; i < n; i++)
		page_unpoison(s->pages[k][s->count[k] + i], size);
	return n;
}

/* Move up to @max pages of class @k from @s (locked) to @out; their number. */
static uint32_t shard_detach(struct shard *s, int k, uint64_t size, uint32_t max, void **out)
{
	uint32_t n = shard_take(s, k, size, max);
	memcpy(out, &s->pages[k][s->count[k]], n * sizeof(*out));
	return n;
}

/* Keep @page in @s (locked) if the bound allows. */
static bool shard_keep(struct shard *s, int k, uint64_t size, void *page)
{
	if (s->bytes + size > SHARD_BYTES)
		return false;
	s->pages[k][s->count[k]++] = page;
	s->bytes += size;
	page_poison(page, size);
	return true;
}

/* A cached page of @size, from shard @own first, or NULL. */
static void *cache_take(struct shard *own, uint64_t size)
{
	int k = size_class(size);
	if (k < 0)
		return NULL;
	void *batch[STEAL_BATCH];
	uint32_t n;
	shard_lock(own);
	n = shard_detach(own, k, size, 1, batch);
	shard_unlock(own);
	if (n)
		return batch[0];
	for (unsigned i = 0; i < HEAP_SHARDS && !n; i++) {
		struct shard *other = &shards[i];
		if (other == own || atomic_flag_test_and_set_explicit(&other->lock, memory_order_acquire))
			continue;
		n = shard_detach(other, k, size, STEAL_BATCH, batch);
		shard_unlock(other);
	}
	if (n > 1) {
		uint32_t kept = 1;
		shard_lock(own);
		while (kept < n && shard_keep(own, k, size, batch[kept]))
			kept++;
		shard_unlock(own);
		while (kept < n)
			free(batch[kept++]);
	}
	return n ? batch[0] : NULL;
}

/* Keep @page for reuse if shard @own has room; else free it. */
static void cache_put(struct shard *own, void *page, uint64_t size)
{
	int k = size_class(size);
	bool kept = false;
	/* Only pages aligned to their size: the engine allocates no other,
	 * and a cached page may go to any later allocation of its size. */
	if (k >= 0 && !((uintptr_t)page & (size - 1u))) {
		shard_lock(own);
		kept = shard_keep(own, k, size, page);
		shard_unlock(own);
	}
	if (!kept)
		free(page);
}

uint64_t vpte_heap_trim(void)
{
	static const uint64_t sizes[SIZE_CLASSES] = { 4096u, 16384u, 65536u };
	uint64_t released = 0;
	for (unsigned i = 0; i < HEAP_SHARDS; i++) {
		for (int k = 0; k < SIZE_CLASSES; k++) {
			void *batch[STEAL_BATCH];
			uint32_t n;
			do {
				shard_lock(&shards[i]);
				n = shard_detach(&shards[i], k, sizes[k], STEAL_BATCH, batch);
				shard_unlock(&shards[i]);
				released += n * sizes[k];
				for (uint32_t j = 0; j < n; j++)
					free(batch[j]);
			} while (n);
		}
	}
	return released;
}

/* A page of @size aligned to @align for shard @own: cached, else new. */
static void *page_get(struct shard *own, uint64_t size, uint64_t align)
{
	void *page = align == size ? cache_take(own, size) : NULL;
	return page ? page : aligned_alloc(align, size);
}

/* A page with unspecified contents (alloc_uninit): for tables the engine
 * writes whole before publishing them. */
static int heap_alloc_uninit(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	struct vpte_heap *heap = ctx;
	unsigned shard = own_shard_index();
	void *page = page_get(&shards[shard], size, align);
	if (!page)
		return -VPTE_ENOMEM;
	__atomic_fetch_add(&heap->live[shard].pages, 1, __ATOMIC_RELAXED);
	*pa = vpte_pa((uintptr_t)page);
	return 0;
}

/* Up to @max pages of class @k off @s, their addresses to @pa under its
 * lock: their number. */
static uint64_t shard_take_pa(struct shard *s, int k, uint64_t size, uint64_t max, vpte_pa_t *pa)
{
	shard_lock(s);
	uint64_t n = shard_take(s, k, size, max);
	void *const *taken = &s->pages[k][s->count[k]];
	for (uint64_t i = 0; i < n; i++)
		pa[i] = vpte_pa((uintptr_t)taken[i]);
	shard_unlock(s);
	return n;
}

/* Up to @n pages as heap_alloc_uninit() gives them (alloc_batch): the
 * CPU's shard is read, locked and counted once for what its cache holds (a
 * page at a time, that was most of what the backend cost a bulk map); what
 * it lacks is taken from the other shards, each locked once for all it can
 * give (a thread mapping beside the one that tore the tables down finds
 * them all on that thread's shard: a page at a time, with a lock of its
 * own shard each, made the second of two threads mapping at once a third
 * slower than the first); what the cache lacks is new. */
static uint64_t heap_alloc_batch(void *ctx, uint64_t size, uint64_t align, uint64_t n,
				 vpte_pa_t *pa)
{
	struct vpte_heap *heap = ctx;
	unsigned shard = own_shard_index();
	int k = align == size ? size_class(size) : -1;
	uint64_t got = 0;
	for (unsigned i = 0; k >= 0 && i < HEAP_SHARDS && got < n; i++)
		got += shard_take_pa(&shards[(shard + i) % HEAP_SHARDS], k, size, n - got, pa + got);
	for (void *page; got < n && (page = aligned_alloc(align, size)); got++)
		pa[got] = vpte_pa((uintptr_t)page);
	__atomic_fetch_add(&heap->live[shard].pages, (int64_t)got, __ATOMIC_RELAXED);
	return got;
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
	unsigned shard = own_shard_index();
	__atomic_fetch_sub(&heap->live[shard].pages, 1, __ATOMIC_RELAXED);
	cache_put(&shards[shard], (void *)(uintptr_t)pa.addr, size);
}

uint64_t vpte_heap_live_pages(const struct vpte_heap *heap)
{
	int64_t pages = 0;
	for (unsigned i = 0; i < HEAP_SHARDS; i++)
		pages += __atomic_load_n(&heap->live[i].pages, __ATOMIC_RELAXED);
	return (uint64_t)pages;
}

static void *heap_phys_to_virt(void *ctx, vpte_pa_t pa, uint64_t size)
{
	(void)ctx;
	(void)size;
	return (void *)(uintptr_t)pa.addr;
}

/* [1]: with the wider fill, where hosted_fill_wide() allows it (fill.h). */
static const struct vpte_mem_ops heap_ops[2] = {
	{ heap_alloc, heap_free, heap_phys_to_virt, heap_alloc_uninit, heap_alloc_batch, NULL },
	{ heap_alloc, heap_free, heap_phys_to_virt, heap_alloc_uninit, heap_alloc_batch,
	  HOSTED_FILL_WIDE },
};

/* Every PA is its host address: one window over all of memory. */
static const struct vpte_direct_map heap_direct = { 0, UINT64_MAX, 0 };

struct vpte_mem vpte_heap_mem(struct vpte_heap *heap)
{
	struct vpte_mem mem = { &heap_ops[hosted_fill_wide()], heap, &heap_direct };
	return mem;
}
