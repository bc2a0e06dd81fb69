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

/* VPTE_LEAF_CAS_HOOK() - evaluated before each compare-and-swap of
 * replace_leaf(): nothing in the library; tests/test_harvest_stores.c
 * counts them in its own copy of the engine. */
#ifndef VPTE_LEAF_CAS_HOOK
#define VPTE_LEAF_CAS_HOOK() ((void)0)
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
	VPTE_LEAF_CAS_HOOK();
	return atomic_compare_exchange_strong_explicit(slot, &e, next, memory_order_release,
						       memory_order_relaxed);
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
