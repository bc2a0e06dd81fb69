/* SPDX-License-Identifier: MIT */
/*
 * test_heap.c - the heap backend's page cache (vpte/hosted.h).
 *
 * - A freed page comes back from the cache: zeroed through alloc even
 *   after it was filled with garbage, as it is through alloc_uninit;
 *   every page aligned to its size; vpte_heap_live_pages() counts tables' pages only.
 * - alloc_batch hands out aligned, distinct pages, counted, from the cache
 *   when it has them (check_batch()).
 * - vpte_heap_trim() frees the chunks with no page in use and then has
 *   nothing to free.
 * - The cache is bounded: beyond 8 MiB a shard of chunks with no page in
 *   use, such a chunk goes back to the C heap.
 * - Two threads allocating, filling and freeing pages at once, with a
 *   heap each and one shared, never get one page twice and end with
 *   vpte_heap_live_pages() at zero.
 * - Pages allocated on one CPU and freed on another: the count (kept per
 *   CPU shard) still sums to the pages in use, the second CPU takes a
 *   chunk of the first's, and the first gets every page back.
 * - Under AddressSanitizer a cached page is poisoned whole, and one handed
 *   out again is not.
 * - Pages of the cached sizes come from 2 MiB chunks, the lowest free
 *   first (check_order()); so a bulk map takes its leaf tables side by
 *   side in ascending address order, and again after a teardown
 *   (check_map_order()).  Such a page aligned above its size is refused.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, sched_getcpu */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "testlib.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#ifdef ASAN_BUILD
#include <sanitizer/asan_interface.h>
#endif

#define PAGE 4096u
#define BURST 512u
#define ROUNDS 200u

static void *page_at(vpte_pa_t pa)
{
	return (void *)(uintptr_t)pa.addr;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void check_reuse(void)
{
	struct vpte_heap heap = { 0 };
	struct vpte_mem mem = vpte_heap_mem(&heap);
	vpte_pa_t pa[BURST];
	vpte_heap_trim();
	for (unsigned size = PAGE; size <= 16 * PAGE; size *= 4) {
		for (unsigned i = 0; i < BURST; i++) {
			CHECK_EQ(mem.ops->alloc_uninit(mem.ctx, size, size, &pa[i]), 0);
			CHECK_EQ(pa[i].addr & (size - 1u), 0);
			memset(page_at(pa[i]), 0xa5, size);
		}
		CHECK_EQ(vpte_heap_live_pages(&heap), BURST);
		for (unsigned i = 0; i < BURST; i++)
			mem.ops->free(mem.ctx, pa[i], size);
		CHECK_EQ(vpte_heap_live_pages(&heap), 0);
		/* The same pages again (the cache's), zeroed through alloc. */
		uint64_t reused = 0;
		for (unsigned i = 0; i < BURST; i++) {
			vpte_pa_t again;
			CHECK_EQ(mem.ops->alloc(mem.ctx, size, size, &again), 0);
			CHECK_EQ(again.addr & (size - 1u), 0);
			CHECK(all_zero(page_at(again), size));
			for (unsigned j = 0; j < BURST; j++)
				reused += again.addr == pa[j].addr;
			pa[i] = again;
		}
		CHECK(reused > 0);
		for (unsigned i = 0; i < BURST; i++)
			mem.ops->free(mem.ctx, pa[i], size);
		/* The bound is in bytes over every size: room for the next size. */
		CHECK(vpte_heap_trim() > 0);
		CHECK_EQ(vpte_heap_trim(), 0);
	}
	CHECK_EQ(vpte_heap_live_pages(&heap), 0);
}

/* alloc_batch: more pages than one lock of the shard gives, all aligned
 * and distinct, counted live; freed, they come back from the cache; a size
 * the cache does not keep comes from aligned_alloc. */
static void check_batch(void)
{
	struct vpte_heap heap = { 0 };
	struct vpte_mem mem = vpte_heap_mem(&heap);
	vpte_pa_t pa[BURST], again[BURST];
	vpte_heap_trim();
	for (unsigned size = PAGE; size <= 32 * PAGE; size *= 2) {
		CHECK_EQ(mem.ops->alloc_batch(mem.ctx, size, size, BURST, pa), BURST);
		CHECK_EQ(vpte_heap_live_pages(&heap), BURST);
		for (unsigned i = 0; i < BURST; i++) {
			CHECK_EQ(pa[i].addr & (size - 1u), 0);
			memset(page_at(pa[i]), 0xa5, size);
			for (unsigned j = 0; j < i; j++)
				CHECK(pa[j].addr != pa[i].addr);
		}
		for (unsigned i = 0; i < BURST; i++)
			mem.ops->free(mem.ctx, pa[i], size);
		CHECK_EQ(vpte_heap_live_pages(&heap), 0);
		CHECK_EQ(mem.ops->alloc_batch(mem.ctx, size, size, BURST, again), BURST);
		uint64_t reused = 0;
		for (unsigned i = 0; i < BURST; i++)
			for (unsigned j = 0; j < BURST; j++)
				reused += again[i].addr == pa[j].addr;
		/* 4, 16 and 64 KiB pages are cached (in part: the bound); the
		 * others went to free(), which may hand them out again too. */
		if (size == PAGE || size == 4 * PAGE || size == 16 * PAGE)
			CHECK(reused > 0);
		for (unsigned i = 0; i < BURST; i++)
			mem.ops->free(mem.ctx, again[i], size);
		CHECK_EQ(vpte_heap_live_pages(&heap), 0);
		vpte_heap_trim();
	}
}

/* More than the cache may hold (32 MiB, 8 MiB a shard): the trim gives back
 * at most that. */
static void check_bound(void)
{
	struct vpte_heap heap = { 0 };
	struct vpte_mem mem = vpte_heap_mem(&heap);
	unsigned n = (40u << 20) / (16 * PAGE);
	vpte_pa_t *pa = calloc(n, sizeof(*pa));
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(mem.ops->alloc_uninit(mem.ctx, 16 * PAGE, 16 * PAGE, &pa[i]), 0);
	for (unsigned i = 0; i < n; i++)
		mem.ops->free(mem.ctx, pa[i], 16 * PAGE);
	CHECK(vpte_heap_trim() <= (32u << 20));
	CHECK_EQ(vpte_heap_live_pages(&heap), 0);
	free(pa);
}

struct worker {
	struct vpte_heap *own, *shared;
	pthread_t thread;
	unsigned id;
	int failures;
};

/* Bursts of pages from the worker's heap and the shared one, each page
 * stamped with the worker's id and checked before it is freed: a page
 * handed to both threads at once shows as the other's stamp. */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct vpte_mem mems[2] = { vpte_heap_mem(w->own), vpte_heap_mem(w->shared) };
	vpte_pa_t pa[BURST];
	for (unsigned r = 0; r < ROUNDS; r++) {
		struct vpte_mem *m = &mems[r & 1u];
		/* Every third round takes the pages in one batch. */
		bool batch = r % 3u == 2u;
		if (batch && m->ops->alloc_batch(m->ctx, PAGE, PAGE, BURST, pa) != BURST) {
			w->failures++;
			return NULL;
		}
		for (unsigned i = 0; i < BURST; i++) {
			if (!batch &&
			    (i & 1u ? m->ops->alloc : m->ops->alloc_uninit)(m->ctx, PAGE, PAGE, &pa[i])) {
				w->failures++;
				return NULL;
			}
			uint64_t *words = page_at(pa[i]);
			words[0] = words[PAGE / 8 - 1] = w->id;
		}
		for (unsigned i = 0; i < BURST; i++) {
			uint64_t *words = page_at(pa[i]);
			w->failures += words[0] != w->id || words[PAGE / 8 - 1] != w->id;
			m->ops->free(m->ctx, pa[i], PAGE);
		}
	}
	return NULL;
}

static void check_threads(void)
{
	struct vpte_heap shared = { 0 }, own[2] = { 0 };
	struct worker w[2];
	for (unsigned i = 0; i < 2; i++) {
		w[i] = (struct worker){ &own[i], &shared, 0, 0x1000u + i, 0 };
		CHECK_EQ(pthread_create(&w[i].thread, NULL, work, &w[i]), 0);
	}
	for (unsigned i = 0; i < 2; i++) {
		pthread_join(w[i].thread, NULL);
		CHECK_EQ(w[i].failures, 0);
		CHECK_EQ(vpte_heap_live_pages(&own[i]), 0);
	}
	CHECK_EQ(vpte_heap_live_pages(&shared), 0);
	vpte_heap_trim();
}

/* Run the calling thread on @cpu only; false where it cannot. */
static bool move_to_cpu(unsigned cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return !pthread_setaffinity_np(pthread_self(), sizeof(set), &set) &&
	       sched_getcpu() == (int)cpu;
}

static void check_cross_cpu(void)
{
	struct vpte_heap heap = { 0 };
	struct vpte_mem mem = vpte_heap_mem(&heap);
	vpte_pa_t pa[BURST];
	cpu_set_t was;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 ||
	    pthread_getaffinity_np(pthread_self(), sizeof(was), &was) || !CPU_ISSET(0, &was) ||
	    !CPU_ISSET(1, &was)) {
		printf("test_heap: cross-CPU check skipped (needs CPUs 0 and 1)\n");
		return;
	}
	vpte_heap_trim();
	CHECK(move_to_cpu(0));
	for (unsigned i = 0; i < BURST; i++)
		CHECK_EQ(mem.ops->alloc_uninit(mem.ctx, PAGE, PAGE, &pa[i]), 0);
	CHECK(move_to_cpu(1));
	for (unsigned i = 0; i < BURST / 2; i++)
		mem.ops->free(mem.ctx, pa[i], PAGE);
	CHECK_EQ(vpte_heap_live_pages(&heap), BURST / 2);
	for (unsigned i = BURST / 2; i < BURST; i++)
		mem.ops->free(mem.ctx, pa[i], PAGE);
	CHECK_EQ(vpte_heap_live_pages(&heap), 0);
	/* The pages went back to their chunks, on CPU 0's shard, which cut
	 * them.  CPU 1's shard has no chunk: it takes one of CPU 0's. */
	vpte_pa_t again;
	CHECK_EQ(mem.ops->alloc_uninit(mem.ctx, PAGE, PAGE, &again), 0);
	bool reused = false;
	for (unsigned i = 0; i < BURST; i++)
		reused |= again.addr == pa[i].addr;
	CHECK(reused);
	mem.ops->free(mem.ctx, again, PAGE);
	CHECK_EQ(vpte_heap_live_pages(&heap), 0);
	/* Back on CPU 0, a batch takes its pages from both shards (the
	 * allocation above moved a chunk to CPU 1's), each once, all from
	 * the chunks of the pages freed: none is new. */
	CHECK(move_to_cpu(0));
	vpte_pa_t batch[BURST];
	CHECK_EQ(mem.ops->alloc_batch(mem.ctx, PAGE, PAGE, BURST, batch), BURST);
	for (unsigned i = 0; i < BURST; i++) {
		bool known = false;
		for (unsigned j = 0; j < BURST; j++)
			known |= (batch[i].addr ^ pa[j].addr) < (2u << 20);
		CHECK(known);
		for (unsigned j = 0; j < i; j++)
			CHECK(batch[j].addr != batch[i].addr);
	}
	CHECK_EQ(vpte_heap_live_pages(&heap), BURST);
	for (unsigned i = 0; i < BURST; i++)
		mem.ops->free(mem.ctx, batch[i], PAGE);
	CHECK_EQ(vpte_heap_live_pages(&heap), 0);
	pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
	vpte_heap_trim();
}

/* A page the engine writes after freeing it is reported while the cache
 * holds it, as it would be without the cache. */
static void check_poison(void)
{
#ifdef ASAN_BUILD
	struct vpte_heap heap = { 0 };
	struct vpte_mem mem = vpte_heap_mem(&heap);
	vpte_pa_t pa[2];
	vpte_heap_trim();
	for (unsigned size = PAGE; size <= 16 * PAGE; size *= 4) {
		for (unsigned i = 0; i < 2; i++)
			CHECK_EQ(mem.ops->alloc_uninit(mem.ctx, size, size, &pa[i]), 0);
		for (unsigned i = 0; i < 2; i++) {
			mem.ops->free(mem.ctx, pa[i], size);
			char *page = page_at(pa[i]);
			CHECK(__asan_address_is_poisoned(page));
			CHECK(__asan_address_is_poisoned(page + size - 1));
		}
		/* Out again, one alone and through a batch. */
		CHECK_EQ(mem.ops->alloc_uninit(mem.ctx, size, size, &pa[0]), 0);
		CHECK_EQ(mem.ops->alloc_batch(mem.ctx, size, size, 1, &pa[1]), 1);
		for (unsigned i = 0; i < 2; i++) {
			CHECK(__asan_region_is_poisoned(page_at(pa[i]), size) == NULL);
			mem.ops->free(mem.ctx, pa[i], size);
		}
		vpte_heap_trim();
	}
#else
	printf("test_heap: poison check skipped (not an AddressSanitizer build)\n");
#endif
}

/* After a trim a batch comes from a new chunk, side by side in ascending
 * order after its first page; freed in any order, the pages come back
 * lowest first, one at a time as in a batch. */
static void check_order(void)
{
	struct vpte_heap heap = { 0 };
	struct vpte_mem mem = vpte_heap_mem(&heap);
	enum { N = 24 };
	vpte_pa_t pa[N], again[N];
	for (unsigned size = PAGE; size <= 16 * PAGE; size *= 4) {
		vpte_heap_trim();
		CHECK_EQ(mem.ops->alloc_batch(mem.ctx, size, size, N, pa), N);
		CHECK_EQ(pa[0].addr & ((2u << 20) - 1u), size);
		for (unsigned i = 1; i < N; i++)
			CHECK_EQ(pa[i].addr, pa[0].addr + i * size);
		/* Freed 0, 2, 4, ..., then 1, 3, ... */
		for (unsigned i = 0; i < N; i++)
			mem.ops->free(mem.ctx, pa[i < N / 2 ? 2 * i : 2 * (i - N / 2) + 1], size);
		CHECK_EQ(mem.ops->alloc_batch(mem.ctx, size, size, N / 2, again), N / 2);
		for (unsigned i = N / 2; i < N; i++)
			CHECK_EQ(mem.ops->alloc_uninit(mem.ctx, size, size, &again[i]), 0);
		for (unsigned i = 0; i < N; i++)
			CHECK_EQ(again[i].addr, pa[i].addr);
		for (unsigned i = 0; i < N; i++)
			mem.ops->free(mem.ctx, again[i], size);
		vpte_pa_t over;
		CHECK_EQ(mem.ops->alloc_uninit(mem.ctx, size, 2 * size, &over), -VPTE_ENOMEM);
		CHECK_EQ(vpte_heap_live_pages(&heap), 0);
	}
	vpte_heap_trim();
}

/* How many of the leaf tables under [@va, @va + @size) of @t lie a page
 * after the one before, in address order. */
static unsigned leaf_tables_in_order(const struct vpte_table *t, uint64_t va, uint64_t size)
{
	struct vpte_walk w;
	uint64_t before = 0;
	unsigned next = 0;
	vpte_for_each_entry(&w, t, vpte_va(va), size, VPTE_ITER_TABLES)
		if (w.kind == VPTE_TABLE && w.level == 1) {
			next += before && w.pa.addr - before == PAGE;
			before = w.pa.addr;
		}
	CHECK_EQ(w.error, 0);
	return next;
}

/* A bulk map takes its leaf tables in ascending order, side by side (but
 * where a chunk ends, 514 pages spanning two, and where the engine's
 * batches of 64 end), and again after an unmap freed them; from pages
 * 8 KiB apart (aligned_alloc()) none were, and from a cache that was a
 * stack every other map had them in descending order. */
static void check_map_order(void)
{
	struct vpte_heap heap = { 0 };
	struct vpte_table t;
	struct vpte_prot rw = { VPTE_R | VPTE_W, 0, 0 };
	struct vpte_map_opts small = { 12, 0 };
	vpte_heap_trim();
	CHECK_EQ(vpte_table_init(&t, &vpte_format_x86_64, vpte_heap_mem(&heap)), 0);
	for (unsigned round = 0; round < 3; round++) {
		CHECK_EQ(vpte_map(&t, vpte_va(1ull << 30), vpte_pa(1ull << 32), 1ull << 30, rw, &small), 0);
		CHECK(leaf_tables_in_order(&t, 1ull << 30, 1ull << 30) >= 500);
		CHECK_EQ(vpte_unmap(&t, vpte_va(1ull << 30), 1ull << 30, NULL), 0);
	}
	CHECK_EQ(vpte_table_destroy(&t), 0);
	CHECK_EQ(vpte_heap_live_pages(&heap), 0);
	vpte_heap_trim();
}

int main(void)
{
	check_reuse();
	check_batch();
	check_bound();
	check_threads();
	check_cross_cpu();
	check_poison();
	check_order();
	check_map_order();
	return test_summary("test_heap");
}
