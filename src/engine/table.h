/* SPDX-License-Identifier: MIT */
/*
 * table.h - whole-table work: encoding and filling a table nothing
 * points to yet, teardown.
 */
#ifndef VPTE_ENGINE_TABLE_H
#define VPTE_ENGINE_TABLE_H

#include "engine/walk.h"

/*
 * leaf_step - how to encode the entries of a stretch of same-size leaves
 * (entry i maps pa + i * 2^shift) without a full encoding each: every
 * format so far puts the PA in a leaf as a plain field, so entry i is
 * entry 0 plus i times (entry 1 - entry 0).  Compilers do not hoist the
 * attribute encoding out of the loop by themselves: with this the loop is
 * one add per entry.  Checked at the stretch's last entry, where a PA
 * field split in pieces (a carry from one piece into the next) would show;
 * returns 0 then, and the caller encodes every entry.
 */
VPTE_INLINE uint64_t leaf_step(const struct vpte_format *f, const struct vpte_codec *c,
			       struct vpte_prot prot, unsigned level, uint64_t pa, uint64_t e,
			       uint64_t n)
{
	unsigned shift = g_shift(f, level);
	uint64_t step = c->make_leaf(f, pa + (1ull << shift), level, prot, false) - e;
	if (c->make_leaf(f, pa + ((n - 1u) << shift), level, prot, false) != e + (n - 1u) * step)
		return 0;
	return step;
}

/* A run this long goes to the backend's fill (struct vpte_mem_ops) when it
 * has one: the indirect call costs about what 16 entries do. */
#define FILL_OP_MIN 64u

/*
 * fill_private - write @n entries from @slot on, @e, @e + @step,
 * @e + 2 * @step, ..., into a table of @mem that nothing points to yet (a
 * table written whole, vpte_pools_fill() in internal.h).  Plain stores: no
 * other thread can reach the table before the release store that publishes
 * it (slot_store() of its parent entry), and that store orders these
 * before itself.  A long run goes to the backend's @fill, which may use
 * wider stores than this build may (docs/performance-log.md item 42).  Here a
 * cache line (eight entries) a step, from four independent pairs: one
 * induction of a single pair, which is what compilers make of a plain loop
 * (and gcc -O2 not even that), is a chain of dependent adds at one 16-byte
 * store a cycle, about half of what the memory took on the machine of
 * docs/performance-log.md item 19.
 */
VPTE_INLINE void fill_private(const struct vpte_mem *mem, vpte_slot_t *slot, uint64_t n,
			      uint64_t e, uint64_t step)
{
	uint64_t *entry = (uint64_t *)(void *)slot;
	uint64_t i = 0;
	if (n >= FILL_OP_MIN && mem->ops->fill) {
		mem->ops->fill(mem->ctx, entry, n, e, step);
		return;
	}
	/* Single entries up to a line boundary: the pairs go to whole lines. */
	for (; i < n && ((uintptr_t)(entry + i) & 63u); i++, e += step)
		entry[i] = e;
	if (n - i >= 8u) {
		const entry_pair two = { 2u * step, 2u * step }, eight = { 8u * step, 8u * step };
		entry_pair a = { e, e + step }, b = a + two, c = b + two, d = c + two;
		for (; n - i >= 8u; i += 8u) {
			entry_pair *line = (entry_pair *)(void *)(entry + i);
			line[0] = a;
			line[1] = b;
			line[2] = c;
			line[3] = d;
			a += eight;
			b += eight;
			c += eight;
			d += eight;
		}
		e = a[0];
	}
	for (; i < n; i++, e += step)
		entry[i] = e;
}

/*
 * entries_or - the OR of the @n entries from @slot on (0: all holes), read
 * as 16-byte pairs (entry_pair, each entry whole), eight pairs a step: a
 * load and an OR an entry took twice the instructions, 8-byte ORs of
 * pairs became shuffles under gcc -O3, and four pairs a step spent 3 of
 * 11 instructions on the loop.
 */
VPTE_INLINE uint64_t entries_or(vpte_slot_t *slot, uint64_t n)
{
	const entry_pair *pair = (const entry_pair *)(const void *)slot;
	entry_pair any = { 0, n & 1u ? slot_load(slot + n - 1u) : 0 };
	uint64_t pairs = n / 2u;
	for (; pairs >= 8u; pairs -= 8u, pair += 8)
		any |= ((pair[0] | pair[1]) | (pair[2] | pair[3])) |
		       ((pair[4] | pair[5]) | (pair[6] | pair[7]));
	for (; pairs; pairs--, pair++)
		any |= *pair;
	return any[0] | any[1];
}

/*
 * store_stepped - store @e, @e + @step, @e + 2 * @step, ... into the @n
 * entries from @slot on, in a live table (fill_private() is for one that
 * is not): each an 8-byte store with release ordering (slot_store()), so
 * that a concurrent walker or the hardware never sees an entry half
 * written, which a vector store could show it.  Four entries a step from
 * four independent sums: one running sum is a chain of dependent adds, a
 * cycle an entry, and with the loop's counting five instructions an entry
 * where this takes under three.
 */
VPTE_INLINE void store_stepped(vpte_slot_t *slot, uint64_t n, uint64_t e, uint64_t step)
{
	uint64_t i = 0;
	if (n >= 4u) {
		const uint64_t four = 4u * step;
		uint64_t e1 = e + step, e2 = e1 + step, e3 = e2 + step;
		for (; n - i >= 4u; i += 4u, e += four, e1 += four, e2 += four, e3 += four) {
			slot_store(slot + i, e);
			slot_store(slot + i + 1u, e1);
			slot_store(slot + i + 2u, e2);
			slot_store(slot + i + 3u, e3);
		}
	}
	for (; i < n; i++, e += step)
		slot_store(slot + i, e);
}

/*
 * free_tables - free the table at @pa, at @level, under the entry whose
 * span starts at index address @base, and every table below it, children
 * before parents: through @g when set (each page with the span it held,
 * for the walk caches), else at once.  Bounded by the level count like
 * every walk, so a table entry pointing back up the tree cannot loop.
 * Returns 0, or -VPTE_EFAULT if a corrupt entry was met in a table above
 * the leaf tables (the tables reached are still freed).
 */
VPTE_INLINE int free_tables(const struct vpte_format *f, const struct vpte_codec *c,
			    const struct vpte_table *t, uint64_t pa, unsigned level, uint64_t base,
			    struct vpte_gather *g)
{
	void *path[VPTE_MAX_LEVELS];
	uint64_t path_pa[VPTE_MAX_LEVELS];
	unsigned top = level;
	uint64_t last = level == g_top(f) ? g_ia_mask(f) : base + mask_below(g_shift(f, level + 1u));
	uint64_t ia = base;
	int err = 0;

	path[level] = tab_ptr(f, t, pa);
	path_pa[level] = pa;
	if (!path[level])
		return -VPTE_EFAULT;
	for (;;) {
		/* A leaf table holds no tables: it goes unread, whole
		 * (reading its entries took 70 times what the frees take,
		 * docs/performance-log.md item 59). */
		unsigned step = level ? g_shift(f, level) : g_shift(f, 1);
		if (level) {
			uint64_t e = slot_load(slot_at(path[level], g_index(f, ia, level)));
			int kind = c->kind(f, e, level);
			if (kind == VPTE_TABLE) {
				void *lower = tab_ptr(f, t, c->table_pa(f, e));
				if (lower) {
					level--;
					path[level] = lower;
					path_pa[level] = c->table_pa(f, e);
					continue;
				}
				err = -VPTE_EFAULT;
			} else if (kind == VPTE_KIND_CORRUPT) {
				err = -VPTE_EFAULT;
			}
		}
		uint64_t here = ia;
		uint64_t next = span_next(ia, step);
		bool done = next > last;
		ia = next;
		for (; level <= top && (done || !(ia & mask_below(g_shift(f, level + 1u)))); level++) {
			if (g)
				vpte_gather_page(g, vpte_pa(path_pa[level]),
						 ia_to_va(f, here & ~mask_below(g_shift(f, level + 1u))),
						 g_shift(f, level + 1u));
			else
				t->mem.ops->free(t->mem.ctx, vpte_pa(path_pa[level]), g_page(f));
			if (level == top)
				return err;
		}
	}
}

/*
 * eng_destroy - free every table page, the root last.  A tree that is not
 * one vpte built may share pages between entries, which would be freed
 * twice, so destroy is for tables created with vpte_table_init() or
 * attached writable ones that the caller knows to be trees.
 */
VPTE_INLINE int eng_destroy(const struct vpte_format *f, const struct vpte_codec *c,
			    struct vpte_table *t)
{
	if (t->flags & VPTE_TABLE_READONLY)
		return 0;
	return free_tables(f, c, t, t->root.addr, g_top(f), 0, NULL);
}

#endif
