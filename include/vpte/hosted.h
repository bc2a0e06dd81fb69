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
 */
#ifndef VPTE_HOSTED_H
#define VPTE_HOSTED_H

#include <stdint.h>

#include "vpte/vpte.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- heap ---- */

/*
 * struct vpte_heap - counts what the heap backend holds.
 * @live_pages: table pages allocated and not yet freed.
 */
struct vpte_heap {
	uint64_t live_pages;
};

/*
 * vpte_heap_mem - memory callbacks that allocate zeroed, aligned pages with
 * aligned_alloc().  @heap must outlive every table using it.
 */
struct vpte_mem vpte_heap_mem(struct vpte_heap *heap);

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

#ifdef __cplusplus
}
#endif
#endif
