/* SPDX-License-Identifier: MIT */
/*
 * internal.h - pieces of the engine that are not specialised per format:
 * the per-format entry points (struct vpte_format_ops), the page pool that
 * makes edits all-or-nothing, and the gather's bookkeeping.
 */
#ifndef VPTE_ENGINE_INTERNAL_H
#define VPTE_ENGINE_INTERNAL_H

#include "vpte/vpte.h"

/*
 * struct map_cursor - where a map walk stands: the table at each level of
 * the path down to @level (NULL for a table the plan would create) and the
 * index address @ia it dealt with last.  A batch of requests in ascending
 * address order (vpte_copy) shares one cursor, so each request goes down
 * only from the table its path shares with the previous one, and the plan
 * counts a table it would create once, not once per request.
 * @whole:      (plan) how many of the tables counted are written whole
 *              (see vpte_pools_fill()).
 * @whole_pool: (apply) where those take their pages; NULL: from the
 *              zeroed pool, whose fill then counted them.
 * map_cursor_start() (map.h) clears both.
 */
struct map_cursor {
	void *path[VPTE_MAX_LEVELS];
	unsigned level;
	uint64_t ia;
	uint64_t whole;
	struct vpte_pool *whole_pool;
};

/*
 * struct vpte_piece - one map of a batch: [va, va + size) to pa with @prot
 * exactly (accessed is not forced on).
 */
struct vpte_piece {
	vpte_va_t va;
	vpte_pa_t pa;
	uint64_t size;
	struct vpte_prot prot;
};

struct vpte_pool;
struct vpte_codec;

struct vpte_format_ops {
	/* The format's entry codec, for an engine stamped out for another
	 * format (vpte_copy's direct copy between formats, copy.h). */
	const struct vpte_codec *entry_codec;
	int (*seek)(struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va);
	int (*iter_start)(struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va,
			  uint64_t size, unsigned mode);
	int (*iter_next)(struct vpte_walk *w);
	int (*map)(struct vpte_table *t, vpte_va_t va, vpte_pa_t pa, uint64_t size,
		   struct vpte_prot prot, const struct vpte_map_opts *opts);
	int (*unmap)(struct vpte_table *t, vpte_va_t va, uint64_t size, struct vpte_gather *g);
	int (*protect)(struct vpte_table *t, vpte_va_t va, uint64_t size, struct vpte_prot set,
		       struct vpte_prot clear, struct vpte_gather *g);
	int (*split)(struct vpte_table *t, vpte_va_t va, uint64_t size, unsigned shift,
		     struct vpte_gather *g);
	int (*collapse)(struct vpte_table *t, vpte_va_t va, uint64_t size, unsigned max_shift,
			struct vpte_gather *g);
	int (*destroy)(struct vpte_table *t);
	/* Plan (@pool NULL) or apply one piece of a batch of maps into @t, the
	 * pieces in ascending order sharing @cur: vpte_copy's destination side,
	 * called by the source format's engine (map.h, eng_map_piece). */
	int64_t (*map_piece)(const struct vpte_table *t, const struct vpte_piece *p,
			     struct vpte_pool *pool, struct map_cursor *cur);
	/* The source format's copy (copy.h). */
	int (*copy)(struct vpte_table *dst, struct vpte_table *src, vpte_va_t va, uint64_t size,
		    const struct vpte_copy_opts *opts);
	int (*harvest)(struct vpte_table *t, vpte_va_t va, uint64_t size, uint64_t *bitmap,
		       const struct vpte_harvest_opts *opts);
};

/*
 * struct vpte_pool - table pages allocated before an edit changes anything,
 * so that the edit itself cannot fail half-way.  The core has no memory of
 * its own: the addresses of the first POOL_FIRST pages sit in the pool
 * (@first), and those of the rest in pages of its own.  An edit that
 * creates a few tables (a bulk map of 2 MiB leaves two, a single page at
 * most one a level) thus needs no index page, whose put and take were each
 * a call out of line and a translation (docs/performance-log.md item 38).  An
 * index page holds the address of the index page before it (POOL_NEXT)
 * and from POOL_ADDRS on page addresses; every index page but the newest
 * is full.  @head is the newest, itself one of the pool's pages, taken
 * once it holds no address; @index its pointer (NULL when there is none),
 * translated anew after every allocation (which may move an arena's
 * memory; between a fill and the takes the engine allocates nothing,
 * docs/dev-notes.md); @held how many addresses it holds, of @room (0 when
 * there is none, so that a put finds no room without testing @index).
 * Only the index pages are written: the others are not touched until the
 * edit takes them (a chain word in every page, as the pool had, was a
 * pass of cache misses over all of a bulk map's pages before it filled
 * them, docs/performance-log.md item 34).
 */
#define POOL_FIRST 4u
struct vpte_pool {
	vpte_pa_t head;
	uint64_t count;
	uint64_t *index;
	uint64_t held, room;
	uint64_t first[POOL_FIRST];
};

enum { POOL_NEXT, POOL_ADDRS };

/* Allocate until @pool holds @count zeroed pages; on failure free them all
 * and return -VPTE_ENOMEM.  vpte_pools_fill() without the second pool. */
int vpte_pool_fill(struct vpte_pool *pool, const struct vpte_table *t, uint64_t count);
/* Take a zeroed page (the pool must not be empty). */
vpte_pa_t vpte_pool_take(struct vpte_pool *pool, const struct vpte_table *t);

/* The page at @pa (an index page, or a page taken).  Inline, as are
 * vpte_pool_put() and vpte_pool_take_whole(): a bulk map takes a page per
 * 512 entries, and a call into pool.c and on to vpte_mem_ptr() was about
 * 40 instructions of each take and put (docs/performance-log.md item 24). */
static inline uint64_t *vpte_pool_page(const struct vpte_table *t, vpte_pa_t pa)
{
	return (uint64_t *)vpte_mem_ptr(&t->mem, pa, 1ull << t->fmt->granule_shift);
}

/* Translate @pool's newest index page again (struct vpte_pool: after an
 * allocation). */
static inline void vpte_pool_reach(struct vpte_pool *pool, const struct vpte_table *t)
{
	pool->index = pool->count > POOL_FIRST ? vpte_pool_page(t, pool->head) : NULL;
}

/* Give back a page that was never published: to a pool of zeroed pages
 * only if it is all zero; to a pool of whole-table pages as it is.  Its
 * address goes into the newest index page while that has room, else into
 * @first while that has room; else the page becomes the newest index page
 * (vpte_pool_put_index(), out of line: once in 512 puts). */
void vpte_pool_put_index(struct vpte_pool *pool, const struct vpte_table *t, vpte_pa_t pa);
static inline void vpte_pool_put(struct vpte_pool *pool, const struct vpte_table *t, vpte_pa_t pa)
{
	uint64_t held = pool->held;
	if (held < pool->room) {
		pool->index[POOL_ADDRS + held] = pa.addr;
		pool->held = held + 1u;
		pool->count++;
	} else if (pool->count < POOL_FIRST) {
		pool->first[pool->count++] = pa.addr;
	} else {
		vpte_pool_put_index(pool, t, pa);
	}
}

/*
 * Tables written whole (docs/dev-notes.md "Tables written whole").  A new
 * table that an edit writes entry by entry in full before anything links it
 * into the tree does not need a zeroed page: a map's table whose whole span
 * lies in the range, a copy's or split's destination table that receives
 * every entry.  An edit that knows such tables from its plan keeps a second
 * pool for them, filled by vpte_pools_fill() from the backend's
 * alloc_batch, else alloc_uninit, else alloc (struct vpte_mem_ops), fills each
 * table privately with plain stores (fill_private(), table.h: vectorisable,
 * and no reader can see it half-filled, since nothing points to it yet)
 * and publishes it with one release store of its parent entry
 * (slot_store()).  Only such tables take from that pool: a table written in
 * part must come from the zeroed one.  Pages of either pool that are left
 * over, or given back on an error path, go to the backend's free as before
 * (vpte_pool_drain()).
 *
 * vpte_pools_fill - fill @zeroed to @zeroed_count zeroed pages and @whole
 * to @whole_count pages of unspecified contents, all or nothing: on failure
 * both are drained and -VPTE_ENOMEM returned.  The pages come from
 * vpte_pages_alloc(), 64 a request (one request for most edits;
 * docs/memory.md).
 * vpte_pool_take_whole - take a page for a table written whole (from
 * either kind of pool; the pool must not be empty).
 * vpte_pool_take_for_whole - the same from vpte_pool_for_whole(): the
 * plan counted the table in one of the two pools.
 */
int vpte_pools_fill(struct vpte_pool *zeroed, uint64_t zeroed_count, struct vpte_pool *whole,
		    uint64_t whole_count, const struct vpte_table *t);

/*
 * vpte_pages_alloc - @n pages of @t's granule to @pa, the first @zeroed
 * of them zeroed, the rest of unspecified contents (tables written
 * whole), all or nothing: on a shortfall the pages that came are freed
 * and -VPTE_ENOMEM returned.  The backend's alloc_batch gives all
 * of them in one call (its fixed costs, finding its per-CPU state, a lock,
 * a counter, are paid once: docs/performance-log.md item 29) and the engine
 * zeroes the first; otherwise alloc gives the zeroed ones and
 * alloc_uninit, else alloc, the others.  What vpte_pools_fill() fills the
 * pools with; an edit that needs a few pages it knows in advance takes
 * them into an array here and keeps no pool (map_new_tables(), item 51).
 * Like any allocation it may move the table's memory.
 */
int vpte_pages_alloc(const struct vpte_table *t, uint64_t zeroed, uint64_t n, vpte_pa_t *pa);

/*
 * vpte_pool_take_page - take a page as vpte_pool_take_whole() does, its
 * address in *@pa, and return the pointer to it (an edit that writes the
 * new table next would otherwise translate the address again): the last
 * address the newest index page holds, or that page itself once it holds
 * none (vpte_pool_take_index(), out of line: once in 512 takes), or with
 * no index page the last of @first.  @zeroed: the pool holds zeroed pages,
 * and what an index page kept in the words it gives up is cleared
 * (vpte_pool_take()).
 */
void *vpte_pool_take_index(struct vpte_pool *pool, const struct vpte_table *t, bool zeroed,
			   vpte_pa_t *pa);
static inline void *vpte_pool_take_page(struct vpte_pool *pool, const struct vpte_table *t,
					bool zeroed, vpte_pa_t *pa)
{
	uint64_t held = pool->held;
	if (held) {
		uint64_t *slot = &pool->index[POOL_ADDRS + --held];
		pool->held = held;
		pool->count--;
		*pa = vpte_pa(*slot);
		if (zeroed)
			*slot = 0;
	} else if (!pool->index) {
		*pa = vpte_pa(pool->first[--pool->count]);
	} else {
		return vpte_pool_take_index(pool, t, zeroed, pa);
	}
	return vpte_pool_page(t, *pa);
}

static inline vpte_pa_t vpte_pool_take_whole(struct vpte_pool *pool, const struct vpte_table *t)
{
	vpte_pa_t pa;
	vpte_pool_take_page(pool, t, false, &pa);
	return pa;
}

/* The pool a table written whole takes from: @whole (may be NULL) while it
 * holds a page, else @zeroed. */
static inline struct vpte_pool *vpte_pool_for_whole(struct vpte_pool *whole,
						    struct vpte_pool *zeroed)
{
	return whole && whole->count ? whole : zeroed;
}

static inline vpte_pa_t vpte_pool_take_for_whole(struct vpte_pool *whole,
						  struct vpte_pool *zeroed,
						  const struct vpte_table *t)
{
	return vpte_pool_take_whole(vpte_pool_for_whole(whole, zeroed), t);
}
/* Free what is left. */
void vpte_pool_drain(struct vpte_pool *pool, const struct vpte_table *t);

/* Record that the translations of [va, va + 2^shift) changed. */
void vpte_gather_leaf(struct vpte_gather *g, uint64_t va, unsigned shift);
/* Invalidate now, mid-edit, the translations of [va, va + 2^shift): the
 * "break" of break-before-make is in place and the "make" waits for the
 * TLBs to forget the old entry (codec break_before_make).  Nothing is
 * recorded in @g: the edit records the change as it would otherwise. */
void vpte_gather_break(const struct vpte_gather *g, uint64_t va, unsigned shift);
/* Record a changed table entry (walk caches must be flushed). */
void vpte_gather_table(struct vpte_gather *g);
/* Record a table page that became unreachable, freed after invalidation;
 * it held the translations of [va, va + 2^shift), whose walk-cache entries
 * go too, so that range is recorded as changed. */
void vpte_gather_page(struct vpte_gather *g, vpte_pa_t pa, uint64_t va, unsigned shift);

/* The gather an edit records into: the caller's, or @local, set up here,
 * when the caller passed none.  edit_gather_end() then finishes @local. */
static inline struct vpte_gather *edit_gather(const struct vpte_table *t,
					      struct vpte_gather *caller, struct vpte_gather *local)
{
	if (caller)
		return caller;
	vpte_gather_init(local, t, NULL, NULL);
	return local;
}

static inline void edit_gather_end(struct vpte_gather *g, struct vpte_gather *local)
{
	if (g == local)
		vpte_gather_finish(local);
}

/* Calls of the table's leaf observer (struct vpte_observer), each hook
 * optional; @va is canonical. */
static inline void observe_install(const struct vpte_table *t, uint64_t va, uint64_t pa,
				   unsigned shift)
{
	const struct vpte_observer *o = t->observer;
	if (o && o->install)
		o->install(o->ctx, vpte_va(va), vpte_pa(pa), shift);
}

static inline void observe_remove(const struct vpte_table *t, uint64_t va, uint64_t pa,
				  unsigned shift)
{
	const struct vpte_observer *o = t->observer;
	if (o && o->remove)
		o->remove(o->ctx, vpte_va(va), vpte_pa(pa), shift);
}

static inline void observe_split(const struct vpte_table *t, uint64_t va, uint64_t pa,
				 unsigned shift, unsigned new_shift)
{
	const struct vpte_observer *o = t->observer;
	if (o && o->split)
		o->split(o->ctx, vpte_va(va), vpte_pa(pa), shift, new_shift);
}

static inline void observe_merge(const struct vpte_table *t, uint64_t va, uint64_t pa,
				 unsigned shift, uint64_t parts)
{
	const struct vpte_observer *o = t->observer;
	if (o && o->merge)
		o->merge(o->ctx, vpte_va(va), vpte_pa(pa), shift, parts);
}

/* Does the @len-byte table page at @table hold only zero entries? */
bool vpte_page_is_zero(const void *table, uint64_t len);

#endif
