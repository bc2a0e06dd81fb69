/* SPDX-License-Identifier: MIT */
/*
 * leafstore.h - how an edit replaces a leaf the hardware may update
 * (protect, harvest, copy's write-protect).
 *
 * The hardware sets accessed and dirty in a live leaf on its own, at any
 * moment, with an atomic read-modify-write (x86-64; RISC-V with Svadu;
 * arm64 with FEAT_HAFDBS).  An edit that loads a leaf and stores a changed
 * copy with a plain store would wipe out a flag set in between, and a lost
 * dirty flag is lost data (a page written and never written back).  So the
 * leaf is replaced by a compare-and-swap, which fails instead.  A plain
 * store, without the locked instruction (2.4-7 ns on the benchmark's
 * machines against 0.3, docs/performance.md), is enough where nothing else writes
 * the table's entries (VPTE_TABLE_NO_HW_UPDATES) or where the leaf as
 * loaded is settled: every flag the hardware could set in it is set
 * already (the codec's leaf_settled()), so the hardware leaves it alone
 * until the store, and whatever it sets after the store lands on the new
 * entry.
 */
#ifndef VPTE_ENGINE_LEAFSTORE_H
#define VPTE_ENGINE_LEAFSTORE_H

#include "engine/leafbits.h"

/* VPTE_LEAF_CAS_HOOK(entries) - evaluated before each compare-and-swap of
 * replace_leaf() (one entry) and replace_leaf_pair() (two): nothing in the
 * library; tests/test_harvest_stores.c counts them in its own copy of the
 * engine. */
#ifndef VPTE_LEAF_CAS_HOOK
#define VPTE_LEAF_CAS_HOOK(entries) ((void)0)
#endif

/* May a plain store replace the leaf @e at @level, loaded from a table
 * whose entries only vpte writes when @no_hw? */
VPTE_INLINE bool leaf_store_plain(const struct vpte_format *f, const struct vpte_codec *c,
				  bool no_hw, uint64_t e, unsigned level)
{
	return no_hw || c->leaf_settled(f, e, level);
}

/* Replace the leaf @e at @slot by @next, with a plain store when @plain
 * (leaf_store_plain()); false if the entry changed meanwhile (then nothing
 * was written). */
VPTE_INLINE bool replace_leaf(vpte_slot_t *slot, uint64_t e, uint64_t next, bool plain)
{
	if (plain) {
		slot_store(slot, next);
		return true;
	}
	VPTE_LEAF_CAS_HOOK(1);
	return atomic_compare_exchange_strong_explicit(slot, &e, next, memory_order_release,
						       memory_order_relaxed);
}

/*
 * replace_leaf_pair - replace the two leaves at @slot, loaded as @e0 and
 * @e1, by @n0 and @n1 with one compare-and-swap of both; false if either
 * changed meanwhile (then nothing was written).  @slot must be 16-byte
 * aligned, which a table page need not be (entry_pair, walk.h): callers
 * test the address.  The locked instruction is what costs, not its width:
 * one for two entries took 1.35 ns an entry on the benchmark machine
 * against 2.35 ns for one each (docs/performance-log.md, item 55).
 *
 * LEAF_PAIR_CAS is 1 where the host has such an instruction and the
 * compiler was told it may use it (__GCC_HAVE_SYNC_COMPARE_AND_SWAP_16:
 * x86-64 built with -mcx16, as CMake's VPTE_CX16 does, or an -march that
 * has CMPXCHG16B), else 0 and replace_leaf_pair() is never called.
 */
#if defined(__x86_64__) && defined(__GCC_HAVE_SYNC_COMPARE_AND_SWAP_16)
#define LEAF_PAIR_CAS 1
struct slot_pair {
	uint64_t lo, hi;
};

VPTE_INLINE bool replace_leaf_pair(vpte_slot_t *slot, uint64_t e0, uint64_t e1, uint64_t n0,
				   uint64_t n1)
{
	struct slot_pair *mem = (struct slot_pair *)(void *)slot;
	bool same;
	VPTE_LEAF_CAS_HOOK(2);
	/* Intel SDM Vol. 2A, CMPXCHG8B/CMPXCHG16B: compares RDX:RAX with the
	 * 16 bytes at the operand and, if equal, stores RCX:RBX there and
	 * sets ZF; with LOCK the whole is one atomic access, ordered as a
	 * full fence (Vol. 3A, "Memory Ordering in P6 and More Recent
	 * Processor Families").  The operand must be 16-byte aligned. */
	__asm__ volatile("lock cmpxchg16b %[mem]"
			 : "=@ccz"(same), [mem] "+m"(*mem), "+a"(e0), "+d"(e1)
			 : "b"(n0), "c"(n1)
			 : "memory");
	return same;
}
#else
#define LEAF_PAIR_CAS 0
VPTE_INLINE bool replace_leaf_pair(vpte_slot_t *slot, uint64_t e0, uint64_t e1, uint64_t n0,
				   uint64_t n1)
{
	(void)slot, (void)e0, (void)e1, (void)n0, (void)n1;
	return false;
}
#endif

/* May replace_leaf_pair() replace the entries at @slot and the one after? */
VPTE_INLINE bool leaf_pair_at(const vpte_slot_t *slot)
{
	return LEAF_PAIR_CAS && !((uintptr_t)slot & 15u);
}

/* change_row()'s compare-and-swaps two leaves at a time (replace_leaf_pair()),
 * from @slot, 16-byte aligned, up to @stop, while both leaves of a pair are
 * of the encoding and neither changed: the first entry not replaced. */
VPTE_INLINE vpte_slot_t *change_pairs(vpte_slot_t *slot, vpte_slot_t *stop, uint64_t mask,
				      uint64_t key, uint64_t delta)
{
	for (; stop - slot >= 1; slot += 2) {
		uint64_t e0 = slot_load(slot), e1 = slot_load(slot + 1);
		if ((((e0 ^ key) | (e1 ^ key)) & mask) ||
		    !replace_leaf_pair(slot, e0, e1, e0 ^ delta, e1 ^ delta))
			break;
	}
	return slot;
}

/* change_row() for one value of @plain, a constant where it is inlined. */
VPTE_INLINE unsigned change_row_as(vpte_slot_t *table, unsigned at, unsigned end, uint64_t mask,
				   uint64_t key, uint64_t delta, bool plain, bool *lost)
{
	vpte_slot_t *slot = slot_at(table, at), *stop = slot_at(table, end);
	const entry_pair keys = { key, key }, masks = { mask, mask };
	/* A local cursor, as in plan_table().  Eight entries tested a step as
	 * pairs (pairs_differ()), then each loaded again for its store: a
	 * load from L1 costs less than taking a pair's halves apart.  The
	 * pairs are plain reads, so they start after the row's first leaf,
	 * which alone of the row a concurrent unmap's freeze_table() may
	 * compare-and-swap (failing: it stops at the first entry in use). */
	if (plain && slot <= stop) {
		uint64_t e = slot_load(slot);
		if ((e ^ key) & mask)
			return at;
		slot_store(slot, e ^ delta);
		slot++;
	}
	while (plain && stop - slot >= 7 && !pairs_differ(slot, 4, keys, masks)) {
		_Pragma("GCC unroll 8")
		for (unsigned k = 0; k < 8u; k++)
			slot_store(slot + k, slot_load(slot + k) ^ delta);
		slot += 8;
	}
	while (plain && stop - slot >= 3) {
		uint64_t e0 = slot_load(slot), e1 = slot_load(slot + 1);
		uint64_t e2 = slot_load(slot + 2), e3 = slot_load(slot + 3);
		if (((e0 ^ key) | (e1 ^ key) | (e2 ^ key) | (e3 ^ key)) & mask)
			break;
		slot_store(slot, e0 ^ delta);
		slot_store(slot + 1, e1 ^ delta);
		slot_store(slot + 2, e2 ^ delta);
		slot_store(slot + 3, e3 ^ delta);
		slot += 4;
	}
	for (; slot <= stop; slot++) {
		/* Two leaves a compare-and-swap where the host can; the entry
		 * where that stops goes alone (of a pair that failed, the
		 * second may be the one that changed). */
		if (!plain && leaf_pair_at(slot))
			slot = change_pairs(slot, stop, mask, key, delta);
		if (slot > stop)
			break;
		uint64_t e = slot_load(slot);
		if ((e ^ key) & mask)
			break;
		if (!replace_leaf(slot, e, e ^ delta, plain)) {
			*lost = true;
			break;
		}
	}
	return (unsigned)(slot - table);
}

/*
 * change_row - from entry @at of @table on, up to @end, while the entries
 * are leaves of one encoding (@key under @mask), replace each e by
 * e ^ @delta: plain stores (@plain), eight and then four entries a test,
 * else a compare-and-swap of two entries or of one (replace_leaf_pair()),
 * which stops the row where it fails (*@lost: the hardware changed that
 * entry since the load).  Each kind of store has a loop of its own.
 * Returns the index after the last entry replaced.
 */
VPTE_INLINE unsigned change_row(vpte_slot_t *table, unsigned at, unsigned end, uint64_t mask,
				uint64_t key, uint64_t delta, bool plain, bool *lost)
{
	return plain ? change_row_as(table, at, end, mask, key, delta, true, lost)
		     : change_row_as(table, at, end, mask, key, delta, false, lost);
}

/*
 * leaf_clear_flag - clear the flag @b in the leaf at @slot, last loaded as
 * @e, if it has it; @plain as replace_leaf() for @e.  Returns the entry as
 * it was when replaced, or as last loaded if it has not the flag (so
 * flag_in() of the result tells whether this call cleared it).
 */
VPTE_INLINE uint64_t leaf_clear_flag(vpte_slot_t *slot, uint64_t e, struct flag_bits b,
				     bool plain)
{
	while (flag_in(e, b) && !replace_leaf(slot, e, (e & ~b.on) | b.off, plain)) {
		e = slot_load(slot);
		plain = false;
	}
	return e;
}

#endif
