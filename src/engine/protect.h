/* SPDX-License-Identifier: MIT */
/*
 * protect.h - vpte_protect: check that the change is encodable for every
 * leaf, cut the range's edges (edges.h), then apply the change to every
 * leaf inside the range.
 *
 * The change is not decoded and re-encoded per entry.  What it does to a
 * leaf depends only on the leaf's bits outside its PA field (its
 * "encoding"), which nearly all leaves of a range share: the change is
 * worked out once per encoding met (struct change_memo) as bits to keep
 * and bits to flip, and each entry then costs a load, a compare, an and
 * and an xor.  Two passes over the entries: plan_edges() checks every leaf
 * (one check per encoding met), then the apply pass changes them.
 */
#ifndef VPTE_ENGINE_PROTECT_H
#define VPTE_ENGINE_PROTECT_H

#include "engine/edges.h"
#include "engine/leafstore.h"
#include "engine/unmap.h"

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

/*
 * struct change_memo - the change for the leaves of one level whose bits
 * outside the PA field are @key (MEMO_NONE: none yet): the new entry is
 * e ^ delta (the PA field is kept, and every other bit of e is @key's);
 * @cont: they are members of contiguous runs.  @plain: a plain store
 * replaces such an entry (leaf_store_plain(): the hardware cannot change
 * it); otherwise a compare-and-swap does, and an accessed or dirty flag
 * the hardware sets meanwhile is kept.
 */
struct change_memo {
	uint64_t key, delta;
	bool plain, cont;
};

/* What memo_kind() returns for a leaf of the memo's encoding. */
#define MEMO_HIT 3

/* The kind of the entry @e at @level, or MEMO_HIT when its bits outside
 * the PA field @pam (pa_field(), computed once per table: compilers do not
 * always fold it) are @key: only a leaf can have those, so kind() runs
 * only for entries of another encoding. */
VPTE_INLINE int memo_kind(const struct vpte_format *f, const struct vpte_codec *c, uint64_t e,
			  unsigned level, uint64_t pam, uint64_t key)
{
	return (e & ~pam) == key ? MEMO_HIT : c->kind(f, e, level);
}

/*
 * memo_fill - work out @ch for the encoding of the leaf @e at @level
 * (mapping @entry_ia), as rewrite_leaf() (edges.h) would apply it: only
 * the bits in which the old and new attributes' encodings differ flip; a
 * memory type vpte cannot name has no encoding to differ from, so all but
 * the PA is replaced.  plan_edges() has checked that the format encodes
 * the result.  @no_hw: the table's entries change only through vpte
 * (VPTE_TABLE_NO_HW_UPDATES), so every entry takes a plain store.
 */
VPTE_INLINE void memo_fill(const struct vpte_format *f, const struct vpte_codec *c,
			   struct change_memo *m, const struct prot_change *ch, uint64_t e,
			   unsigned level, uint64_t entry_ia, bool no_hw)
{
	uint64_t pa = c->leaf_pa(f, e, level, entry_ia), pam = pa_field(f, c, level);
	bool cont = c->leaf_cont(f, e, level);
	struct vpte_prot old = c->leaf_prot(f, e, level), prot = prot_apply(ch, old);
	uint64_t next = c->make_leaf(f, pa, level, prot, cont);
	m->key = e & ~pam;
	if (old.memtype == VPTE_MT_OTHER)
		m->delta = m->key ^ (next & ~pam);
	else
		m->delta = next ^ c->make_leaf(f, pa, level, old, cont);
	m->plain = leaf_store_plain(f, c, no_hw, e, level);
	m->cont = f->cont_bits[level] && cont;
}

/*
 * struct protect_pass - what protect_range() does: apply the change to
 * every leaf in [first, last], recording the changed leaves in @batch.
 * One memo per level.  @no_hw: plain stores only (memo_fill()).
 */
struct protect_pass {
	const struct prot_change *ch;
	uint64_t first, last;
	bool no_hw;
	struct leaf_batch batch;
	struct change_memo memo[VPTE_MAX_LEVELS];
};

/*
 * protect_table - protect_range() over entries *@i..@end of the table at
 * @level (entry 0 maps index address @base): 0 when all are done, 1 with
 * *@i at a table entry to go down into.  Inlined with @level 0 as a
 * constant for the leaf tables.  The plain leaves of one encoding in a row
 * are changed by change_row(), and the gather's bookkeeping is done once
 * for the row.  A leaf whose entry the hardware changed between the load
 * and the compare-and-swap, and the members of a contiguous run (which
 * must change alike, whatever their own accessed and dirty say), go
 * through rewrite_leaf().
 */
VPTE_INLINE int protect_table(const struct vpte_format *f, const struct vpte_codec *c,
			      vpte_slot_t *table, unsigned level, uint64_t base, unsigned *i,
			      unsigned end, struct protect_pass *p)
{
	/* Locals, not the pass's fields: kept in registers across the loop's
	 * atomic loads. */
	struct change_memo *memo = &p->memo[level];
	uint64_t key = memo->key, delta = memo->delta;
	bool plain = memo->plain, cont = memo->cont;
	const uint64_t pam = pa_field(f, c, level);
	unsigned shift = g_shift(f, level), at = *i, first_at = ~0u, last_at = 0;
	unsigned run_step = 63, last_step = shift;
	bool single = false;
	int ret = 0;
	while (at <= end) {
		vpte_slot_t *slot = slot_at(table, at);
		uint64_t e = slot_load(slot);
		uint64_t entry_ia = base + ((uint64_t)at << shift);
		int kind = memo_kind(f, c, e, level, pam, key);
		/* plan_edges() has refused corrupt entries. */
		if (kind == VPTE_HOLE) {
			at++;
			continue;
		}
		if (kind == VPTE_TABLE) {
			ret = 1;
			break;
		}
		if (kind != MEMO_HIT) {
			memo_fill(f, c, memo, p->ch, e, level, entry_ia, p->no_hw);
			key = memo->key;
			delta = memo->delta;
			plain = memo->plain;
			cont = memo->cont;
		}
		/* The changed leaves: from entry @changed to the one at @last. */
		unsigned changed = at, last;
		if (f->cont_bits[level] && cont) {
			unsigned members = 1u << f->cont_bits[level];
			last = changed &= ~(members - 1u);
			at = changed + members;
			if (!rewrite_leaf(f, c, slot_at(table, changed), members, level,
					  base + ((uint64_t)changed << shift), p->ch, true))
				continue;
			last_step = run_step = shift + f->cont_bits[level];
		} else if (!delta) {
			/* Nothing changes in a leaf of this encoding. */
			at++;
			continue;
		} else {
			bool lost = false;
			unsigned row_end = change_row(table, at, end, ~pam, key, delta, plain, &lost);
			at = row_end + lost;
			if (lost && rewrite_leaf(f, c, slot_at(table, row_end), 1, level,
						 base + ((uint64_t)row_end << shift), p->ch, false))
				row_end++;
			if (row_end == changed)
				continue;
			last = row_end - 1u;
			last_step = shift;
			single = true;
		}
		if (first_at == ~0u)
			first_at = changed;
		last_at = last;
	}
	if (first_at != ~0u) {
		/* A plain leaf has the smallest shift there is at this level. */
		batch_leaf(&p->batch, base + ((uint64_t)first_at << shift), single ? shift : run_step);
		batch_leaf(&p->batch, base + ((uint64_t)last_at << shift), last_step);
	}
	*i = at;
	return ret;
}

/*
 * range_step - the walk of a range table by table (protect_range(),
 * copy_direct()): past entry @end of the table at *@level (entry 0 maps
 * @base), to *@ia, climbing out of every table that leaves; false at the
 * end of the range, which ends at @last.
 */
VPTE_INLINE bool range_step(const struct vpte_format *f, unsigned *level, uint64_t base,
			    unsigned end, uint64_t last, uint64_t *ia)
{
	unsigned shift = g_shift(f, *level);
	uint64_t next = base + ((uint64_t)end << shift) + (1ull << shift);
	if (next > last || next > g_ia_mask(f))
		return false;
	*ia = next;
	while (*level < g_top(f) && !(next & mask_below(g_shift(f, *level + 1u))))
		(*level)++;
	return true;
}

/*
 * protect_range - apply the change (struct protect_pass) to every leaf in
 * [first, last], table by table, after plan_edges() has refused corrupt
 * entries and checked every result, and cut_edges() has made every leaf
 * in the range whole.  Cannot fail.
 */
VPTE_INLINE void protect_range(const struct vpte_format *f, const struct vpte_codec *c,
			      const struct vpte_table *t, struct protect_pass *p)
{
	void *path[VPTE_MAX_LEVELS];
	unsigned level = g_top(f);
	uint64_t ia = p->first;
	path[level] = tab_ptr(f, t, t->root.addr);
	for (;;) {
		unsigned shift = g_shift(f, level), end = stretch_end(f, level, ia, p->last);
		unsigned i = g_index(f, ia, level);
		uint64_t base = table_base(f, level, ia);
		int ret = level ? protect_table(f, c, path[level], level, base, &i, end, p)
				: protect_table(f, c, path[0], 0, base, &i, end, p);
		if (ret) {
			uint64_t e = slot_load(slot_at(path[level], i));
			ia = base + ((uint64_t)i << shift);
			ia = ia > p->first ? ia : p->first;
			/* Freed meanwhile by a concurrent unmap (clear_range()):
			 * look at the entry again. */
			if (c->kind(f, e, level) != VPTE_TABLE)
				continue;
			path[level - 1u] = tab_ptr(f, t, c->table_pa(f, e));
			level--;
			continue;
		}
		if (!range_step(f, &level, base, end, p->last, &ia))
			return;
	}
}

VPTE_INLINE int eng_protect(const struct vpte_format *f, const struct vpte_codec *c,
			    struct vpte_table *t, vpte_va_t va, uint64_t size,
			    struct vpte_prot set, struct vpte_prot clear,
			    struct vpte_gather *gather)
{
	struct prot_change ch = { set, clear };
	struct protect_pass p = { .ch = &ch, .no_hw = t->flags & VPTE_TABLE_NO_HW_UPDATES };
	struct vpte_pool pool = { 0 };
	struct edge_plan plan;
	for (unsigned l = 0; l < VPTE_MAX_LEVELS; l++)
		p.memo[l].key = MEMO_NONE;
	int err = check_change(f, &ch);
	if (!err)
		err = edges_prepare(f, c, t, va, size, &ch, gather, &p.first, &p.last, &plan,
				    &pool);
	if (err)
		return err;
	struct vpte_gather local, *g = edit_gather(t, gather, &local);
	cut_edges(f, c, t, &pool, g, &plan, p.first, p.last);
	protect_range(f, c, t, &p);
	batch_flush(f, &p.batch, g);
	vpte_pool_drain(&pool, t);
	edit_gather_end(g, &local);
	return 0;
}

#endif
