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
 * store, without the locked instruction (5-7 ns on the benchmark machine
 * against 0.3, docs/performance.md), is enough where nothing else writes
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
 * against 2.35 ns for one each (docs/performance.md, item 55).
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
