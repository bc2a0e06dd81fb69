/* SPDX-License-Identifier: MIT */
/* image_table.c - attaching a table inside an image file: raw memory or a QEMU ELF dump. */
#include "image_table.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Maps @path read-only into it->file; returns 0 or -errno. */
static int map_file(struct image_table *it, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (st.st_size && (it->file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
						fd, 0)) == MAP_FAILED)
		err = -errno;
	close(fd);
	if (err)
		it->file = NULL;
	else
		it->size = (uint64_t)st.st_size;
	return err;
}

static void unmap_file(struct image_table *it)
{
	if (it->file)
		munmap(it->file, (size_t)it->size);
	it->file = NULL;
}

/* Sets up the memory of an ELF dump and its root; returns 0, -1 or -2 as image_table_open(). */
static int open_dump(struct image_table *it, const struct image_args *args, const char *verb,
		     struct vpte_mem *mem, uint64_t *root)
{
	const char *why;
	if (args->base != IMAGE_UNSET) {
		usage_error(verb, "%s is an ELF dump, which places its memory itself: drop --base",
			    args->path);
		return -2;
	}
	if (elf_dump_parse(&it->dump, it->file, it->size, &why)) {
		fprintf(stderr, "vpte: %s: %s: %s\n", verb, args->path, why);
		return -1;
	}
	it->is_elf = true;
	*mem = elf_dump_mem(&it->dump);
	*root = args->root;
	if (*root == IMAGE_UNSET && !elf_dump_root(&it->dump, args->fmt, root)) {
		fprintf(stderr, "vpte: %s: %s holds no page-table root for %s%s: give --root\n", verb,
			args->path, args->fmt->name,
			it->dump.has_cr3 ? "" : " (QEMU saves CR3 for x86 guests only)");
		return -1;
	}
	return 0;
}

int image_table_open(struct image_table *it, const struct image_args *args, const char *verb)
{
	*it = (struct image_table){ 0 };
	int err = map_file(it, args->path);
	if (err) {
		fprintf(stderr, "vpte: %s: %s: %s\n", verb, args->path,
			err == -EINVAL ? "not a regular file" : strerror(-err));
		return -1;
	}
	struct vpte_mem mem;
	uint64_t root = args->root;
	int status = 0;
	if (elf_is_dump(it->file, it->size)) {
		status = open_dump(it, args, verb, &mem, &root);
	} else if (args->base == IMAGE_UNSET || args->root == IMAGE_UNSET) {
		usage_error(verb, "missing %s (a raw image needs --base and --root)",
			    args->base == IMAGE_UNSET ? "--base" : "--root");
		status = -2;
	} else if (args->base + it->size < args->base) {
		fprintf(stderr, "vpte: %s: %s: --base 0x%" PRIx64 " puts its end beyond 2^64\n",
			verb, args->path, args->base);
		status = -1;
	} else {
		vpte_image_view(&it->image, it->file, it->size, vpte_pa(args->base));
		mem = vpte_image_mem(&it->image);
	}
	if (!status && (err = vpte_table_attach(&it->table, args->fmt, mem, vpte_pa(root),
						VPTE_TABLE_READONLY))) {
		fprintf(stderr, "vpte: %s: root 0x%" PRIx64 ": %s\n", verb, root, vpte_strerror(err));
		status = -1;
	}
	if (status)
		image_table_close(it);
	return status;
}

int image_walk(const struct vpte_table *t, uint64_t max_entries, const char *verb,
	       int (*leaf)(void *ctx, const struct vpte_walk *w), void *ctx)
{
	vpte_va_t start[2];
	uint64_t size[2], entries = 0;
	unsigned halves = vpte_va_space(t->fmt, start, size);
	struct vpte_walk w = { 0 };
	for (unsigned h = 0; h < halves && !w.error; h++) {
		vpte_for_each_entry(&w, t, start[h], size[h], VPTE_ITER_ALL)
		{
			if (entries++ == max_entries) {
				fprintf(stderr, "vpte: %s: more than %" PRIu64 " entries (--max-entries)\n",
					verb, max_entries);
				return -1;
			}
			int stop = w.kind == VPTE_LEAF ? leaf(ctx, &w) : 0;
			if (stop)
				return stop;
		}
	}
	if (w.error) {
		fprintf(stderr, "vpte: %s: %s\n", verb, vpte_strerror(w.error));
		return -1;
	}
	return 0;
}

void image_table_close(struct image_table *it)
{
	if (it->is_elf)
		elf_dump_release(&it->dump);
	unmap_file(it);
}
