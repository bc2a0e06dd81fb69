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
 * SHARD_BYTES a shard, HEAP_SHARDS shards; beyond that the page is given
 * back for good.  vpte_heap_trim() empties it.
 *
 * Pages of the cached sizes are cut from chunks (struct chunk), so that
 * the pages of a bulk edit lie side by side in address order: a fill of
 * 514 such pages runs at memset's speed, against 1.5x for pages from
 * aligned_alloc() one by one, 8 KiB apart (docs/performance.md item 54).
 * The cache is a stack and a batch comes in the order of its pops, and a
 * chunk is cut from its top down, as if its pages had been freed in
 * ascending order: the engine's pools hand pages out last in first out,
 * so an edit takes them in ascending order, and after a teardown that
 * frees its tables in address order, again.
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
#define CHUNK_BYTES (2u << 20)

/*
 * struct chunk - the head of CHUNK_BYTES aligned to that, whose first page
 * holds it and whose other @pages pages, all of one size, are handed out:
 * a page's chunk is its address rounded down.  A page given back for good
 * (the cache full, vpte_heap_trim()) counts in @released, and the chunk is
 * freed with its last: until then it holds the pages given back, so a
 * single page in a table keeps CHUNK_BYTES.
 */
struct chunk {
	atomic_uint released;
	uint32_t pages;
};

/* The chunk a shard cuts pages of one size from: @left pages not handed
 * out yet, the next at @chunk + @left * size. */
struct carve {
	char *chunk;
	uint32_t left;
};

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
	struct carve carve[SIZE_CLASSES];
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

static const uint64_t class_bytes[SIZE_CLASSES] = { 4096u, 16384u, 65536u };

static struct chunk *chunk_of(void *page)
{
	return (struct chunk *)((uintptr_t)page & ~(uintptr_t)(CHUNK_BYTES - 1u));
}

/* A new chunk for pages of class @k, poisoned but for its head, or NULL. */
static char *chunk_new(int k)
{
	struct chunk *c = aligned_alloc(CHUNK_BYTES, CHUNK_BYTES);
	if (!c)
		return NULL;
	atomic_init(&c->released, 0);
	c->pages = (uint32_t)(CHUNK_BYTES / class_bytes[k] - 1u);
	page_poison((char *)c + class_bytes[k], CHUNK_BYTES - class_bytes[k]);
	return (char *)c;
}

/* Give back for good @n poisoned pages of the chunk holding @page; the
 * last of its pages frees it. */
static void chunk_release(void *page, uint32_t n)
{
	struct chunk *c = chunk_of(page);
	if (atomic_fetch_add(&c->released, n) + n == c->pages) {
		page_unpoison(c, CHUNK_BYTES);
		free(c);
	}
}

/* Give back for good @page of class @k. */
static void page_release(void *page, int k)
{
	page_poison(page, class_bytes[k]);
	chunk_release(page, 1);
}

/* Move up to @max pages of class @k off @s (locked) to @pa, the last kept
 * first: their number. */
static uint64_t shard_take(struct shard *s, int k, uint64_t max, vpte_pa_t *pa)
{
	uint64_t n = s->count[k] < max ? s->count[k] : max;
	for (uint64_t i = 0; i < n; i++) {
		void *page = s->pages[k][--s->count[k]];
		page_unpoison(page, class_bytes[k]);
		pa[i] = vpte_pa((uintptr_t)page);
	}
	s->bytes -= n * class_bytes[k];
	return n;
}

/* Cut up to @max new pages of class @k for @s (locked) to @pa, from the top
 * of its chunk down, then of a new one: their number, short when no chunk
 * can be had.  A new chunk is taken holding the lock, once in 511 pages at
 * most. */
static uint64_t shard_cut(struct shard *s, int k, uint64_t max, vpte_pa_t *pa)
{
	struct carve *cut = &s->carve[k];
	uint64_t n = 0;
	for (; n < max; n++) {
		if (!cut->left) {
			cut->chunk = chunk_new(k);
			if (!cut->chunk)
				break;
			cut->left = ((struct chunk *)(void *)cut->chunk)->pages;
		}
		char *page = cut->chunk + cut->left-- * class_bytes[k];
		page_unpoison(page, class_bytes[k]);
		pa[n] = vpte_pa((uintptr_t)page);
	}
	return n;
}

/* Keep @page in @s (locked) if the bound allows. */
static bool shard_keep(struct shard *s, int k, void *page)
{
	if (s->bytes + class_bytes[k] > SHARD_BYTES)
		return false;
	s->pages[k][s->count[k]++] = page;
	s->bytes += class_bytes[k];
	page_poison(page, class_bytes[k]);
	return true;
}

/* A page of class @k for shard @own: its cache's last, else a batch from
 * another shard's cache (the rest kept in @own), else a new one; 0 when
 * none can be had. */
static uint64_t cache_take(struct shard *own, int k)
{
	vpte_pa_t batch[STEAL_BATCH];
	uint64_t n;
	shard_lock(own);
	n = shard_take(own, k, 1, batch);
	shard_unlock(own);
	if (n)
		return batch[0].addr;
	for (unsigned i = 0; i < HEAP_SHARDS && !n; i++) {
		struct shard *other = &shards[i];
		if (other == own || atomic_flag_test_and_set_explicit(&other->lock, memory_order_acquire))
			continue;
		n = shard_take(other, k, STEAL_BATCH, batch);
		shard_unlock(other);
	}
	shard_lock(own);
	/* The stolen pages but the first go back in the order they came. */
	uint64_t kept = n;
	while (kept > 1 && shard_keep(own, k, (void *)(uintptr_t)batch[kept - 1u].addr))
		kept--;
	if (!n)
		n = shard_cut(own, k, 1, batch);
	shard_unlock(own);
	while (kept > 1)
		page_release((void *)(uintptr_t)batch[--kept].addr, k);
	return n ? batch[0].addr : 0;
}

/* Keep @page of @size for reuse if shard @own has room; else give it back. */
static void cache_put(struct shard *own, void *page, uint64_t size)
{
	int k = size_class(size);
	if (k < 0) {
		free(page);
		return;
	}
	shard_lock(own);
	bool kept = shard_keep(own, k, page);
	shard_unlock(own);
	if (!kept)
		page_release(page, k);
}

uint64_t vpte_heap_trim(void)
{
	uint64_t released = 0;
	for (unsigned i = 0; i < HEAP_SHARDS; i++) {
		struct shard *s = &shards[i];
		for (int k = 0; k < SIZE_CLASSES; k++) {
			vpte_pa_t batch[STEAL_BATCH];
			uint64_t n;
			do {
				shard_lock(s);
				n = shard_take(s, k, STEAL_BATCH, batch);
				shard_unlock(s);
				released += n * class_bytes[k];
				for (uint64_t j = 0; j < n; j++)
					page_release((void *)(uintptr_t)batch[j].addr, k);
			} while (n);
			/* What is left to cut of the shard's chunk is given back too,
			 * so that the chunk goes once its pages in use are freed. */
			shard_lock(s);
			struct carve cut = s->carve[k];
			s->carve[k].left = 0;
			shard_unlock(s);
			if (cut.left)
				chunk_release(cut.chunk, cut.left);
		}
	}
	return released;
}

/* A page of @size aligned to @align for shard @own: for the cached sizes
 * cached or cut from a chunk, aligned to its size only; any other from
 * aligned_alloc(). */
static void *page_get(struct shard *own, uint64_t size, uint64_t align)
{
	int k = size_class(size);
	if (k < 0)
		return aligned_alloc(align, size);
	return align <= size ? (void *)(uintptr_t)cache_take(own, k) : NULL;
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

/* Up to @n pages as heap_alloc_uninit() gives them (alloc_batch): the
 * CPU's shard is read, locked and counted once for what its cache holds (a
 * page at a time, that was most of what the backend cost a bulk map); what
 * it lacks is taken from the other shards, each locked once for all it can
 * give (a thread mapping beside the one that tore the tables down finds
 * them all on that thread's shard: a page at a time, with a lock of its
 * own shard each, made the second of two threads mapping at once a third
 * slower than the first); what the cache lacks is cut from the shard's
 * chunk. */
static uint64_t heap_alloc_batch(void *ctx, uint64_t size, uint64_t align, uint64_t n,
				 vpte_pa_t *pa)
{
	struct vpte_heap *heap = ctx;
	unsigned shard = own_shard_index();
	int k = size_class(size);
	uint64_t got = 0;
	if (k < 0) {
		for (void *page; got < n && (page = aligned_alloc(align, size)); got++)
			pa[got] = vpte_pa((uintptr_t)page);
	} else if (align <= size) {
		for (unsigned i = 0; i < HEAP_SHARDS && got < n; i++) {
			struct shard *s = &shards[(shard + i) % HEAP_SHARDS];
			shard_lock(s);
			got += shard_take(s, k, n - got, pa + got);
			shard_unlock(s);
		}
		if (got < n) {
			shard_lock(&shards[shard]);
			got += shard_cut(&shards[shard], k, n - got, pa + got);
			shard_unlock(&shards[shard]);
		}
	}
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
