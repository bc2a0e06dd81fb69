/* SPDX-License-Identifier: MIT */
/* image.c - a read-only, bounds-checked view of a memory image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "vpte/hosted.h"

void vpte_image_view(struct vpte_image *img, const void *bytes, uint64_t size, vpte_pa_t base)
{
	*img = (struct vpte_image){ bytes, size, base.addr, NULL };
}

int vpte_image_load(struct vpte_image *img, const char *path, vpte_pa_t base)
{
	FILE *in = fopen(path, "rb");
	if (!in)
		return -errno;
	int err = 0;
	long size = -1;
	void *bytes = NULL;
	if (fseek(in, 0, SEEK_END) || (size = ftell(in)) < 0 || fseek(in, 0, SEEK_SET))
		err = -errno;
	else if (base.addr + (uint64_t)size < base.addr)
		err = -VPTE_EINVAL;
	else if (!(bytes = malloc(size ? (size_t)size : 1u)))
		err = -ENOMEM;
	else if (size && fread(bytes, 1, (size_t)size, in) != (size_t)size)
		err = -EIO;
	fclose(in);
	if (err) {
		free(bytes);
		return err;
	}
	vpte_image_view(img, bytes, (uint64_t)size, base);
	img->owned = bytes;
	return 0;
}

static int image_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	(void)ctx;
	(void)size;
	(void)align;
	(void)pa;
	return -VPTE_ENOMEM;
}

static void image_free(void *ctx, vpte_pa_t pa, uint64_t size)
{
	(void)ctx;
	(void)pa;
	(void)size;
}

static void *image_phys_to_virt(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct vpte_image *img = ctx;
	if (pa.addr < img->base || pa.addr - img->base > img->size ||
	    img->size - (pa.addr - img->base) < size)
		return NULL;
	/* Entries are read with 8-byte atomic loads: refuse a misaligned view. */
	if ((uintptr_t)(img->bytes + (pa.addr - img->base)) % sizeof(uint64_t))
		return NULL;
	return (void *)(uintptr_t)(img->bytes + (pa.addr - img->base));
}

static const struct vpte_mem_ops image_ops = { image_alloc, image_free, image_phys_to_virt,
					       NULL, NULL, NULL };

struct vpte_mem vpte_image_mem(struct vpte_image *img)
{
	struct vpte_mem mem = { &image_ops, img, NULL };
	return mem;
}

void vpte_image_release(struct vpte_image *img)
{
	free(img->owned);
	*img = (struct vpte_image){ 0 };
}
