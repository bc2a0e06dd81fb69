/* SPDX-License-Identifier: MIT */
/*
 * protect.h - vpte_protect: cut the range's edges (edges.h), then rewrite
 * every leaf inside the range with the change applied.
 */
#ifndef VPTE_ENGINE_PROTECT_H
#define VPTE_ENGINE_PROTECT_H

#include "engine/edges.h"

/* The change itself is well-formed, whatever the table holds. */
VPTE_INLINE int check_change(const struct vpte_format *f, const struct prot_change *ch)
{
	if (((ch->set.flags | ch->clear.flags) & ~VPTE_PROT_FLAGS) ||
	    ((ch->set.raw | ch->clear.raw) & ~f->raw_mask))
		return -VPTE_EINVAL;
	if (ch->clear.memtype == 0)
		return ch->set.memtype == 0 ? 0 : -VPTE_EINVAL;
	return ch->clear.memtype == VPTE_MT_MASK && ch->set.memtype <= VPTE_MT_DEVICE
		       ? 0
		       : -VPTE_EINVAL;
}

/* Apply @ch to every leaf in [first, last], all whole after cut_edges(). */
VPTE_INLINE void protect_leaves(const struct vpte_format *f, const struct vpte_codec *c,
				const struct vpte_table *t, struct vpte_gather *g,
				uint64_t first, uint64_t last, const struct prot_change *ch)
{
	struct vpte_walk w;
	for (int ret = eng_iter_start(f, c, &w, t, vpte_va(ia_to_va(f, first)), last - first + 1u,
				      VPTE_ITER_LEAVES);
	     ret > 0; ret = eng_iter_next(f, c, &w)) {
		vpte_slot_t *member = slot_at(w.path[w.level], g_index(f, w.index_addr, w.level));
		unsigned members = 1u << (w.shift - g_shift(f, w.level));
		if (rewrite_leaf(f, c, member, members, w.level, w.index_addr, ch, w.cont))
			vpte_gather_leaf(g, w.va.addr, w.shift);
	}
}

VPTE_INLINE int eng_protect(const struct vpte_format *f, const struct vpte_codec *c,
			    struct vpte_table *t, vpte_va_t va, uint64_t size,
			    struct vpte_prot set, struct vpte_prot clear,
			    struct vpte_gather *gather)
{
	struct prot_change ch = { set, clear };
	uint64_t first, last;
	struct vpte_pool pool = { vpte_pa(0), 0 };
	int err = check_change(f, &ch);
	if (!err)
		err = edges_prepare(f, c, t, va, size, &ch, gather, &first, &last, &pool);
	if (err)
		return err;
	struct vpte_gather local, *g = edit_gather(t, gather, &local);
	cut_edges(f, c, t, &pool, g, first, last);
	protect_leaves(f, c, t, g, first, last, &ch);
	vpte_pool_drain(&pool, t);
	edit_gather_end(g, &local);
	return 0;
}

#endif
