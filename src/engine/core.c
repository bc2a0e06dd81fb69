/* SPDX-License-Identifier: MIT */
/*
 * core.c - the format registry, tables, and the runtime-dispatched entry
 * points (each forwards to the format's compiled-in engine).
 */
#include "engine/internal.h"

/* The formats this build has (CMake's VPTE_FORMATS). */
#define VPTE_BUILTIN(name) &vpte_format_##name,
static const struct vpte_format *const builtin_formats[] = {
#include "builtin_formats.h"
};
#undef VPTE_BUILTIN

const struct vpte_format *const *vpte_formats(size_t *count)
{
	*count = sizeof(builtin_formats) / sizeof(builtin_formats[0]);
	return builtin_formats;
}

static bool names_equal(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

const struct vpte_format *vpte_format_by_name(const char *name)
{
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	for (size_t i = 0; name && i < count; i++)
		if (names_equal(formats[i]->name, name))
			return formats[i];
	return NULL;
}

const char *vpte_strerror(int err)
{
	/* Negate as unsigned: -INT_MIN does not fit an int. */
	switch (err < 0 ? 0u - (unsigned)err : (unsigned)err) {
	case 0:
		return "success";
	case VPTE_EPERM:
		return "EPERM: refused: the leaf is special";
	case VPTE_ENOMEM:
		return "ENOMEM: out of table memory";
	case VPTE_EFAULT:
		return "EFAULT: corrupt table (bad table address or invalid entry)";
	case VPTE_EEXIST:
		return "EEXIST: range overlaps an existing mapping";
	case VPTE_EINVAL:
		return "EINVAL: invalid argument (alignment, size, non-canonical address or option)";
	case VPTE_EROFS:
		return "EROFS: table is read-only";
	case VPTE_ERANGE:
		return "ERANGE: address beyond the format's VA or PA width";
	default:
		return "unknown error";
	}
}

unsigned vpte_va_space(const struct vpte_format *fmt, vpte_va_t start[2], uint64_t size[2])
{
	if (!fmt->sign_extend) {
		start[0] = vpte_va(0);
		size[0] = 1ull << fmt->va_bits;
		return 1;
	}
	uint64_t half = 1ull << (fmt->va_bits - 1u);
	start[0] = vpte_va(0);
	size[0] = half;
	start[1] = vpte_va(0 - half);
	size[1] = half;
	return 2;
}

static bool mem_ok(struct vpte_mem mem)
{
	return mem.ops && mem.ops->alloc && mem.ops->free && mem.ops->phys_to_virt;
}

int vpte_table_init(struct vpte_table *t, const struct vpte_format *fmt, struct vpte_mem mem)
{
	if (!t || !fmt || !mem_ok(mem))
		return -VPTE_EINVAL;
	uint64_t page = 1ull << fmt->granule_shift;
	vpte_pa_t root;
	if (mem.ops->alloc(mem.ctx, page, page, &root))
		return -VPTE_ENOMEM;
	*t = (struct vpte_table){ .fmt = fmt, .root = root, .mem = mem };
	return 0;
}

int vpte_table_attach(struct vpte_table *t, const struct vpte_format *fmt, struct vpte_mem mem,
		      vpte_pa_t root, uint32_t flags)
{
	if (!t || !fmt || !mem.ops || !mem.ops->phys_to_virt ||
	    (flags & ~(VPTE_TABLE_READONLY | VPTE_TABLE_NO_HW_UPDATES)))
		return -VPTE_EINVAL;
	if (!(flags & VPTE_TABLE_READONLY) && !mem_ok(mem))
		return -VPTE_EINVAL;
	if (root.addr & ((1ull << fmt->granule_shift) - 1))
		return -VPTE_EINVAL;
	if (root.addr >> fmt->pa_bits)
		return -VPTE_ERANGE;
	*t = (struct vpte_table){ .fmt = fmt, .root = root, .mem = mem, .flags = flags };
	return 0;
}

int vpte_table_destroy(struct vpte_table *t)
{
	return t->fmt->ops->destroy(t);
}

void vpte_table_set_observer(struct vpte_table *t, const struct vpte_observer *observer)
{
	t->observer = observer;
}

void vpte_table_set_reclaim(struct vpte_table *t, const struct vpte_reclaim *reclaim)
{
	t->reclaim = reclaim;
}

void vpte_table_set_hw_updates(struct vpte_table *t, bool hw_updates)
{
	if (hw_updates)
		t->flags &= ~VPTE_TABLE_NO_HW_UPDATES;
	else
		t->flags |= VPTE_TABLE_NO_HW_UPDATES;
}

int vpte_seek(struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va)
{
	return t->fmt->ops->seek(w, t, va);
}

int vpte_seek_flags(struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va,
		    unsigned flags)
{
	if (flags & ~VPTE_SEEK_NO_SPECIAL)
		return -VPTE_EINVAL;
	int err = vpte_seek(w, t, va);
	if (!err && (flags & VPTE_SEEK_NO_SPECIAL) && w->kind == VPTE_LEAF &&
	    (w->prot.flags & VPTE_SPECIAL))
		return -VPTE_EPERM;
	return err;
}

int vpte_iter_start(struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va, uint64_t size,
		    unsigned mode)
{
	return t->fmt->ops->iter_start(w, t, va, size, mode);
}

int vpte_iter_next(struct vpte_walk *w)
{
	return w->table->fmt->ops->iter_next(w);
}

int vpte_map(struct vpte_table *t, vpte_va_t va, vpte_pa_t pa, uint64_t size,
	     struct vpte_prot prot, const struct vpte_map_opts *opts)
{
	return t->fmt->ops->map(t, va, pa, size, prot, opts);
}

int vpte_unmap(struct vpte_table *t, vpte_va_t va, uint64_t size, struct vpte_gather *gather)
{
	return t->fmt->ops->unmap(t, va, size, gather);
}

int vpte_protect(struct vpte_table *t, vpte_va_t va, uint64_t size, struct vpte_prot set,
		 struct vpte_prot clear, struct vpte_gather *gather)
{
	return t->fmt->ops->protect(t, va, size, set, clear, gather);
}

int vpte_split(struct vpte_table *t, vpte_va_t va, uint64_t size, unsigned shift,
	       struct vpte_gather *gather)
{
	return t->fmt->ops->split(t, va, size, shift, gather);
}

int vpte_collapse(struct vpte_table *t, vpte_va_t va, uint64_t size, unsigned max_shift,
		  struct vpte_gather *gather)
{
	return t->fmt->ops->collapse(t, va, size, max_shift, gather);
}

/* The source's engine walks the source inline and reaches the destination
 * through its format's map_piece entry point. */
int vpte_copy(struct vpte_table *dst, struct vpte_table *src, vpte_va_t va, uint64_t size,
	      const struct vpte_copy_opts *opts)
{
	return src->fmt->ops->copy(dst, src, va, size, opts);
}

int vpte_harvest(struct vpte_table *t, vpte_va_t va, uint64_t size, uint64_t *bitmap,
		 const struct vpte_harvest_opts *opts)
{
	return t->fmt->ops->harvest(t, va, size, bitmap, opts);
}
