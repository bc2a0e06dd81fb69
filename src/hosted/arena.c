/* SPDX-License-Identifier: MIT */
/*
 * arena.c - table pages inside one buffer standing for physical memory.
 * The buffer moves when it grows; that is safe because the engine never
 * allocates while it holds pointers into tables (it allocates every page
 * an edit needs before the edit walks the table).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpte/hosted.h"

#include "fill.h"

int vpte_arena_init(struct vpte_arena *a, vpte_pa_t base, uint64_t limit)
{
	/* An unaligned base would misalign the 8-byte entries in the buffer. */
	if (base.addr + limit < base.addr || base.addr % sizeof(uint64_t))
		return -VPTE_EINVAL;
	*a = (struct vpte_arena){ .base = base.addr, .limit = limit };
	a->direct.pa_base = base.addr;
	return 0;
}

static int arena_grow(struct vpte_arena *a, uint64_t need)
{
	uint64_t capacity = a->capacity ? a->capacity : 1u << 16;
	while (capacity < need)
		capacity *= 2;
	if (capacity > a->limit)
		capacity = a->limit;
	uint8_t *bytes = realloc(a->bytes, capacity);
	if (!bytes)
		return -VPTE_ENOMEM;
	memset(bytes + a->capacity, 0, capacity - a->capacity);
	a->bytes = bytes;
	a->capacity = capacity;
	a->direct.virt = (uintptr_t)bytes;
	return 0;
}

static int arena_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	struct vpte_arena *a = ctx;
	if (a->free_list && a->free_size == size) {
		uint64_t offset = a->free_list - 1u;
		memcpy(&a->free_list, a->bytes + offset, sizeof(a->free_list));
		memset(a->bytes + offset, 0, sizeof(a->free_list));
		*pa = vpte_pa(a->base + offset);
		return 0;
	}
	/* Align the physical address, not the offset: base need not be aligned. */
	uint64_t start = (a->base + a->used + align - 1u) / align * align - a->base;
	if (start + size > a->limit || start + size < start)
		return -VPTE_ENOMEM;
	if (start + size > a->capacity && arena_grow(a, start + size))
		return -VPTE_ENOMEM;
	a->used = start + size;
	a->direct.size = a->used;
	*pa = vpte_pa(a->base + start);
	return 0;
}

static void arena_free(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct vpte_arena *a = ctx;
	uint64_t offset = pa.addr - a->base;
	memset(a->bytes + offset, 0, size);
	memcpy(a->bytes + offset, &a->free_list, sizeof(a->free_list));
	a->free_list = offset + 1u;
	a->free_size = size;
}

static void *arena_phys_to_virt(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct vpte_arena *a = ctx;
	if (pa.addr < a->base || pa.addr - a->base > a->used || a->used - (pa.addr - a->base) < size)
		return NULL;
	return a->bytes + (pa.addr - a->base);
}

/* [1]: with the wider fill, where hosted_fill_wide() allows it (fill.h). */
static const struct vpte_mem_ops arena_ops[2] = {
	{ arena_alloc, arena_free, arena_phys_to_virt, NULL, NULL, NULL },
	{ arena_alloc, arena_free, arena_phys_to_virt, NULL, NULL, HOSTED_FILL_WIDE },
};

struct vpte_mem vpte_arena_mem(struct vpte_arena *a)
{
	/* The window is what arena_phys_to_virt accepts: [base, base + used). */
	struct vpte_mem mem = { &arena_ops[hosted_fill_wide()], a, &a->direct };
	return mem;
}

int vpte_arena_write(const struct vpte_arena *a, const char *path)
{
	FILE *out = fopen(path, "wb");
	if (!out)
		return -errno;
	size_t written = a->used ? fwrite(a->bytes, 1, a->used, out) : 0;
	int err = written != a->used ? -EIO : 0;
	if (fclose(out) && !err)
		err = -errno;
	return err;
}

void vpte_arena_release(struct vpte_arena *a)
{
	free(a->bytes);
	*a = (struct vpte_arena){ 0 };
}
