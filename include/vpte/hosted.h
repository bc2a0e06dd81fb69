/* SPDX-License-Identifier: MIT */
/*
 * hosted.h - memory backends for programs with a C library.  They depend on
 * the core (vpte.h); the core never depends on them.
 *
 *   heap   table pages from the C heap; a PA is the page's host address.
 *   arena  table pages inside one buffer that stands for physical memory
 *          from a chosen base PA upward (guest tables, image files).
 *   image  a read-only view of a memory image (a dump) at a base PA; every
 *          physical address is bounds-checked.
 *   epoch  a grace period for concurrent tables (struct vpte_reclaim):
 *          readers mark their walks, retired table pages are freed once
 *          every walk that could have reached them has ended.
 */
#ifndef VPTE_HOSTED_H
#define VPTE_HOSTED_H

#include <stdint.h>

#include "vpte/vpte.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- heap ---- */

/* The page cache's shards (see vpte_heap_mem()). */
#define VPTE_HEAP_SHARDS 4

/*
 * struct vpte_heap - counts what the heap backend holds; zero it before
 * use ({ 0 }) and read it with vpte_heap_live_pages().  The count is kept
 * per cache shard, each 64 bytes from the next, so that threads mapping at
 * once on different CPUs never write the same cache line (one shared
 * counter took 8-9 us of the 45 us two threads need to map 2 GiB,
 * docs/performance-log.md item 23).
 */
struct vpte_heap {
	struct {
		int64_t pages;      /* allocated minus freed through this shard */
		char pad[64 - 8];   /* a cache line a shard */
	} live[VPTE_HEAP_SHARDS];
};

/*
 * vpte_heap_mem - memory callbacks that allocate pages from the C heap,
 * zeroed (alloc) or not (alloc_uninit).  @heap must outlive every table
 * using it.  Pages of 4, 16 or 64 KiB are cut from 2 MiB chunks,
 * process-wide and shared by every heap, lowest free page first, aligned
 * to their size (an @align above it is refused with -VPTE_ENOMEM), and
 * freed back into them for later allocations (zeroed again where alloc
 * asks for zero); other sizes come from aligned_alloc().  The chunks
 * belong to VPTE_HEAP_SHARDS shards chosen by the CPU a thread runs on,
 * so that threads editing at once on different CPUs do not contend.  A
 * chunk with a page in use stays, free pages and all; of those with none,
 * each shard keeps 8 MiB, and vpte_heap_trim() gives them back.
 */
struct vpte_mem vpte_heap_mem(struct vpte_heap *heap);

/*
 * vpte_heap_live_pages - the table pages allocated through @heap and not
 * yet freed (free pages of the chunks are never counted).  Exact once the threads
 * editing its tables have returned; while they run, a snapshot.
 */
uint64_t vpte_heap_live_pages(const struct vpte_heap *heap);

/*
 * vpte_heap_trim - give every chunk of the heap backend with no page in
 * use back to the C heap, e.g. after destroying large tables.  Safe while
 * other threads use heap tables.  Returns the bytes freed.
 */
uint64_t vpte_heap_trim(void);

/* ---- arena ---- */

/*
 * struct vpte_arena - physical memory [base, base + limit) backed by a
 * buffer that grows on demand.
 * @bytes:  the buffer; physical address base + i is bytes[i].
 * @base:   physical address of bytes[0].
 * @used:   bytes handed out so far (the image is [base, base + used)).
 * @limit:  the most bytes the arena may grow to.
 * Freed pages are zeroed and reused.  Read the fields, do not set them.
 */
struct vpte_arena {
	uint8_t *bytes;
	uint64_t base;
	uint64_t used;
	uint64_t capacity;
	uint64_t limit;
	uint64_t free_list; /* offset + 1 of the first free page; 0 when none */
	uint64_t free_size; /* size of the pages on the free list */
	struct vpte_direct_map direct; /* [base, base + used) at bytes */
};

/*
 * vpte_arena_init - an empty arena at @base that may grow to @limit bytes.
 * Returns 0, or -VPTE_EINVAL when @base is not 8-byte aligned or
 * base + limit overflows.
 */
int vpte_arena_init(struct vpte_arena *a, vpte_pa_t base, uint64_t limit);

/* vpte_arena_mem - memory callbacks allocating inside @a. */
struct vpte_mem vpte_arena_mem(struct vpte_arena *a);

/*
 * vpte_arena_write - write the arena's bytes [base, base + used) to @path.
 * Returns 0 or -errno from the C library.
 */
int vpte_arena_write(const struct vpte_arena *a, const char *path);

/* vpte_arena_release - free the buffer. */
void vpte_arena_release(struct vpte_arena *a);

/* ---- image ---- */

/*
 * struct vpte_image - a read-only memory image: physical memory
 * [base, base + size) is bytes[0 .. size).
 */
struct vpte_image {
	const uint8_t *bytes;
	uint64_t size;
	uint64_t base;
	void *owned; /* set when vpte_image_load() read the file */
};

/*
 * vpte_image_load - read the file @path as memory starting at PA @base.
 * Returns 0 or -errno from the C library (-VPTE_EINVAL if base + size
 * overflows).
 */
int vpte_image_load(struct vpte_image *img, const char *path, vpte_pa_t base);

/* vpte_image_view - describe memory the caller already holds. */
void vpte_image_view(struct vpte_image *img, const void *bytes, uint64_t size, vpte_pa_t base);

/*
 * vpte_image_mem - read-only callbacks: phys_to_virt checks that the whole
 * requested page lies inside the image (NULL, hence -VPTE_EFAULT, if not);
 * alloc always fails.  Attach tables with VPTE_TABLE_READONLY.
 */
struct vpte_mem vpte_image_mem(struct vpte_image *img);

void vpte_image_release(struct vpte_image *img);

/* ---- epoch ---- */

/*
 * Epoch-based reclamation: the hosted default for struct vpte_reclaim
 * (docs/concurrency.md).  A thread that walks or edits a concurrent table
 * registers once, then brackets each use with vpte_epoch_enter() and
 * vpte_epoch_leave() (a read section: two atomic stores and a fence).
 * Pages the edits retire are freed by whichever thread leaves a section
 * once enough are pending and every thread that was inside when they were
 * retired has left.  Memory held is what was retired since the oldest
 * read section still running began, so keep read sections short.
 */
struct vpte_epoch;
struct vpte_epoch_reader;

/* vpte_epoch_create - a new domain; NULL when out of memory. */
struct vpte_epoch *vpte_epoch_create(void);

/*
 * vpte_epoch_destroy - free every page still pending, then the domain.
 * No thread may be registered any more (vpte_epoch_unregister()).
 */
void vpte_epoch_destroy(struct vpte_epoch *d);

/*
 * vpte_epoch_reclaim - the hook to pass to vpte_table_set_reclaim(): the
 * tables' unhooked pages are retired into @d.  Valid as long as @d.
 */
const struct vpte_reclaim *vpte_epoch_reclaim(struct vpte_epoch *d);

/*
 * vpte_epoch_register - a reader record for the calling thread (one per
 * thread and domain; not to be shared).  NULL when out of memory.
 * vpte_epoch_unregister - drop it; the thread must be outside a section.
 */
struct vpte_epoch_reader *vpte_epoch_register(struct vpte_epoch *d);
void vpte_epoch_unregister(struct vpte_epoch_reader *r);

/*
 * vpte_epoch_enter - begin a read section: table pages retired from now on
 * stay allocated until the section ends.  Sections do not nest.
 * vpte_epoch_leave - end it; may free pages whose grace period is over.
 */
void vpte_epoch_enter(struct vpte_epoch_reader *r);
void vpte_epoch_leave(struct vpte_epoch_reader *r);

/*
 * vpte_epoch_barrier - wait until every page retired so far is freed.
 * Called outside any read section (the caller's own would never end);
 * before vpte_table_destroy() of a table whose pages are pending, a
 * memory backend's release, or a count of live pages.
 */
void vpte_epoch_barrier(struct vpte_epoch *d);

/* vpte_epoch_pending - how many retired pages wait for their grace period. */
uint64_t vpte_epoch_pending(const struct vpte_epoch *d);

#ifdef __cplusplus
}
#endif
#endif
