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
#include "engine/protect.h"

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

/*
 * The direct copy.  When the destination's format has the source's
 * geometry (granule, levels, VA width), a source leaf table maps onto a
 * destination table entry for entry, and the copy is a walk of the source
 * tables with the destination's path alongside: each leaf is encoded
 * straight into its destination entry, from a memo of the destination's
 * encoding for the source leaf's bits outside its PA field (as vpte_protect
 * does: struct change_memo), stepped by PA (leaf_step(), table.h).  It
 * produces exactly what the pieces would (a piece of one whole plain leaf
 * is that leaf, at its level), and applies only where that is plain to
 * see; anything else (contiguous runs, leaves the range cuts, a leaf level
 * the destination lacks, a destination table where a leaf goes, any error)
 * makes the plan answer COPY_GENERAL, and the copy goes through the pieces,
 * which also report the errors.
 *
 * In a leaf table, a leaf starts a row (alike_row(), leafbits.h, exact):
 * the entries after it that are it stepped by PA, accessed and dirty
 * included, cost one load and one compare each in the plan (which then
 * only counts) and again in the apply, which writes their copies as the
 * copy of the first stepped by PA (fill_private() into a table written
 * whole, a release store each into a table already there) and tells the
 * observer of each, in order, after the row's stores.  Holes and entries
 * of other encodings end a row and take the entry-by-entry path, as does
 * the apply of a write-protecting copy (each source entry is replaced by
 * itself).
 */
#define COPY_GENERAL (-1000)

/* Destination tables along the walk: in place, still to be created, or
 * (plan) counted as created. */
enum dst_state { DST_REAL, DST_MISSING, DST_COUNTED };

/*
 * struct copy_memo - for source leaves of one level whose bits outside the
 * PA field are @key (MEMO_NONE: none yet): the destination entry is enc + (pa >>
 * shift) * step.  @plain: write-protecting the source is a plain store
 * (leafstore.h).
 */
struct copy_memo {
	uint64_t key, enc, step;
	bool plain;
	bool verbatim; /* the copy of each such leaf is the leaf itself */
};

struct copy_walk {
	const struct vpte_table *dst;
	uint64_t first, last;
	bool wrprotect;
	struct vpte_pool *pool; /* NULL: plan */
	struct vpte_pool *whole_pool; /* (apply) pages for the tables written whole */
	struct vpte_gather *g;
	int64_t created, whole; /* (plan) tables to create; of those, written whole */
	/* (apply) the entry publishing the leaf table being written whole,
	 * stored once the row is written; NULL: none. */
	vpte_slot_t *pub;
	uint64_t pub_entry;
	uint64_t pa_any; /* every source PA ORed: the destination's width is checked once */
	void *dpath[VPTE_MAX_LEVELS];
	enum dst_state dstate[VPTE_MAX_LEVELS];
	struct leaf_batch batch;
	struct copy_memo memo[VPTE_MAX_LEVELS];
};

/* The attributes the copy of the leaf @e gets (copy_piece()). */
VPTE_INLINE struct vpte_prot copy_prot(const struct vpte_format *f, const struct vpte_codec *c,
				       uint64_t e, unsigned level, bool wrprotect)
{
	struct vpte_prot prot = c->leaf_prot(f, e, level);
	if (wrprotect)
		prot.flags &= ~VPTE_W;
	return prot;
}

/* copy_memo_fill - the memo for the source leaf @e at @level in the
 * destination format @df/@dc; false if the direct copy cannot place it. */
VPTE_INLINE bool copy_memo_fill(const struct vpte_format *f, const struct vpte_codec *c,
				const struct vpte_format *df, const struct vpte_codec *dc,
				struct copy_memo *m, uint64_t e, unsigned level, bool wrprotect)
{
	struct vpte_prot prot = copy_prot(f, c, e, level, wrprotect);
	unsigned shift = g_shift(f, level);
	if (!(df->leaf_levels & (1u << level)) || c->leaf_cont(f, e, level) ||
	    check_prot(df, dc, prot))
		return false;
	uint64_t top = mask_below(df->pa_bits) & ~mask_below(shift);
	m->enc = dc->make_leaf(df, 0, level, prot, false);
	m->step = dc->make_leaf(df, 1ull << shift, level, prot, false) - m->enc;
	if (dc->make_leaf(df, top, level, prot, false) != m->enc + (top >> shift) * m->step)
		return false;
	m->key = e & ~pa_field(f, c, level);
	m->plain = leaf_store_plain(f, c, false, e, level);
	m->verbatim = m->enc == m->key && m->step == pa_step(f, c, level);
	return true;
}

/*
 * The destination table at @level on the walk's path, for the entry at
 * @ia: create (apply) or count (plan) every missing one down to it.  A
 * missing leaf table whose source row the range covers (@row_whole) is
 * written whole (internal.h, "tables written whole"): every entry gets the
 * copy of a leaf or, for a hole, a zero, so it takes an unzeroed page and
 * copy_table() publishes it (w->pub) once the row is written.  Never on a
 * concurrent destination: copy_fast() does not run there.
 */
VPTE_INLINE void *dst_table(const struct vpte_format *f, const struct vpte_codec *dc,
			    const struct vpte_format *df, struct copy_walk *w, unsigned level,
			    uint64_t ia, bool row_whole)
{
	unsigned top = level;
	while (w->dstate[top] == DST_MISSING)
		top++;
	for (unsigned lv = top; lv-- > level;) {
		if (w->dstate[lv] != DST_MISSING)
			continue;
		bool whole = row_whole && lv == 0;
		if (!w->pool) {
			w->created++;
			w->whole += whole;
			w->dstate[lv] = DST_COUNTED;
			continue;
		}
		if (whole) {
			vpte_pa_t page = vpte_pool_take_for_whole(w->whole_pool, w->pool, w->dst);
			w->pub = slot_at(w->dpath[1], g_index(f, ia, 1));
			w->pub_entry = dc->make_table(df, page.addr);
			w->dpath[0] = tab_ptr(df, w->dst, page.addr);
			w->dstate[0] = DST_REAL;
			continue;
		}
		bool won;
		/* Not a concurrent table (copy_fast()): the slot is empty. */
		w->dpath[lv] = install_table(df, dc, w->dst, w->pool,
					     slot_at(w->dpath[lv + 1u], g_index(f, ia, lv + 1u)),
					     lv + 1u, &won);
		w->dstate[lv] = DST_REAL;
	}
	return w->dstate[level] == DST_REAL ? w->dpath[level] : NULL;
}

/* The copies of @n source leaves stepped by PA, from entry @at of the
 * destination table @dtable on: @d, then @step more each.  The first maps
 * index address @ia to @pa, the leaves 2^@shift bytes; @priv: @dtable is
 * written whole (through the backend's fill where it has one). */
VPTE_INLINE void copy_stepped(const struct vpte_format *f, struct copy_walk *w,
			      vpte_slot_t *dtable, unsigned at, unsigned n, uint64_t d, uint64_t step,
			      uint64_t ia, uint64_t pa, unsigned shift, bool priv)
{
	if (priv)
		fill_private(&w->dst->mem, slot_at(dtable, at), n, d, step);
	else
		store_stepped(slot_at(dtable, at), n, d, step);
	observe_installs(f, w->dst, ia, pa, shift, n);
}

/*
 * copy_table - the direct copy of the source entries *@i..@end of the
 * table @table at @level (entry 0 maps @base): 0 when done, 1 with *@i at
 * a table entry to go down into, COPY_GENERAL when the direct copy does
 * not apply.  Inlined with @level 0 as a constant for the leaf tables.
 */
VPTE_INLINE int copy_table(const struct vpte_format *f, const struct vpte_codec *c,
			   const struct vpte_format *df, const struct vpte_codec *dc,
			   struct copy_walk *w, vpte_slot_t *table, unsigned level, uint64_t base,
			   unsigned *i, unsigned end)
{
	struct copy_memo *memo = &w->memo[level];
	uint64_t key = memo->key, enc = memo->enc, step = memo->step;
	bool plain = memo->plain, verbatim = memo->verbatim;
	const uint64_t pam = pa_field(f, c, level);
	const struct flag_bits wb = flag_bits(f, c, level, VPTE_W);
	unsigned shift = g_shift(f, level), at = *i, first_at = ~0u, last_at = 0;
	const struct vpte_observer *obs = w->dst->observer;
	const bool observe = obs && obs->install;
	/* Locals, kept in registers across the loop's atomic loads. */
	const bool apply = w->pool != NULL, wrprotect = w->wrprotect;
	vpte_slot_t *dtable = NULL;
	bool placed = false, priv = false; /* @priv: dtable is written whole */
	bool tried = false; /* uniform_row() on the rest of the table */
	uint64_t pa_any = 0;
	int ret = 0;
	for (; at <= end; at++) {
		uint64_t e = slot_load(slot_at(table, at));
		int kind = memo_kind(f, c, e, level, pam, key);
		if (kind != MEMO_HIT && kind != VPTE_LEAF) {
			if (kind == VPTE_HOLE) {
				if (priv)
					fill_private(&w->dst->mem, slot_at(dtable, at), 1, 0, 0);
				continue;
			}
			ret = kind == VPTE_TABLE ? 1 : COPY_GENERAL;
			break;
		}
		uint64_t entry_ia = base + ((uint64_t)at << shift);
		if (kind == VPTE_LEAF) {
			if (!copy_memo_fill(f, c, df, dc, memo, e, level, wrprotect)) {
				ret = COPY_GENERAL;
				break;
			}
			key = memo->key;
			enc = memo->enc;
			step = memo->step;
			plain = memo->plain;
			verbatim = memo->verbatim;
		}
		/* Only a huge leaf at the range's edges can reach out of it. */
		if (level && (entry_ia < w->first || entry_ia + mask_below(shift) > w->last)) {
			ret = COPY_GENERAL;
			break;
		}
		if (!placed) {
			/* A leaf table's row is all in the range (*@i to @end) or
			 * starts or ends with it. */
			bool row_whole = !level && base >= w->first &&
					 base + mask_below(g_shift(f, 1u)) <= w->last;
			dtable = dst_table(f, dc, df, w, level, entry_ia, row_whole);
			placed = true;
			priv = w->pub != NULL;
			/* The holes before this leaf. */
			if (priv)
				fill_private(&w->dst->mem, slot_at(dtable, *i), at - *i, 0, 0);
		}
		/* A leaf goes where the destination has a table: the pieces
		 * would fill that with smaller leaves. */
		if (level && dtable && !apply && slot_load(slot_at(dtable, at))) {
			ret = COPY_GENERAL;
			break;
		}
		uint64_t pa = c->leaf_pa(f, e, level, entry_ia);
		pa_any |= pa;
		if (!level && !(apply && wrprotect)) {
			/* Once a table: when all the rest of it is this leaf
			 * but for the PA (uniform_row()), the plan has only
			 * the PAs' bits to learn, and an apply whose copies
			 * are the leaves themselves copies them as they are,
			 * into a table written whole, as it tests them (when
			 * the test fails, the rows below write every entry
			 * again).  An observer hears of each install with its
			 * PA: rows stepped by PA then.  Two calls, so that the
			 * plan's inlined copy has no stores to skip. */
			bool rest = !tried && !observe && (!apply || (verbatim && priv));
			uint64_t pa_or;
			tried = true;
			if (rest && (apply ? uniform_row(table, at, end, pam, key, &pa_or,
							 slot_at(dtable, at))
					   : uniform_row(table, at, end, pam, key, &pa_or, NULL))) {
				pa_any |= c->leaf_pa(f, key | pa_or, 0, entry_ia);
				at = end;
				continue;
			}
			/* A row of this leaf stepped by PA (alike_row()): its
			 * copies are the copy of this leaf stepped by PA.  At
			 * least the leaf as loaded, should the hardware have
			 * changed it since. */
			unsigned n = alike_row(f, c, table, 0, at, end, e, true, NULL);
			n += !n;
			pa_any |= pa + ((uint64_t)(n - 1u) << shift);
			if (apply)
				copy_stepped(f, w, dtable, at, n, enc + (pa >> shift) * step, step,
					     entry_ia, pa, shift, priv);
			at += n - 1u;
			continue;
		}
		if (!apply)
			continue;
		if (wrprotect && flag_in(e, wb)) {
			/* Fork's order: the source loses W before its copy
			 * exists.  In a leaf table, a row of this leaf stepped
			 * by PA as a row (change_row(): plain stores, or swaps
			 * two at a time where the hardware may change the
			 * leaves) up to an entry the hardware changed
			 * meanwhile, which the next step takes alone; its
			 * copies are stepped. */
			unsigned n = 0;
			if (!level) {
				unsigned alike = alike_row(f, c, table, 0, at, end, e, true, NULL);
				bool lost = false;
				alike += !alike;
				n = change_row(table, at, at + alike - 1u, ~pam, e & ~pam,
					       wb.on | wb.off, plain, &lost) -
				    at;
			}
			if (first_at == ~0u)
				first_at = at;
			if (n) {
				copy_stepped(f, w, dtable, at, n, enc + (pa >> shift) * step, step,
					     entry_ia, pa, shift, priv);
				pa_any |= pa + ((uint64_t)(n - 1u) << shift);
				last_at = at + n - 1u;
				at += n - 1u;
				continue;
			}
			uint64_t was = leaf_clear_flag(slot_at(table, at), e, wb, plain);
			/* The hardware set a flag meanwhile: the copy has it too
			 * (accessed and dirty change nothing the plan checked). */
			if (was != e && copy_memo_fill(f, c, df, dc, memo, was, level, true)) {
				key = memo->key;
				enc = memo->enc;
				step = memo->step;
				plain = memo->plain;
			}
			slot_store(slot_at(dtable, at), enc + (pa >> shift) * step);
			last_at = at;
		} else {
			slot_store(slot_at(dtable, at), enc + (pa >> shift) * step);
		}
		if (observe)
			observe_install(w->dst, ia_to_va(f, entry_ia), pa, shift);
	}
	if (priv) {
		slot_store(w->pub, w->pub_entry);
		w->pub = NULL;
	}
	if (first_at != ~0u) {
		batch_leaf(&w->batch, base + ((uint64_t)first_at << shift), shift);
		batch_leaf(&w->batch, base + ((uint64_t)last_at << shift), shift);
	}
	w->pa_any |= pa_any;
	*i = at;
	return ret;
}

/*
 * copy_direct - plan (@w->pool NULL: returns the tables to create, or
 * COPY_GENERAL) or apply the direct copy of [w->first, w->last] from @src
 * into w->dst, whose format @df/@dc has the source's geometry.
 */
VPTE_INLINE int64_t copy_direct(const struct vpte_format *f, const struct vpte_codec *c,
				const struct vpte_format *df, const struct vpte_codec *dc,
				const struct vpte_table *src, struct copy_walk *w)
{
	void *path[VPTE_MAX_LEVELS];
	unsigned level = g_top(f);
	uint64_t ia = w->first;
	w->created = 0;
	w->whole = 0;
	w->pa_any = 0;
	w->dpath[level] = tab_ptr(df, w->dst, w->dst->root.addr);
	w->dstate[level] = DST_REAL;
	if (!(path[level] = tab_ptr(f, src, src->root.addr)) || !w->dpath[level])
		return COPY_GENERAL;
	for (;;) {
		unsigned shift = g_shift(f, level), end = stretch_end(f, level, ia, w->last);
		unsigned i = g_index(f, ia, level);
		uint64_t base = table_base(f, level, ia);
		int ret = level ? copy_table(f, c, df, dc, w, path[level], level, base, &i, end)
				: copy_table(f, c, df, dc, w, path[0], 0, base, &i, end);
		if (ret < 0)
			return ret;
		if (ret) {
			uint64_t e = slot_load(slot_at(path[level], i));
			if (!(path[level - 1u] = tab_ptr(f, src, c->table_pa(f, e))))
				return COPY_GENERAL;
			w->dstate[level - 1u] = DST_MISSING;
			if (w->dstate[level] == DST_REAL) {
				uint64_t de = slot_load(slot_at(w->dpath[level], i));
				int kind = dc->kind(df, de, level);
				if (kind == VPTE_TABLE) {
					if (!(w->dpath[level - 1u] = tab_ptr(df, w->dst, dc->table_pa(df, de))))
						return COPY_GENERAL;
					w->dstate[level - 1u] = DST_REAL;
				} else if (kind != VPTE_HOLE) {
					return COPY_GENERAL;
				}
			}
			ia = base + ((uint64_t)i << shift);
			ia = ia > w->first ? ia : w->first;
			level--;
			continue;
		}
		if (!range_step(f, &level, base, end, w->last, &ia))
			return w->pa_any >> df->pa_bits ? COPY_GENERAL : w->created;
	}
}


/* Can the direct copy serve a copy into @df?  Sign extension may differ:
 * a range valid in both formats has the same index addresses in both
 * (a format without it takes only the lower half of the other's). */
VPTE_INLINE bool copy_geometry_alike(const struct vpte_format *f, const struct vpte_format *df)
{
	if (df->granule_shift != f->granule_shift || df->levels != f->levels ||
	    df->va_bits != f->va_bits)
		return false;
	for (unsigned l = 0; l < f->levels; l++)
		if (df->level_bits[l] != f->level_bits[l])
			return false;
	return true;
}

/*
 * copy_fast - the direct copy, all or nothing: plan, fill the pool,
 * apply.  Returns COPY_GENERAL, before anything changed, when it does not
 * apply.
 */
VPTE_INLINE int copy_fast(const struct vpte_format *f, const struct vpte_codec *c,
			  const struct vpte_format *df, const struct vpte_codec *dc,
			  struct vpte_table *dst, struct vpte_table *src, uint64_t first,
			  uint64_t last, bool wrprotect, struct vpte_gather *g)
{
	struct copy_walk w = { .dst = dst, .first = first, .last = last, .wrprotect = wrprotect };
	struct vpte_pool pool = { 0 }, whole = { 0 };
	for (unsigned l = 0; l < VPTE_MAX_LEVELS; l++)
		w.memo[l].key = MEMO_NONE;
	int64_t tables = copy_direct(f, c, df, dc, src, &w);
	if (tables < 0)
		return (int)tables;
	int ret = vpte_pools_fill(&pool, (uint64_t)(tables - w.whole), &whole, (uint64_t)w.whole, dst);
	if (ret)
		return ret;
	w.pool = &pool;
	w.whole_pool = &whole;
	copy_direct(f, c, df, dc, src, &w); /* planned: cannot fail */
	if (g)
		batch_flush(f, &w.batch, g);
	vpte_pool_drain(&pool, dst);
	vpte_pool_drain(&whole, dst);
	return 0;
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

	uint64_t first, last;
	/* The direct copy assumes that no other thread edits either table
	 * (vpte_table_set_reclaim() says one may): those take the pieces. */
	if (copy_geometry_alike(f, dst->fmt) && !table_concurrent(dst) && !table_concurrent(src) &&
	    !check_va_range(f, va.addr, size, true, &first, &last)) {
		ret = dst->fmt->ops == f->ops
			      ? copy_fast(f, c, f, c, dst, src, first, last, wrprotect, g)
			      : copy_fast(f, c, dst->fmt, dst->fmt->ops->entry_codec, dst, src, first, last,
					  wrprotect, g);
		if (ret != COPY_GENERAL)
			return ret;
	}

	int64_t tables = copy_pass(f, c, dst, src, va, size, wrprotect, NULL, NULL);
	if (tables < 0)
		return (int)tables;
	struct vpte_pool pool = { 0 };
	if ((ret = vpte_pool_fill(&pool, dst, (uint64_t)tables)))
		return ret;
	copy_pass(f, c, dst, src, va, size, wrprotect, &pool, g); /* planned: cannot fail */
	vpte_pool_drain(&pool, dst);
	return 0;
}

#endif
