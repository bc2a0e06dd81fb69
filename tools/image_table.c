/* SPDX-License-Identifier: MIT */
/* image_table.c - attaching a table inside an image file. */
#include "image_table.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int image_table_open(struct image_table *it, const struct image_args *args, const char *verb)
{
	/* vpte_image_load() reports C library errors as -errno, not vpte codes. */
	int err = vpte_image_load(&it->image, args->path, vpte_pa(args->base));
	if (err) {
		fprintf(stderr, "vpte: %s: %s: %s\n", verb, args->path, strerror(-err));
		return -1;
	}
	err = vpte_table_attach(&it->table, args->fmt, vpte_image_mem(&it->image),
				vpte_pa(args->root), VPTE_TABLE_READONLY);
	if (err) {
		fprintf(stderr, "vpte: %s: root 0x%" PRIx64 ": %s\n", verb, args->root,
			vpte_strerror(err));
		vpte_image_release(&it->image);
		return -1;
	}
	return 0;
}

void image_table_close(struct image_table *it)
{
	vpte_image_release(&it->image);
}
