/* SPDX-License-Identifier: MIT */
/*
 * heap.c - table pages from the C heap; PA = host address.  Safe for edits
 * running concurrently on disjoint ranges (DESIGN "Concurrency"): the C
 * heap is thread-safe, the live count is atomic per shard and the chunks
 * below are guarded by their shard's lock.
 *
 * Pages of 4, 16 and 64 KiB (every granule vpte has) are cut from chunks
 * of 2 MiB (struct chunk) and freed back into them: aligned_alloc() and
 * free() of a 4 KiB page cost more than writing its 512 entries
 * (docs/performance-log.md).  A chunk hands out its lowest free page first,
 * so the tables an edit builds in address order lie side by side in
 * address order, whatever order their pages were freed in: a fill of 514
 * such pages runs at memset's speed, against 1.5x for pages from
 * aligned_alloc() one by one, 8 KiB apart, and 1.2-1.5x for pages side by
 * side in descending order, which a cache kept as a stack gave every
 * other time (docs/performance-log.md item 54).
 *
 * The chunks are process-wide, shared by every heap (a page belongs to
 * none once freed), so a struct vpte_heap can still be dropped without a
 * call, and what they hold stays reachable.  Each belongs to one of
 * HEAP_SHARDS shards, one a CPU: a thread takes pages from the chunks of
 * its CPU's shard, so two threads mapping in parallel do not share a
 * lock or a chunk; one whose shard has no free page takes a chunk from
 * another (pages freed by the thread that tore the tables down), and
 * else cuts a new one.  Bounded: a shard keeps SHARD_BYTES of chunks with
 * no page in use; beyond that such a chunk goes back to the C heap.
 * vpte_heap_trim() gives back every chunk with no page in use.
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

/* Under AddressSanitizer a free page of a chunk is poisoned as free() would
 * leave it, so that a table page touched after the engine freed it is
 * reported, as it would be without the chunks. */
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
#define SHARD_BYTES (8u << 20) /* chunks with no page in use a shard keeps */
#define CHUNK_BYTES (2u << 20)
#define CHUNK_WORDS (CHUNK_BYTES / 4096u / 64u) /* of the bitmap, for 4 KiB pages */
/* Page sizes cut from chunks: 4, 16 and 64 KiB (every granule vpte has). */
#define SIZE_CLASSES 3

static const uint64_t class_bytes[SIZE_CLASSES] = { 4096u, 16384u, 65536u };

struct shard;

/*
 * struct chunk - CHUNK_BYTES aligned to that, cut into pages of one size;
 * this head is in its first page, which is never handed out, and a page's
 * chunk is its address rounded down.  Its free pages are the set bits of
 * @free (bit i: the page i pages in), taken lowest first.  A chunk with a
 * free page is on the list of the shard that owns it, whose lock guards
 * all of it but @owner (changed holding that lock and the new owner's); a
 * chunk with none is on no list, and the page freed next puts it back on
 * its owner's.
 */
struct chunk {
	uint64_t free[CHUNK_WORDS];
	struct chunk *prev, *next;
	_Atomic(struct shard *) owner;
	uint32_t pages; /* after the head */
	uint32_t nfree;
};

/*
 * struct shard - per CPU: the chunks of each size with a free page, most
 * recently listed first, and how many bytes of them have no page in use
 * (@idle: at most SHARD_BYTES; a chunk beyond that goes back to the C heap
 * as its last page is freed).
 */
struct shard {
	alignas(64) atomic_flag lock;
	uint64_t idle;
	struct chunk *partial[SIZE_CLASSES];
};

static struct shard shards[HEAP_SHARDS]; /* static zero: every lock clear */
static atomic_uint threads_seen;
static _Thread_local unsigned thread_index; /* index + 1; 0: none yet */

/* The class of pages of @size, or -1 for a size not cut from chunks. */
static int size_class(uint64_t size)
{
	for (int k = 0; k < SIZE_CLASSES; k++)
		if (size == class_bytes[k])
			return k;
	return -1;
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

/* Tries of a shard's lock before each sched_yield(). */
#define LOCK_SPINS 64u

/* A spin-wait hint: x86's PAUSE (which a hypervisor's pause-loop exiting
 * also takes as a sign to run another vCPU, maybe the holder's), arm64's
 * YIELD; nothing elsewhere. */
static inline void spin_hint(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

/* Spin a little, then give the CPU away: the holder may be a thread
 * preempted on this very CPU, or on a vCPU the host has stopped, and an
 * endless spin would burn the rest of the time slice it needs to go on. */
static void shard_lock(struct shard *s)
{
	for (unsigned tries = 1; atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire);
	     tries++) {
		spin_hint();
		if (!(tries % LOCK_SPINS))
			sched_yield();
	}
}

static void shard_unlock(struct shard *s)
{
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

static struct chunk *chunk_of(void *page)
{
	return (struct chunk *)((uintptr_t)page & ~(uintptr_t)(CHUNK_BYTES - 1u));
}

static bool chunk_idle(const struct chunk *c)
{
	return c->nfree == c->pages;
}

/* Put @c (of class @k) on the list of @s (locked), first. */
static void shard_link(struct shard *s, int k, struct chunk *c)
{
	c->prev = NULL;
	c->next = s->partial[k];
	if (c->next)
		c->next->prev = c;
	s->partial[k] = c;
	s->idle += chunk_idle(c) ? CHUNK_BYTES : 0;
}

static void shard_unlink(struct shard *s, int k, struct chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->partial[k] = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->idle -= chunk_idle(c) ? CHUNK_BYTES : 0;
}

/* A new chunk of class @k on the list of @s (locked), poisoned but for its
 * head; false when the C heap has none.  Taken holding the lock: once in
 * 511 pages at most. */
static bool shard_cut(struct shard *s, int k)
{
	struct chunk *c = aligned_alloc(CHUNK_BYTES, CHUNK_BYTES);
	if (!c)
		return false;
	uint32_t pages = (uint32_t)(CHUNK_BYTES / class_bytes[k] - 1u);
	*c = (struct chunk){ .pages = pages, .nfree = pages };
	atomic_init(&c->owner, s);
	for (uint32_t i = 1; i <= pages; i++)
		c->free[i / 64u] |= 1ull << (i % 64u);
	page_poison((char *)c + class_bytes[k], CHUNK_BYTES - class_bytes[k]);
	shard_link(s, k, c);
	return true;
}

/*
 * Move a chunk of class @k with a free page from another shard to @own
 * (locked on entry and return): a thread whose shard has none takes what
 * the thread that tore the tables down freed.  Both locks are held for
 * the move (page_put() trusts a chunk's owner under the owner's lock), the
 * lower shard's taken first, so two threads stealing from each other do
 * not wait on each other; @own is dropped meanwhile where it is the
 * higher.  False when no shard had one to give.
 */
static bool shard_steal(struct shard *own, int k)
{
	for (unsigned i = 0; i < HEAP_SHARDS; i++) {
		struct shard *other = &shards[i];
		if (other == own)
			continue;
		if (other < own) {
			shard_unlock(own);
			shard_lock(other);
			shard_lock(own);
		} else {
			shard_lock(other);
		}
		struct chunk *c = other->partial[k];
		if (c) {
			shard_unlink(other, k, c);
			atomic_store_explicit(&c->owner, own, memory_order_relaxed);
			shard_link(own, k, c);
		}
		shard_unlock(other);
		if (c)
			return true;
	}
	return false;
}

/* Take up to @n free pages of class @k from the chunks of @s (locked), each
 * chunk's lowest first, to @pa: their number. */
static uint64_t shard_take(struct shard *s, int k, uint64_t n, vpte_pa_t *pa)
{
	uint64_t got = 0, size = class_bytes[k];
	struct chunk *c;
	while (got < n && (c = s->partial[k])) {
		if (chunk_idle(c))
			s->idle -= CHUNK_BYTES;
		uint64_t from = got;
		for (unsigned w = 0; w < CHUNK_WORDS && got < n; w++) {
			uint64_t bits = c->free[w];
			for (; bits && got < n; bits &= bits - 1u) {
				char *page = (char *)c + (w * 64u + (unsigned)__builtin_ctzll(bits)) * size;
				page_unpoison(page, size);
				pa[got++] = vpte_pa((uintptr_t)page);
			}
			c->free[w] = bits;
		}
		c->nfree -= (uint32_t)(got - from);
		if (!c->nfree)
			shard_unlink(s, k, c);
	}
	return got;
}

/* Up to @n pages of class @k for shard @own: the free pages of its chunks,
 * then of a chunk taken from another shard, then of new chunks; their
 * number. */
static inline uint64_t pages_take(struct shard *own, int k, uint64_t n, vpte_pa_t *pa)
{
	uint64_t got = 0;
	shard_lock(own);
	do
		got += shard_take(own, k, n - got, pa + got);
	while (got < n && (shard_steal(own, k) || shard_cut(own, k)));
	shard_unlock(own);
	return got;
}

/* Free @page of class @k into its chunk, under its owner's lock; the
 * chunk goes back to the C heap when this leaves none of its pages in use
 * and its owner keeps enough such chunks. */
static void page_put(void *page, int k)
{
	struct chunk *c = chunk_of(page);
	struct shard *s;
	page_poison(page, class_bytes[k]);
	for (;;) {
		s = atomic_load_explicit(&c->owner, memory_order_relaxed);
		shard_lock(s);
		if (atomic_load_explicit(&c->owner, memory_order_relaxed) == s)
			break;
		shard_unlock(s); /* stolen meanwhile */
	}
	unsigned i = (unsigned)(((char *)page - (char *)c) / class_bytes[k]);
	c->free[i / 64u] |= 1ull << (i % 64u);
	if (!c->nfree++)
		shard_link(s, k, c);
	else if (chunk_idle(c))
		s->idle += CHUNK_BYTES;
	bool release = chunk_idle(c) && s->idle > SHARD_BYTES;
	if (release)
		shard_unlink(s, k, c);
	shard_unlock(s);
	if (release) {
		page_unpoison(c, CHUNK_BYTES);
		free(c);
	}
}

uint64_t vpte_heap_trim(void)
{
	uint64_t released = 0;
	for (unsigned i = 0; i < HEAP_SHARDS; i++) {
		struct shard *s = &shards[i];
		for (int k = 0; k < SIZE_CLASSES; k++) {
			struct chunk *idle = NULL;
			shard_lock(s);
			for (struct chunk *c = s->partial[k], *next; c; c = next) {
				next = c->next;
				if (chunk_idle(c)) {
					shard_unlink(s, k, c);
					c->next = idle;
					idle = c;
				}
			}
			shard_unlock(s);
			/* No page of these is in use: nobody else reaches them. */
			for (struct chunk *next; idle; idle = next) {
				next = idle->next;
				page_unpoison(idle, CHUNK_BYTES);
				free(idle);
				released += CHUNK_BYTES;
			}
		}
	}
	return released;
}

/* Up to @n pages with unspecified contents (alloc_batch): for tables the
 * engine writes whole before publishing them.  The cut sizes aligned to
 * their size at most; any other size from aligned_alloc().  The CPU's
 * shard is read, locked and counted once (a page at a time, that was most
 * of what the backend cost a bulk map). */
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
		got = pages_take(&shards[shard], k, n, pa);
	}
	__atomic_fetch_add(&heap->live[shard].pages, (int64_t)got, __ATOMIC_RELAXED);
	return got;
}

/* One page as a batch of one (alloc_uninit). */
static int heap_alloc_uninit(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	return heap_alloc_batch(ctx, size, align, 1, pa) ? 0 : -VPTE_ENOMEM;
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
	int k = size_class(size);
	__atomic_fetch_sub(&heap->live[own_shard_index()].pages, 1, __ATOMIC_RELAXED);
	if (k < 0)
		free((void *)(uintptr_t)pa.addr);
	else
		page_put((void *)(uintptr_t)pa.addr, k);
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
