/* SPDX-License-Identifier: MIT */
/*
 * walk.h - the level-agnostic walker: geometry, entry access, seek and
 * iteration.  Every function takes the format @f and codec @c as constants
 * (see instantiate.h), so each format variant gets its own copy with the
 * geometry folded in and the codec inlined.
 *
 * Internally addresses are *index addresses* ("ia"): the VA with the bits
 * above va_bits dropped.  Both halves of a sign-extended space then form
 * one ordered range [0, 2^va_bits), and the level's index is a plain shift.
 */
#ifndef VPTE_ENGINE_WALK_H
#define VPTE_ENGINE_WALK_H

#include <stdatomic.h>

#include "engine/codec.h"
#include "engine/internal.h"

#define VPTE_INLINE static inline __attribute__((always_inline))

/* Unroll a loop over the levels completely, so that each copy has its level
 * as a constant and the geometry and the codec's level tests fold away (a
 * compiler does not always do that by itself for a loop that may exit
 * early). */
#define VPTE_UNROLL_LEVELS _Pragma("GCC unroll 6")

typedef _Atomic uint64_t vpte_slot_t;

/*
 * Two entries in one 16-byte load or store (a GCC/Clang vector extension):
 * where the target has no such access (a kernel built without vector
 * registers, a 32-bit core) the compiler splits it into plain ones.  Each
 * entry of a pair is read whole, as a hardware walker's update leaves it.
 * aligned(8): a table page is only as aligned as its backend's memory (an
 * arena at a base of 8 modulo 16, a segment of an image file), and a
 * 16-byte aligned access there faults.  may_alias: it reads and writes
 * uint64_t entries.
 */
typedef uint64_t entry_pair __attribute__((vector_size(16), aligned(8), may_alias));

/* ---- geometry ---- */

VPTE_INLINE unsigned g_top(const struct vpte_format *f)
{
	return f->levels - 1u;
}

/* Below the top, every level indexes level_bits[0] bits (8-byte entries in
 * a granule page); the top level may have fewer. */
VPTE_INLINE unsigned g_shift(const struct vpte_format *f, unsigned level)
{
	return f->granule_shift + f->level_bits[0] * level;
}

/* Written as the rule of g_shift(), not as a read of level_bits[level]:
 * for a level the compiler does not know (a map's walk), that is a
 * compare, or a constant where the top indexes as many bits as the rest,
 * instead of a load from the table of bits on every index. */
VPTE_INLINE unsigned g_entries(const struct vpte_format *f, unsigned level)
{
	return 1u << (level == g_top(f) ? f->level_bits[g_top(f)] : f->level_bits[0]);
}

VPTE_INLINE unsigned g_index(const struct vpte_format *f, uint64_t ia, unsigned level)
{
	return (unsigned)(ia >> g_shift(f, level)) & (g_entries(f, level) - 1u);
}

VPTE_INLINE uint64_t g_page(const struct vpte_format *f)
{
	return 1ull << f->granule_shift;
}

VPTE_INLINE uint64_t g_ia_mask(const struct vpte_format *f)
{
	return (1ull << f->va_bits) - 1u;
}

VPTE_INLINE uint64_t ia_to_va(const struct vpte_format *f, uint64_t ia)
{
	if (!f->sign_extend)
		return ia;
	uint64_t sign = 1ull << (f->va_bits - 1u);
	return (ia ^ sign) - sign;
}

VPTE_INLINE uint64_t mask_below(unsigned shift)
{
	return (1ull << shift) - 1u;
}

/* The first address after the 2^@shift-aligned span holding @ia. */
VPTE_INLINE uint64_t span_next(uint64_t ia, unsigned shift)
{
	return (ia & ~mask_below(shift)) + (1ull << shift);
}

/* ---- table access ---- */

VPTE_INLINE void *tab_ptr(const struct vpte_format *f, const struct vpte_table *t, uint64_t pa)
{
	return vpte_mem_ptr(&t->mem, vpte_pa(pa), g_page(f));
}

/*
 * struct mem_view - a walk's own copy of the table's direct window
 * (vpte_mem_ptr()), for the hot single walks (seek, a map inside one
 * table).  A local copy stays in registers; the window in memory would be
 * read again after every atomic load, four loads a level.  Valid while the
 * walk allocates nothing (an allocation may move the window).
 */
struct mem_view {
	uint64_t base;
	uint64_t pages; /* a page at base + off is in the window if off < pages */
	uintptr_t virt;
	const struct vpte_table *t;
};

VPTE_INLINE struct mem_view mem_view(const struct vpte_format *f, const struct vpte_table *t)
{
	const struct vpte_direct_map *d = t->mem.direct;
	struct mem_view v = { 0, 0, 0, t };
	if (d && d->size >= g_page(f)) {
		v.base = d->pa_base;
		v.pages = d->size - g_page(f) + 1u;
		v.virt = d->virt;
	}
	return v;
}

/* Point *@table at the table page at physical @pa when the direct window
 * holds it; false otherwise (*@table is then meaningless). */
VPTE_INLINE bool view_direct(const struct mem_view *v, uint64_t pa, void **table)
{
	uint64_t off = pa - v->base;
	*table = (void *)(v->virt + (uintptr_t)off);
	return off < v->pages;
}

/* Point *@table at the table page at physical @pa, through the window or
 * else phys_to_virt when @direct is false; false when the backend has no
 * memory there (@direct: when the window does not hold it).  (A pointer
 * return would be tested for NULL on the window's path too: two
 * instructions a level on every walk.) */
VPTE_INLINE bool view_table(const struct vpte_format *f, const struct mem_view *v, uint64_t pa,
			    bool direct, void **table)
{
	if (__builtin_expect(view_direct(v, pa, table), 1))
		return true;
	if (direct)
		return false;
	*table = v->t->mem.ops->phys_to_virt(v->t->mem.ctx, vpte_pa(pa), g_page(f));
	return *table != NULL;
}

VPTE_INLINE vpte_slot_t *slot_at(void *table, unsigned index)
{
	return (vpte_slot_t *)table + index;
}

/* Entries are read once, with acquire ordering, so that a table published
 * by a concurrent writer's release store is seen initialised: the walk
 * then reads the lower table's entries after the stores that filled it. */
VPTE_INLINE uint64_t slot_load(vpte_slot_t *slot)
{
	return atomic_load_explicit(slot, memory_order_acquire);
}

/* Entries are written with release ordering: a table entry publishes a
 * table filled before (split, map's new tables, collapse's leaves); a leaf
 * or a hole needs nothing before it, but release costs nothing more than a
 * plain store on x86-64 and arm64 (STLR), and keeps one rule for every
 * store. */
VPTE_INLINE void slot_store(vpte_slot_t *slot, uint64_t e)
{
	atomic_store_explicit(slot, e, memory_order_release);
}

/*
 * SLOT_FROZEN - what a concurrent unmap writes into every empty entry of a
 * shared table it is about to free (freeze_table(), unmap.h), so that no
 * concurrent map claims one of them meanwhile.  Bit 0 is clear, and bit 0
 * is the valid bit of every format (x86-64 P, Intel SDM vol. 3A 4.5;
 * arm64 descriptor bit[0], Arm ARM D8.3; RISC-V V, privileged spec
 * 4.3.1/4.4.1), whose hardware ignores every other bit of an invalid
 * entry: walkers read it as the hole it is.
 */
#define SLOT_FROZEN 0x46524f5a454e0000ull

/*
 * SLOT_BREAK - the "break" of break-before-make (codec break_before_make):
 * a live leaf that is about to become one of another size is replaced by
 * this invalid entry, its TLB entries are invalidated, then the new entry
 * is stored.  Invalid to the hardware for the reason SLOT_FROZEN is; vpte's
 * walks wait until the entry is made (slot_load_made()), as for a
 * migration entry, so that nobody reads a hole where the address stays
 * mapped.
 */
#define SLOT_BREAK 0x425245414b000000ull

/* The entry at @slot, once a break-before-make in progress on it is over
 * (a constant false test on formats without it). */
VPTE_INLINE uint64_t slot_load_made(const struct vpte_codec *c, vpte_slot_t *slot)
{
	uint64_t e = slot_load(slot);
	while (c->break_before_make && e == SLOT_BREAK)
		e = slot_load(slot);
	return e;
}

/* Is @e, of kind @kind, a break-before-make in progress?  The marker is a
 * hole to every codec's kind() (bit 0 clear, see SLOT_BREAK), so a walk
 * that classifies its entries anyway compares only a hole with it, off
 * the path of every table entry and leaf. */
VPTE_INLINE bool slot_broken(const struct vpte_codec *c, uint64_t e, int kind)
{
	return c->break_before_make && kind == VPTE_HOLE && e == SLOT_BREAK;
}

/* slot_load_made() of a walk that classifies the entry at @level: its
 * kind in *@kind. */
VPTE_INLINE uint64_t slot_load_kind(const struct vpte_format *f, const struct vpte_codec *c,
				    vpte_slot_t *slot, unsigned level, int *kind)
{
	uint64_t e;
	do {
		e = slot_load(slot);
		*kind = c->kind(f, e, level);
	} while (slot_broken(c, e, *kind));
	return e;
}

/*
 * slot_claim - write @e into the empty entry @slot of a concurrent table,
 * by compare-and-swap from 0: a freeze (SLOT_FROZEN) and a claim of one
 * entry exclude each other by the atomicity of the read-modify-write
 * alone.  Release publishes what @e points to (a new table); acquire on
 * failure, because a caller that finds another writer's table goes on
 * into it.  Returns 0, or the entry found instead.
 */
VPTE_INLINE uint64_t slot_claim(vpte_slot_t *slot, uint64_t e)
{
	uint64_t found = 0;
	atomic_compare_exchange_strong_explicit(slot, &found, e, memory_order_release,
						memory_order_acquire);
	return found;
}

/* Is @t edited by several threads at once (vpte_table_set_reclaim())? */
/* @prot is generic attributes the format can encode (a map's, a copy's):
 * -VPTE_EINVAL if not. */
VPTE_INLINE int check_prot(const struct vpte_format *f, const struct vpte_codec *c,
			   struct vpte_prot prot)
{
	if ((prot.flags & ~VPTE_PROT_FLAGS) || !c->prot_ok(f, prot))
		return -VPTE_EINVAL;
	return 0;
}

VPTE_INLINE bool table_concurrent(const struct vpte_table *t)
{
	return t->reclaim != NULL;
}

/* ---- range checks ---- */

/*
 * check_va_range - validate [va, va + size) and convert it to index
 * addresses [*first, *last].  @aligned: edits need granule alignment.
 */
VPTE_INLINE int check_va_range(const struct vpte_format *f, uint64_t va, uint64_t size,
			       bool aligned, uint64_t *first, uint64_t *last)
{
	if (!size || (aligned && ((va | size) & mask_below(f->granule_shift))))
		return -VPTE_EINVAL;
	uint64_t end = va + (size - 1u);
	if (end < va)
		return -VPTE_EINVAL;
	if (f->sign_extend) {
		uint64_t half = va >> (f->va_bits - 1u);
		if (half != 0 && half != (~0ull >> (f->va_bits - 1u)))
			return -VPTE_EINVAL;
		if ((end >> (f->va_bits - 1u)) != half)
			return -VPTE_ERANGE;
	} else if ((va | end) >> f->va_bits) {
		return -VPTE_ERANGE;
	}
	*first = va & g_ia_mask(f);
	*last = end & g_ia_mask(f);
	return 0;
}

/* ---- describing an entry ---- */

VPTE_INLINE unsigned leaf_shift(const struct vpte_format *f, const struct vpte_codec *c,
				uint64_t e, unsigned level)
{
	if (f->cont_bits[level] && c->leaf_cont(f, e, level))
		return g_shift(f, level) + f->cont_bits[level];
	return g_shift(f, level);
}

/*
 * describe_public - fill the public part of @w for entry @e of kind @kind
 * at @level, found while looking for the canonical address @va.  Only the
 * bits of @va below the entry's span matter besides the span's own VA,
 * and those bits are the index address's too (a span is aligned below
 * va_bits - 1, so its sign extension is the same bits): a seek needs no
 * index address at all.  Returns the span's shift (w->shift).
 */
VPTE_INLINE unsigned describe_public(const struct vpte_format *f, const struct vpte_codec *c,
				 struct vpte_walk *w, unsigned level, uint64_t va, uint64_t e,
				 int kind)
{
	unsigned shift = g_shift(f, level);
	w->kind = (enum vpte_kind)kind;
	w->level = level;
	w->entry = e;
	/* Each field written once, on every path (a store the other branch
	 * overwrites is not removed by the compiler). */
	if (kind == VPTE_LEAF) {
		uint64_t entry_va = va & ~mask_below(shift);
		shift = leaf_shift(f, c, e, level);
		w->cont = shift != g_shift(f, level);
		/* leaf_pa() reads only the bits of the entry's VA below its run. */
		w->pa = vpte_pa(c->leaf_pa(f, e, level, entry_va) - (entry_va & mask_below(shift)));
		w->prot = c->leaf_prot(f, e, level);
	} else {
		w->cont = false;
		w->pa = vpte_pa(kind == VPTE_TABLE ? c->table_pa(f, e) : 0);
		w->prot = (struct vpte_prot){ 0, 0, 0 };
	}
	w->shift = shift;
	w->va = vpte_va(va & ~mask_below(shift));
	return shift;
}

/* describe_public() and the walk's position, for a walk that goes on from
 * the entry (iteration): the index address @ia. */
VPTE_INLINE void describe(const struct vpte_format *f, const struct vpte_codec *c,
			  struct vpte_walk *w, unsigned level, uint64_t ia, uint64_t e, int kind)
{
	unsigned shift = describe_public(f, c, w, level, ia_to_va(f, ia), e, kind);
	w->index_addr = ia & ~mask_below(shift);
}

/* ---- seek ---- */

/* What a walk with @direct set (eng_seek(), map_page()) returns when a
 * table on its path lies outside the direct window (eng_seek(): or an
 * entry is broken for break-before-make): the caller walks again without
 * @direct, out of line. */
#define WALK_INDIRECT 1

/*
 * eng_seek - vpte_seek.  With @direct, tables are reached through the
 * direct window only and a break-before-make in progress is not waited
 * for, so the walk makes no call and needs few registers: the format's
 * entry point runs it so and, on WALK_INDIRECT, runs it again without
 * @direct out of line (instantiate.h).
 */
VPTE_INLINE int eng_seek(const struct vpte_format *f, const struct vpte_codec *c,
			 struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va, bool direct)
{
	const int no_table = direct ? WALK_INDIRECT : -VPTE_EFAULT;
	uint64_t ia, last;
	int err = check_va_range(f, va.addr, 1, false, &ia, &last);
	if (err)
		return err;
	/* The canonical VA indexes every level as its index address would
	 * (the top level's index ends at va_bits) and describes the entry
	 * (describe_public()): one register fewer than both. */
	const struct mem_view view = mem_view(f, t);
	void *table;
	if (!view_table(f, &view, t->root.addr, direct, &table))
		return no_table;
	/* Nothing continues from a seek: neither the path nor the position
	 * is kept in @w. */
	w->error = 0;
	unsigned level = g_top(f);
	uint64_t e = 0;
	int kind = VPTE_KIND_CORRUPT;
	VPTE_UNROLL_LEVELS
	for (unsigned i = 0; i < f->levels; i++) {
		level = g_top(f) - i;
		vpte_slot_t *slot = slot_at(table, g_index(f, va.addr, level));
		if (direct) {
			/* Waiting keeps the slot in a register all the way down. */
			e = slot_load(slot);
			kind = c->kind(f, e, level);
			if (slot_broken(c, e, kind))
				return WALK_INDIRECT;
		} else {
			e = slot_load_kind(f, c, slot, level, &kind);
		}
		if (kind != VPTE_TABLE || level == 0)
			break;
		if (!view_table(f, &view, c->table_pa(f, e), direct, &table))
			return no_table;
	}
	/* A table entry at level 0 would point below the last level. */
	if (kind == VPTE_KIND_CORRUPT || kind == VPTE_TABLE)
		return -VPTE_EFAULT;
	describe_public(f, c, w, level, va.addr, e, kind);
	return 0;
}

/* ---- iteration ---- */

/*
 * same_attrs - two leaves carry the same attributes, ignoring what the
 * hardware updates on its own (accessed, dirty).
 */
VPTE_INLINE bool same_attrs(struct vpte_prot a, struct vpte_prot b)
{
	uint32_t hw = VPTE_A | VPTE_D;
	return (a.flags & ~hw) == (b.flags & ~hw) && a.memtype == b.memtype && a.raw == b.raw;
}

/*
 * run_consistent - every member of the contiguous run @w describes is a
 * contiguous leaf of the same attributes mapping its own part of one
 * physically contiguous region.  A run that is not is misprogrammed
 * (the TLB may return any member's translation): reported as corrupt.
 */
VPTE_INLINE bool run_consistent(const struct vpte_format *f, const struct vpte_codec *c,
				const struct vpte_walk *w)
{
	unsigned level = w->level, entry_shift = g_shift(f, level);
	unsigned first = g_index(f, w->index_addr, level);
	unsigned members = 1u << f->cont_bits[level];
	for (unsigned i = 0; i < members; i++) {
		uint64_t e = slot_load(slot_at(w->path[level], first + i));
		uint64_t member_ia = w->index_addr + ((uint64_t)i << entry_shift);
		if (c->kind(f, e, level) != VPTE_LEAF || !c->leaf_cont(f, e, level) ||
		    c->leaf_pa(f, e, level, member_ia) != w->pa.addr + ((uint64_t)i << entry_shift) ||
		    !same_attrs(c->leaf_prot(f, e, level), w->prot))
			return false;
	}
	return true;
}

/* Describe the run member @e at @level that covers @ia as a leaf of its
 * own (its run flag aside). */
VPTE_INLINE void describe_member(const struct vpte_format *f, const struct vpte_codec *c,
				 struct vpte_walk *w, unsigned level, uint64_t ia, uint64_t e)
{
	uint64_t entry_ia = ia & ~mask_below(g_shift(f, level));
	w->shift = g_shift(f, level);
	w->cont = false;
	w->pa = vpte_pa(c->leaf_pa(f, e, level, entry_ia));
	w->index_addr = entry_ia;
	w->va = vpte_va(ia_to_va(f, entry_ia));
}

/* Step past the span [index_addr, index_addr + 2^shift) and climb out of
 * every table that step leaves.  Returns false at the end of the range. */
VPTE_INLINE bool iter_advance(const struct vpte_format *f, struct vpte_walk *w, unsigned shift)
{
	uint64_t next = span_next(w->index_addr, shift);
	if (next > w->index_last || next > g_ia_mask(f))
		return false;
	w->index_addr = next;
	while (w->level < g_top(f) && !(next & mask_below(g_shift(f, w->level + 1u))))
		w->level++;
	return true;
}

VPTE_INLINE int iter_stop(struct vpte_walk *w, int err)
{
	w->done = true;
	w->error = err;
	return err;
}

/* From the position in @w (level, index_addr, path), find the next entry
 * the mode asks for. */
VPTE_INLINE int iter_find(const struct vpte_format *f, const struct vpte_codec *c,
			  struct vpte_walk *w)
{
	for (;;) {
		unsigned level = w->level;
		uint64_t ia = w->index_addr;
		int kind;
		uint64_t e = slot_load_kind(f, c, slot_at(w->path[level], g_index(f, ia, level)), level,
					    &kind);
		if (kind == VPTE_KIND_CORRUPT)
			return iter_stop(w, -VPTE_EFAULT);
		if (kind == VPTE_TABLE) {
			void *lower = tab_ptr(f, w->table, c->table_pa(f, e));
			if (!lower)
				return iter_stop(w, -VPTE_EFAULT);
			w->path[level - 1u] = lower;
			if (w->mode & VPTE_ITER_TABLES) {
				describe(f, c, w, level, ia, e, kind);
				return 1;
			}
			w->level = level - 1u;
			continue;
		}
		if (kind == VPTE_LEAF) {
			describe(f, c, w, level, ia, e, kind);
			if (w->cont && !run_consistent(f, c, w)) {
				/* On a concurrent table a run may be met while an
				 * edit rewrites or clears it member by member: each
				 * member read is then an old or a new translation
				 * of its own page, so it is reported alone. */
				if (!table_concurrent(w->table))
					return iter_stop(w, -VPTE_EFAULT);
				describe_member(f, c, w, level, ia, e);
			}
			return 1;
		}
		if (w->mode & VPTE_ITER_HOLES) {
			describe(f, c, w, level, ia, e, kind);
			return 1;
		}
		if (!iter_advance(f, w, g_shift(f, level)))
			return iter_stop(w, 0);
	}
}

VPTE_INLINE int eng_iter_start(const struct vpte_format *f, const struct vpte_codec *c,
			       struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va,
			       uint64_t size, unsigned mode)
{
	uint64_t first, last;
	w->table = t;
	w->done = false;
	w->error = 0;
	w->kind = VPTE_HOLE;
	if (mode & ~VPTE_ITER_ALL)
		return iter_stop(w, -VPTE_EINVAL);
	int err = check_va_range(f, va.addr, size, false, &first, &last);
	if (err)
		return iter_stop(w, err);
	w->mode = mode;
	w->index_addr = first;
	w->index_first = first;
	w->index_last = last;
	w->level = g_top(f);
	w->path[w->level] = tab_ptr(f, t, t->root.addr);
	if (!w->path[w->level])
		return iter_stop(w, -VPTE_EFAULT);
	return iter_find(f, c, w);
}

VPTE_INLINE int eng_iter_next(const struct vpte_format *f, const struct vpte_codec *c,
			      struct vpte_walk *w)
{
	if (w->done)
		return w->error;
	if (w->kind == VPTE_TABLE) {
		/* The lower table was resolved when the entry was found; go in
		 * at the iteration's position, not the entry's start. */
		w->level--;
		if (w->index_addr < w->index_first)
			w->index_addr = w->index_first;
	} else if (!iter_advance(f, w, w->shift)) {
		return iter_stop(w, 0);
	}
	return iter_find(f, c, w);
}

#endif
