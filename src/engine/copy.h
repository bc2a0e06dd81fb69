/* SPDX-License-Identifier: MIT */
/*
 * copy.h - vpte_copy: one walk of the source, each leaf mapped into the
 * destination through the same engine path as vpte_map.
 *
 * The engine is stamped out per *source* format, so reading the source
 * (leaves, members of a run, write-protecting) is inlined.  The destination
 * is reached through its format's map_piece entry point, or inline when it
 * has the same format.  Each source leaf becomes one piece, its part inside
 * the range, which vpte_map's leaf choice fills with the destination's
 * largest leaves.  A piece holds no leaf larger than itself, so a copy into
 * the same format reproduces the leaf structure, and one into another
 * format splits a leaf only where that format lacks its size.
 *
 * All or nothing, like vpte_map: a read-only pass plans every piece against
 * the destination (one map cursor across the pieces, so a table the copy
 * creates is counted once), the destination's pages are allocated, and the
 * apply pass, which cannot fail, write-protects each source leaf (with
 * VPTE_COPY_WRPROTECT) and installs its copy.
 */
#ifndef VPTE_ENGINE_COPY_H
#define VPTE_ENGINE_COPY_H

#include "engine/harvest.h"
#include "engine/map.h"

/*
 * copy_piece - the piece that copies the part of source leaf @w inside
 * [va, va + size): same VA and PA, the leaf's attributes with the run's
 * accessed and dirty (any member's), without W when write-protecting.
 */
VPTE_INLINE int copy_piece(const struct vpte_format *f, const struct vpte_codec *c,
			   const struct vpte_walk *w, uint64_t va, uint64_t size, bool wrprotect,
			   struct vpte_piece *p)
{
	static const uint32_t hw_flags[] = { VPTE_A, VPTE_D };
	uint64_t last = va + (size - 1u), leaf_last = w->va.addr + mask_below(w->shift);
	uint64_t lo = w->va.addr > va ? w->va.addr : va;
	uint64_t hi = leaf_last < last ? leaf_last : last;
	/* Write-protecting part of a leaf would need a split of the source. */
	if (wrprotect && (lo != w->va.addr || hi != leaf_last))
		return -VPTE_EINVAL;
	p->va = vpte_va(lo);
	p->pa = vpte_pa(w->pa.addr + (lo - w->va.addr));
	p->size = hi - lo + 1u;
	p->prot = w->prot;
	if (w->cont)
		for (unsigned i = 0; i < 2; i++)
			if (leaf_test_flag(f, w, flag_bits(f, c, w->level, hw_flags[i]), false))
				p->prot.flags |= hw_flags[i];
	if (wrprotect)
		p->prot.flags &= ~VPTE_W;
	return 0;
}

/*
 * copy_pass - plan (@pool NULL: returns the destination tables to create,
 * or an error) or apply (write-protecting into @g) the copy.
 */
VPTE_INLINE int64_t copy_pass(const struct vpte_format *f, const struct vpte_codec *c,
			      const struct vpte_table *dst, struct vpte_table *src, vpte_va_t va,
			      uint64_t size, bool wrprotect, struct vpte_pool *pool,
			      struct vpte_gather *g)
{
	bool same = dst->fmt->ops == f->ops;
	struct map_cursor cur;
	struct vpte_walk w;
	int64_t tables = 0;
	int ret = map_cursor_start(dst->fmt, dst, &cur);
	if (ret)
		return ret;
	for (ret = eng_iter_start(f, c, &w, src, va, size, VPTE_ITER_LEAVES); ret > 0;
	     ret = eng_iter_next(f, c, &w)) {
		struct vpte_piece p;
		int err = copy_piece(f, c, &w, va.addr, size, wrprotect, &p);
		if (err)
			return err;
		/* fork's order: the source is read-only before its copy exists. */
		if (pool && wrprotect && leaf_test_flag(f, &w, flag_bits(f, c, w.level, VPTE_W), true) &&
		    g)
			vpte_gather_leaf(g, w.va.addr, w.shift);
		int64_t n = same ? eng_map_piece(f, c, dst, &p, pool, &cur)
				 : dst->fmt->ops->map_piece(dst, &p, pool, &cur);
		if (n < 0)
			return n;
		tables += n;
	}
	return ret < 0 ? ret : tables;
}

VPTE_INLINE int eng_copy(const struct vpte_format *f, const struct vpte_codec *c,
			 struct vpte_table *dst, struct vpte_table *src, vpte_va_t va, uint64_t size,
			 const struct vpte_copy_opts *opts)
{
	unsigned flags = opts ? opts->flags : 0u;
	struct vpte_gather *g = opts ? opts->gather : NULL;
	bool wrprotect = flags & VPTE_COPY_WRPROTECT;
	if ((flags & ~VPTE_COPY_WRPROTECT) || (g && g->table != src))
		return -VPTE_EINVAL;
	if ((dst->flags & VPTE_TABLE_READONLY) || (wrprotect && (src->flags & VPTE_TABLE_READONLY)))
		return -VPTE_EROFS;
	if ((va.addr | size) & mask_below(dst->fmt->granule_shift))
		return -VPTE_EINVAL;
	/* The range must be valid for the destination and empty there. */
	struct vpte_walk w;
	int ret = vpte_iter_start(&w, dst, va, size, VPTE_ITER_LEAVES);
	if (ret)
		return ret > 0 ? -VPTE_EEXIST : ret;

	int64_t tables = copy_pass(f, c, dst, src, va, size, wrprotect, NULL, NULL);
	if (tables < 0)
		return (int)tables;
	struct vpte_pool pool = { vpte_pa(0), 0 };
	if ((ret = vpte_pool_fill(&pool, dst, (uint64_t)tables)))
		return ret;
	copy_pass(f, c, dst, src, va, size, wrprotect, &pool, g); /* planned: cannot fail */
	vpte_pool_drain(&pool, dst);
	return 0;
}

#endif
