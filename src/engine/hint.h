/* SPDX-License-Identifier: MIT */
/*
 * hint.h - the leaf-table hint of a single-page map (struct vpte_map_hint,
 * vpte/vpte.h): a fault handler or a VMM filling memory page by page maps
 * consecutive pages, nearly always into the leaf table of the map before
 * and with the attributes of the map before.
 *
 * The hint is validated, never trusted: it records the entry the descent
 * read at each level and where, and is used only when every one of them
 * still holds that value, compared from the root down.  The root and the
 * direct window being the ones recorded make the root's slot the one the
 * descent would read; an entry equal to the recorded one makes the table
 * it points to the one the descent would reach (the pointer derives from
 * the entry and the window alone, so a table freed and another allocated
 * at its PA is the live table, as it would be for the descent).  So no
 * memory is read that the descent would not read, and nothing has to tell
 * the hint that a table was freed.
 *
 * Beside the path it keeps the last attributes and their encoding, used
 * only for attributes equal in every field and by the format that encoded
 * them: those passed prot_ok() when they were recorded.
 */
#ifndef VPTE_ENGINE_HINT_H
#define VPTE_ENGINE_HINT_H

#include "engine/walk.h"

/*
 * hint_key - the key of the page at @va: its VA with the leaf table's
 * index bits set.  Never 0, so a zeroed hint matches nothing; and a key
 * recorded for a page that passed validation (granule-aligned, in the VA
 * space) is equal only to the key of such a page of the same span, so the
 * one compare checks those too.
 */
VPTE_INLINE uint64_t hint_key(const struct vpte_format *f, uint64_t va)
{
	return va | (mask_below(g_shift(f, 1)) & ~mask_below(f->granule_shift));
}

/* @pa is granule-aligned and below 2^pa_bits: one test. */
VPTE_INLINE bool hint_pa_ok(const struct vpte_format *f, uint64_t pa)
{
	return !(pa & (~mask_below(f->pa_bits) | mask_below(f->granule_shift)));
}

/* @prot is the one the hint encoded last (every field equal); by the
 * format of the caller when the hint's format is (hint_prot(),
 * hint_leaf_table()). */
VPTE_INLINE bool hint_prot_is(const struct vpte_map_hint *h, struct vpte_prot prot)
{
	return prot.flags == h->prot.flags && prot.memtype == h->prot.memtype &&
	       prot.raw == h->prot.raw;
}

/*
 * hint_prot - make @prot the hint's attributes: false (the hint unchanged)
 * when @f cannot encode them.  A hint recorded by another format (a hint
 * copied from another table) is dropped first, path and all.
 */
VPTE_INLINE bool hint_prot(const struct vpte_format *f, const struct vpte_codec *c,
			   struct vpte_map_hint *h, struct vpte_prot prot)
{
	if (h->format == f && hint_prot_is(h, prot))
		return true;
	if (check_prot(f, c, prot))
		return false;
	if (h->format != f)
		*h = (struct vpte_map_hint){ .format = f };
	h->prot = prot;
	prot.flags |= VPTE_A;
	h->leaf = c->make_leaf(f, 0, 0, prot, false);
	return true;
}

/*
 * hint_leaf - the leaf at level 0 mapping @pa with the hint's attributes.
 * Every format places the PA as a plain field beside the attributes
 * (pa_field()), so two encodings of one PA differ only in attribute bits:
 * the XOR takes any attributes' bits off @pa's encoding, leaving its PA
 * field, and the hint's encoding at PA 0 ORed with it is the encoding at
 * @pa.  The attributes chosen set few bits, all low (no execute-never,
 * no read-only bit), so the XOR folds to one AND with a small constant.
 */
VPTE_INLINE uint64_t hint_leaf(const struct vpte_format *f, const struct vpte_codec *c,
			       const struct vpte_map_hint *h, uint64_t pa)
{
	const struct vpte_prot any = { VPTE_R | VPTE_W | VPTE_X, VPTE_MT_WB, 0 };
	return h->leaf | (c->make_leaf(f, pa, 0, any, false) ^ c->make_leaf(f, 0, 0, any, false));
}

/*
 * hint_leaf_table - point *@table at the leaf table holding the entry of
 * the page whose key (hint_key()) is @key, from @t's hint, when the hint
 * is @f's, for that span, and still describes the path the descent would
 * take; false otherwise.  (Another format's path may have fewer levels:
 * its format is tested before any recorded slot is read.)
 */
VPTE_INLINE bool hint_leaf_table(const struct vpte_format *f, const struct vpte_table *t,
				 uint64_t key, void **table)
{
	const struct vpte_map_hint *h = &t->hint;
	const struct vpte_direct_map *d = t->mem.direct;
	if (key != h->span || d != h->direct || h->format != f)
		return false;
	/* A window moved or resized since, or another root, would put the
	 * recorded slots elsewhere: one test of them all. */
	if ((d->pa_base ^ h->pa_base) | (d->size ^ h->size) | (d->virt ^ h->virt) |
	    (t->root.addr ^ h->root))
		return false;
	VPTE_UNROLL_LEVELS
	for (unsigned i = 0; i + 1u < f->levels; i++)
		if (slot_load((vpte_slot_t *)h->slot[i]) != h->entry[i])
			return false;
	*table = h->leaf_table;
	return true;
}

/*
 * hint_record - should the descent for the page whose key is @key record
 * its path?  Yes for a second page in the span of the page before (a map
 * filling pages in order), or in the hint's span (whose path changed); a
 * first page only notes its span, so that maps in random order, which
 * would never use the path, do not pay for recording it.
 */
VPTE_INLINE bool hint_record(struct vpte_map_hint *h, uint64_t key)
{
	bool record = key == h->span || key == h->last;
	h->last = key;
	return record;
}

/* Start recording a new path: the hint matches nothing until
 * hint_finish(), so a descent that stops half-way leaves no mixed path. */
VPTE_INLINE void hint_start(struct vpte_map_hint *h)
{
	h->span = 0;
}

/* The descent read @e at @slot, @i levels below the top. */
VPTE_INLINE void hint_step(struct vpte_map_hint *h, unsigned i, vpte_slot_t *slot, uint64_t e)
{
	h->slot[i] = (void *)slot;
	h->entry[i] = e;
}

/* The descent for @va reached @leaf_table through @view from @t's root. */
VPTE_INLINE void hint_finish(const struct vpte_format *f, const struct vpte_table *t,
			     struct vpte_map_hint *h, const struct mem_view *view, uint64_t va,
			     void *leaf_table)
{
	h->direct = t->mem.direct;
	h->pa_base = view->base;
	h->size = view->pages + g_page(f) - 1u; /* mem_view()'s pages, undone */
	h->virt = view->virt;
	h->root = t->root.addr;
	h->leaf_table = leaf_table;
	h->span = hint_key(f, va);
}

#endif
