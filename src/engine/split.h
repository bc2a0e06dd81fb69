/* SPDX-License-Identifier: MIT */
/*
 * split.h - vpte_split: re-express the leaves in a range with leaves no
 * larger than a shift (HugeTLB high-granularity mapping), translations
 * unchanged.  The splitting is split_range() (edges.h); this file counts
 * the tables it needs beforehand, so that the split is all or nothing.
 */
#ifndef VPTE_ENGINE_SPLIT_H
#define VPTE_ENGINE_SPLIT_H

#include "engine/edges.h"

/*
 * split_tables - the tables split_range() creates for the leaf @w over
 * [first, last] down to 2^shift: at each level whose entries are still too
 * large, one for every entry of that level that meets the range.
 */
VPTE_INLINE uint64_t split_tables(const struct vpte_format *f, const struct vpte_walk *w,
				  uint64_t first, uint64_t last, unsigned shift)
{
	uint64_t leaf_last = w->index_addr + mask_below(w->shift);
	uint64_t lo = w->index_addr > first ? w->index_addr : first;
	uint64_t hi = leaf_last < last ? leaf_last : last;
	uint64_t tables = 0;
	for (unsigned level = w->level; g_shift(f, level) > shift; level--)
		tables += (hi >> g_shift(f, level)) - (lo >> g_shift(f, level)) + 1u;
	return tables;
}

/* plan_split - check the leaves the split rewrites (they must be
 * re-encodable) and count the tables it creates, or return an error. */
VPTE_INLINE int64_t plan_split(const struct vpte_format *f, const struct vpte_codec *c,
			       const struct vpte_table *t, uint64_t first, uint64_t last,
			       unsigned shift)
{
	struct vpte_walk w;
	int64_t tables = 0;
	int ret;
	for (ret = eng_iter_start(f, c, &w, t, vpte_va(ia_to_va(f, first)), last - first + 1u,
				  VPTE_ITER_LEAVES);
	     ret > 0; ret = eng_iter_next(f, c, &w)) {
		if (w.shift <= shift)
			continue;
		if (!c->prot_ok(f, w.prot))
			return -VPTE_EINVAL;
		tables += (int64_t)split_tables(f, &w, first, last, shift);
	}
	return ret < 0 ? ret : tables;
}

VPTE_INLINE int eng_split(const struct vpte_format *f, const struct vpte_codec *c,
			  struct vpte_table *t, vpte_va_t va, uint64_t size, unsigned shift,
			  struct vpte_gather *gather)
{
	uint64_t first, last;
	int err = edit_check(f, t, va, size, gather, &first, &last);
	if (err)
		return err;
	if (shift < f->granule_shift || shift > 63)
		return -VPTE_EINVAL;
	int64_t tables = plan_split(f, c, t, first, last, shift);
	if (tables < 0)
		return (int)tables;
	/* Every table a split creates is written whole (split_table()). */
	struct vpte_pool none = { 0 }, whole = { 0 };
	if ((err = vpte_pools_fill(&none, 0, &whole, (uint64_t)tables, t)))
		return err;
	struct vpte_gather local, *g = edit_gather(t, gather, &local);
	struct split_req r = { first, last, shift, true };
	split_range(f, c, t, &whole, g, &r);
	vpte_pool_drain(&whole, t);
	edit_gather_end(g, &local);
	return 0;
}

#endif
