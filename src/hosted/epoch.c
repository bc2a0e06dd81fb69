/* SPDX-License-Identifier: MIT */
/*
 * epoch.c - epoch-based reclamation, the hosted grace period for
 * concurrent tables (struct vpte_reclaim, docs/concurrency.md).
 *
 * A global epoch counts up.  A reader in a section publishes the epoch it
 * saw on entry; a retired page is stamped with the epoch current when it
 * was retired, after it was unhooked.  The epoch advances only when every
 * reader inside a section has seen the current one, so once it is two
 * past a page's stamp, every reader that was inside when the page was
 * retired has left, and those that entered since cannot reach it (they
 * read the table after the unhook).  This is the scheme of Fraser's
 * thesis ("Practical lock-freedom", 2004, section 5.2.3).
 *
 * Orderings: entering is a sequentially consistent exchange and fence
 * (the reader's table loads must not be satisfied before its epoch is
 * visible); retiring has a fence between the unhook the engine did and
 * the read of the epoch; advancing has one before it reads the readers.
 * Leaving is a release store, so everything the section read happens
 * before the advance that observes it out, and therefore before the free.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "vpte/hosted.h"

/* Retired pages per list node. */
#define EPOCH_CHUNK 60
/* A leaving reader tries to free pages once this many are pending. */
#define EPOCH_RECLAIM_AT 64

struct retired {
	vpte_pa_t pa;
	uint64_t size;
	struct vpte_mem mem;
	uint64_t epoch;
};

/* Retired pages in retiring order (so in epoch order): a FIFO of nodes. */
struct chunk {
	struct chunk *next;
	unsigned first, count;
	struct retired items[EPOCH_CHUNK];
};

struct vpte_epoch_reader {
	uint64_t state; /* 0 outside a section, else (epoch << 1) | 1 */
	struct vpte_epoch_reader *next;
	struct vpte_epoch *domain;
};

struct vpte_epoch {
	uint64_t epoch;
	uint64_t pending;
	pthread_mutex_t lock; /* the readers list, the retired list, advancing */
	struct vpte_epoch_reader *readers;
	struct chunk *oldest, *newest;
	struct vpte_reclaim reclaim;
};

/* The calling thread's section, which a wait inside retire must not
 * count (it cannot end while its thread waits). */
static _Thread_local struct vpte_epoch_reader *inside;

/* Advance the epoch if every reader in a section (but @skip) has seen it.
 * Called with the lock held.  Returns the epoch now current. */
static uint64_t try_advance(struct vpte_epoch *d, const struct vpte_epoch_reader *skip)
{
	uint64_t now = __atomic_load_n(&d->epoch, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (struct vpte_epoch_reader *r = d->readers; r; r = r->next) {
		uint64_t s = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
		if (r != skip && (s & 1u) && (s >> 1) != now)
			return now;
	}
	__atomic_store_n(&d->epoch, now + 1u, __ATOMIC_SEQ_CST);
	return now + 1u;
}

/* Free the pages whose grace period is over.  Called with the lock held. */
static void free_expired(struct vpte_epoch *d, uint64_t now)
{
	while (d->oldest) {
		struct chunk *c = d->oldest;
		for (; c->first < c->count && c->items[c->first].epoch + 2u <= now; c->first++) {
			const struct retired *it = &c->items[c->first];
			it->mem.ops->free(it->mem.ctx, it->pa, it->size);
			__atomic_fetch_sub(&d->pending, 1, __ATOMIC_RELAXED);
		}
		if (c->first < c->count || c == d->newest)
			return;
		d->oldest = c->next;
		free(c);
	}
}

static void reclaim(struct vpte_epoch *d, const struct vpte_epoch_reader *skip)
{
	free_expired(d, try_advance(d, skip));
}

/* No memory for the list: wait out the grace period here instead. */
static void retire_now(struct vpte_epoch *d, const struct vpte_mem *mem, vpte_pa_t pa,
		       uint64_t size, uint64_t stamp)
{
	for (;;) {
		pthread_mutex_lock(&d->lock);
		uint64_t now = try_advance(d, inside);
		pthread_mutex_unlock(&d->lock);
		if (now >= stamp + 2u)
			break;
		sched_yield();
	}
	mem->ops->free(mem->ctx, pa, size);
}

static void epoch_retire(void *ctx, const struct vpte_mem *mem, vpte_pa_t pa, uint64_t size)
{
	struct vpte_epoch *d = ctx;
	/* The engine's unhooking store comes before the epoch is read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pthread_mutex_lock(&d->lock);
	uint64_t stamp = __atomic_load_n(&d->epoch, __ATOMIC_RELAXED);
	struct chunk *c = d->newest;
	if (!c || c->count == EPOCH_CHUNK) {
		c = malloc(sizeof(*c));
		if (!c) {
			pthread_mutex_unlock(&d->lock);
			retire_now(d, mem, pa, size, stamp);
			return;
		}
		c->next = NULL;
		c->first = c->count = 0;
		if (d->newest)
			d->newest->next = c;
		else
			d->oldest = c;
		d->newest = c;
	}
	c->items[c->count++] = (struct retired){ pa, size, *mem, stamp };
	__atomic_fetch_add(&d->pending, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&d->lock);
}

struct vpte_epoch *vpte_epoch_create(void)
{
	struct vpte_epoch *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (pthread_mutex_init(&d->lock, NULL)) {
		free(d);
		return NULL;
	}
	d->reclaim.retire = epoch_retire;
	d->reclaim.ctx = d;
	return d;
}

void vpte_epoch_destroy(struct vpte_epoch *d)
{
	if (!d)
		return;
	vpte_epoch_barrier(d);
	while (d->oldest) { /* drained, the newest kept for reuse */
		struct chunk *c = d->oldest;
		d->oldest = c->next;
		free(c);
	}
	pthread_mutex_destroy(&d->lock);
	free(d);
}

const struct vpte_reclaim *vpte_epoch_reclaim(struct vpte_epoch *d)
{
	return &d->reclaim;
}

struct vpte_epoch_reader *vpte_epoch_register(struct vpte_epoch *d)
{
	struct vpte_epoch_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->domain = d;
	pthread_mutex_lock(&d->lock);
	r->next = d->readers;
	d->readers = r;
	pthread_mutex_unlock(&d->lock);
	return r;
}

void vpte_epoch_unregister(struct vpte_epoch_reader *r)
{
	struct vpte_epoch *d = r->domain;
	pthread_mutex_lock(&d->lock);
	for (struct vpte_epoch_reader **p = &d->readers; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	pthread_mutex_unlock(&d->lock);
	free(r);
}

void vpte_epoch_enter(struct vpte_epoch_reader *r)
{
	uint64_t now = __atomic_load_n(&r->domain->epoch, __ATOMIC_SEQ_CST);
	__atomic_exchange_n(&r->state, (now << 1) | 1u, __ATOMIC_SEQ_CST);
	/* The table loads of the section come after the epoch is published. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	inside = r;
}

void vpte_epoch_leave(struct vpte_epoch_reader *r)
{
	struct vpte_epoch *d = r->domain;
	__atomic_store_n(&r->state, 0, __ATOMIC_RELEASE);
	inside = NULL;
	if (__atomic_load_n(&d->pending, __ATOMIC_RELAXED) >= EPOCH_RECLAIM_AT &&
	    !pthread_mutex_trylock(&d->lock)) {
		reclaim(d, NULL);
		pthread_mutex_unlock(&d->lock);
	}
}

void vpte_epoch_barrier(struct vpte_epoch *d)
{
	for (;;) {
		pthread_mutex_lock(&d->lock);
		reclaim(d, NULL);
		bool done = !__atomic_load_n(&d->pending, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&d->lock);
		if (done)
			return;
		sched_yield();
	}
}

uint64_t vpte_epoch_pending(const struct vpte_epoch *d)
{
	return __atomic_load_n(&d->pending, __ATOMIC_RELAXED);
}
