/* SPDX-License-Identifier: MIT */
/*
 * leafbits.h - what the engine derives from a codec about how a leaf is
 * encoded, rather than having each format state it again: the field that
 * holds the PA, the bits of the W, A and D flags, and the mask under which
 * one plain leaf vouches for the kind of every entry that agrees with it;
 * alike_row(), which reads a row of leaves by that encoding; and
 * iter_step_alike(), an iteration's step to a leaf encoded alike.  With a
 * constant format each of these folds to constants.
 */
#ifndef VPTE_ENGINE_LEAFBITS_H
#define VPTE_ENGINE_LEAFBITS_H

#include "engine/walk.h"

/*
 * pa_field - the bits of a leaf at @level that hold its PA.  Every format
 * places the PA as a plain field beside the attributes (leaf_step() in
 * table.h relies on it too), so the encodings of the lowest and the highest
 * PA differ in exactly those bits.
 */
VPTE_INLINE uint64_t pa_field(const struct vpte_format *f, const struct vpte_codec *c,
			      unsigned level)
{
	const struct vpte_prot p = { VPTE_R, VPTE_MT_WB, 0 };
	uint64_t top = mask_below(f->pa_bits) & ~mask_below(g_shift(f, level));
	return c->make_leaf(f, top, level, p, false) ^ c->make_leaf(f, 0, level, p, false);
}

/* How a leaf encodes one flag: the bits set when it is on, and those set
 * when it is off (arm64 W: on = nothing, off = AP[2]). */
struct flag_bits {
	uint64_t on, off;
};

/*
 * flag_bits - how a leaf at @level encodes @flag (VPTE_W, VPTE_A or
 * VPTE_D).  Every format encodes these three flags independently of the
 * other attributes, so the two encodings differ in exactly the flag's bits.
 */
VPTE_INLINE struct flag_bits flag_bits(const struct vpte_format *f, const struct vpte_codec *c,
				       unsigned level, uint32_t flag)
{
	struct vpte_prot p = { VPTE_R, VPTE_MT_WB, 0 };
	uint64_t off = c->make_leaf(f, 0, level, p, false);
	p.flags |= flag;
	uint64_t on = c->make_leaf(f, 0, level, p, false);
	uint64_t diff = on ^ off;
	return (struct flag_bits){ on & diff, off & diff };
}

VPTE_INLINE bool flag_in(uint64_t e, struct flag_bits b)
{
	return (e & (b.on | b.off)) == b.on;
}

/* A memo key no entry has: it has bits of the PA field set. */
#define MEMO_NONE (~0ull)

/*
 * plain_mask - the bits of an entry at @level that decide its kind: all
 * but the PA field, accessed and dirty.  kind() and leaf_cont() look only
 * at those on every format (the valid and type bits, reserved bits, the
 * RWX combination, the low PA bits a superpage must have clear, which lie
 * below its level's PA field), and the hardware changes only A and D.  So
 * an entry that agrees there with a plain leaf (no run member) is a plain
 * leaf too: the per-table loops of unmap and of plan_edges() classify by
 * one compare with such a leaf's bits (plain_key()), and call kind() only
 * for entries of another encoding.
 */
VPTE_INLINE uint64_t plain_mask(const struct vpte_format *f, const struct vpte_codec *c,
				unsigned level)
{
	struct flag_bits a = flag_bits(f, c, level, VPTE_A), d = flag_bits(f, c, level, VPTE_D);
	return ~(pa_field(f, c, level) | a.on | a.off | d.on | d.off);
}

/* The key plain_mask() compares with, learnt from the entry @e at @level:
 * its bits when it is a plain leaf, else @key as it was. */
VPTE_INLINE uint64_t plain_key(const struct vpte_format *f, const struct vpte_codec *c,
			       uint64_t e, unsigned level, uint64_t mask, uint64_t key)
{
	if (c->kind(f, e, level) != VPTE_LEAF || (f->cont_bits[level] && c->leaf_cont(f, e, level)))
		return key;
	return e & mask;
}

/*
 * pairs_differ - does any of the 2 * @pairs entries from @slot on disagree
 * with @keys under @masks?  Read as 16-byte pairs (entry_pair): a load, an
 * XOR and an OR a pair, and one test for them all.
 */
VPTE_INLINE bool pairs_differ(const vpte_slot_t *slot, unsigned pairs, entry_pair keys,
			      entry_pair masks)
{
	const entry_pair *p = (const entry_pair *)(const void *)slot;
	entry_pair diff = p[0] ^ keys;
	for (unsigned k = 1; k < pairs; k++)
		diff |= p[k] ^ keys;
	diff &= masks;
	return diff[0] | diff[1];
}

/*
 * skip_alike - from @slot, an entry that agrees with @key under @mask
 * (key == e & mask), past the entries after it that agree too, sixteen,
 * then eight, then four at a step while they all do and lie before @stop:
 * one test for sixteen or eight (pairs_differ()) or four, where a table of
 * leaves spends most of its loop.  The test of the two halves of a pair
 * costs five instructions, so sixteen a test took 2.1 an entry where eight
 * took 2.6 (docs/performance-log.md, item 47).  Returns the last entry passed.
 */
VPTE_INLINE vpte_slot_t *skip_alike(vpte_slot_t *slot, vpte_slot_t *stop, uint64_t mask,
				    uint64_t key)
{
	const entry_pair keys = { key, key }, masks = { mask, mask };
	while (stop - slot > 16 && !pairs_differ(slot + 1, 8, keys, masks))
		slot += 16;
	if (stop - slot > 8 && !pairs_differ(slot + 1, 4, keys, masks))
		slot += 8;
	while (stop - slot > 4 && !(((slot_load(slot + 1) ^ key) | (slot_load(slot + 2) ^ key) |
				     (slot_load(slot + 3) ^ key) | (slot_load(slot + 4) ^ key)) &
				    mask))
		slot += 4;
	return slot;
}

/*
 * pa_step - what an encoded leaf at @level gains when it maps 2^shift
 * bytes further on: every format places the PA as a plain field
 * (pa_field()).  Folds to a constant.
 */
VPTE_INLINE uint64_t pa_step(const struct vpte_format *f, const struct vpte_codec *c,
			     unsigned level)
{
	const struct vpte_prot p = { VPTE_R, VPTE_MT_WB, 0 };
	return c->make_leaf(f, 1ull << g_shift(f, level), level, p, false) -
	       c->make_leaf(f, 0, level, p, false);
}

/*
 * alike_row - how many entries of the table @table at @level, from entry
 * @at (the plain leaf @e0) to @end, are plain leaves mapping on from one
 * another alike: the bits of @e0 outside the PA field (pa_field()),
 * accessed and dirty aside, each mapping the next 2^shift bytes of PA.
 * Entry i is expected to be @e0 plus i times pa_step(), so an entry costs
 * a load and a compare; one that differs from that in accessed or dirty
 * only is classified (kind()) before it counts, any other difference ends
 * the row (a PA field that would carry into other bits by the row's end:
 * the row is @e0 alone).
 * Same bits mean the same attributes, so the row's leaves are alike in
 * the sense of same_attrs().  @ad, when set, gets VPTE_A and VPTE_D ORed
 * in for the flags the row's leaves have.  @exact: accessed and dirty
 * must be @e0's too, so the row is exactly @e0 stepped by PA (vpte_copy
 * writes its copy as one encoding stepped by PA, copy.h).
 */
VPTE_INLINE unsigned alike_row(const struct vpte_format *f, const struct vpte_codec *c,
			       vpte_slot_t *table, unsigned level, unsigned at, unsigned end,
			       uint64_t e0, bool exact, uint32_t *ad)
{
	const struct flag_bits ab = flag_bits(f, c, level, VPTE_A), db = flag_bits(f, c, level, VPTE_D);
	const uint64_t hw = ab.on | ab.off | db.on | db.off, step = pa_step(f, c, level);
	unsigned start = at;
	bool a = flag_in(e0, ab), d = flag_in(e0, db);
	uint64_t want = e0;
	if (((e0 + (end - at) * step) ^ e0) & ~pa_field(f, c, level))
		end = at;
	/* Sixteen, then eight entries a test while they are exactly as
	 * expected (a uniform row): one OR of their differences from eight
	 * or four expected 16-byte pairs (entry_pair), counted down by
	 * blocks.  Four scalar entries a test took twice the instructions an
	 * entry, eight scalar ones ran out of registers, and the test of the
	 * OR's two halves is shared by sixteen. */
	const entry_pair two = { 2u * step, 2u * step }, eight = two + two + two + two;
	const entry_pair sixteen = eight + eight;
	entry_pair w0 = { want, want + step }, w1 = w0 + two, w2 = w1 + two, w3 = w2 + two;
	entry_pair w4 = w0 + eight, w5 = w1 + eight, w6 = w2 + eight, w7 = w3 + eight;
	const entry_pair *p = (const entry_pair *)(const void *)slot_at(table, at);
	for (unsigned blocks = (end - at + 1u) / 16u; blocks; blocks--, p += 8) {
		entry_pair diff = ((p[0] ^ w0) | (p[1] ^ w1)) | ((p[2] ^ w2) | (p[3] ^ w3)) |
				  ((p[4] ^ w4) | (p[5] ^ w5)) | ((p[6] ^ w6) | (p[7] ^ w7));
		if (diff[0] | diff[1])
			break;
		w0 += sixteen;
		w1 += sixteen;
		w2 += sixteen;
		w3 += sixteen;
		w4 += sixteen;
		w5 += sixteen;
		w6 += sixteen;
		w7 += sixteen;
	}
	unsigned left = end + 1u - (unsigned)((const vpte_slot_t *)(const void *)p - slot_at(table, 0));
	if (left >= 8u) {
		entry_pair diff = ((p[0] ^ w0) | (p[1] ^ w1)) | ((p[2] ^ w2) | (p[3] ^ w3));
		if (!(diff[0] | diff[1])) {
			p += 4;
			w0 += eight;
		}
	}
	want = w0[0];
	at = (unsigned)((const vpte_slot_t *)(const void *)p - slot_at(table, 0));
	for (; at <= end; at++, want += step) {
		uint64_t e = slot_load(slot_at(table, at));
		if (e == want)
			continue;
		if (exact || ((e ^ want) & ~hw) || c->kind(f, e, level) != VPTE_LEAF)
			break;
		a |= flag_in(e, ab);
		d |= flag_in(e, db);
	}
	if (ad)
		*ad |= (a ? VPTE_A : 0u) | (d ? VPTE_D : 0u);
	return at - start;
}

/*
 * uniform_row - whether every entry of @table from @at to @end is @key
 * outside the PA field @pam: the same plain leaf but for its PA, as
 * memo_kind() tells entry by entry.  @key has no bit in @pam (a memo's
 * key), so the OR of every entry XOR @key is their PA fields ORed inside
 * @pam, which *@pa_or gets, and 0 outside it exactly when the answer is
 * yes.  The entries are read as 16-byte pairs (entry_pair): a load, an
 * XOR and an OR a pair, where an AND and an OR of the entries as they
 * are took a register copy more (SSE2's operations overwrite an operand).
 * About 1.9 instructions an entry, where alike_row() takes four; it does
 * not check that the PAs step.  @to, when set: each entry is also stored
 * there as read, from @to on, in a table nothing points to yet, so that
 * a copy reads the source once; the caller writes those places again
 * when the answer is no.
 */
VPTE_INLINE bool uniform_row(vpte_slot_t *table, unsigned at, unsigned end, uint64_t pam,
			     uint64_t key, uint64_t *pa_or, vpte_slot_t *to)
{
	uint64_t odd = 0;
	unsigned stop = end + 1u;
	if ((stop - at) & 1u) { /* an odd count: the last alone */
		uint64_t e = slot_load(slot_at(table, end));
		odd = e ^ key;
		if (to)
			*(uint64_t *)(void *)(to + (end - at)) = e;
		stop--;
	}
	const entry_pair keys = { key, key };
	entry_pair diff = { odd, 0 };
	/* Four pairs a step, counted down over a pointer: a pair a step spent
	 * half its instructions on the loop; eight pairs a step made gcc
	 * load each pair twice. */
	const entry_pair *pair = (const entry_pair *)(const void *)slot_at(table, at);
	entry_pair *out = (entry_pair *)(void *)to;
	unsigned pairs = (stop - at) / 2u;
	for (; pairs >= 4u; pairs -= 4u, pair += 4) {
		entry_pair p0 = pair[0], p1 = pair[1], p2 = pair[2], p3 = pair[3];
		if (out) {
			out[0] = p0;
			out[1] = p1;
			out[2] = p2;
			out[3] = p3;
			out += 4;
		}
		diff |= ((p0 ^ keys) | (p1 ^ keys)) | ((p2 ^ keys) | (p3 ^ keys));
	}
	for (; pairs; pairs--, pair++) {
		if (out)
			*out++ = *pair;
		diff |= *pair ^ keys;
	}
	uint64_t any = diff[0] | diff[1];
	*pa_or = any & pam;
	return !(any & ~pam);
}

/*
 * iter_step_alike - the common step of an iteration through a table of
 * leaves: to the next entry of the granule-level table the last leaf
 * reported (a plain leaf, no run member) came from, when that entry is
 * encoded as that leaf but for its PA field (pa_field()).  kind(),
 * leaf_cont() and leaf_prot() read no bit of that field, so the entry is a
 * plain leaf with the same attributes: only its PA and its address are
 * new, and the walk's describe() is not run again.  Returns false, having
 * changed nothing, for any other step: eng_iter_next() takes it.
 */
VPTE_INLINE bool iter_step_alike(const struct vpte_format *f, const struct vpte_codec *c,
				 struct vpte_walk *w)
{
	uint64_t next = w->index_addr + g_page(f);
	if (w->done || w->kind != VPTE_LEAF || w->level != 0 || w->cont ||
	    !(next & mask_below(g_shift(f, 1))) || next > w->index_last ||
	    (f->cont_bits[0] && c->leaf_cont(f, w->entry, 0)))
		return false;
	uint64_t e = slot_load_made(c, slot_at(w->path[0], g_index(f, next, 0)));
	if ((e ^ w->entry) & ~pa_field(f, c, 0))
		return false;
	w->entry = e;
	w->index_addr = next;
	w->va = vpte_va(ia_to_va(f, next));
	w->pa = vpte_pa(c->leaf_pa(f, e, 0, next));
	return true;
}

#endif
