/* SPDX-License-Identifier: MIT */
/*
 * codec.h - what a format family tells the engine about its entries.
 *
 * Each family (src/formats/<family>.h) writes these as static inline
 * functions and collects them in a static const struct vpte_codec.  The
 * engine (engine.h) is written once against this interface and stamped out
 * per format variant with a constant format and codec, so the compiler
 * resolves every call below to inline code: no indirect calls on the walk.
 */
#ifndef VPTE_ENGINE_CODEC_H
#define VPTE_ENGINE_CODEC_H

#include <stdbool.h>
#include <stdint.h>

#include "vpte/vpte.h"

/* What kind() returns for an entry the hardware would fault on. */
#define VPTE_KIND_CORRUPT (-1)

struct vpte_codec {
	/*
	 * kind - classify @e found at @level: VPTE_HOLE, VPTE_LEAF, VPTE_TABLE,
	 * or VPTE_KIND_CORRUPT (reserved bits set, a leaf where the format
	 * allows none, a misaligned superpage, ...).
	 */
	int (*kind)(const struct vpte_format *f, uint64_t e, unsigned level);
	/* table_pa - physical address of the table a table entry points to. */
	uint64_t (*table_pa)(const struct vpte_format *f, uint64_t e);
	/*
	 * leaf_pa - the PA that the first byte of the entry's own span maps to.
	 * @entry_ia: index address of that span (entries of a RISC-V NAPOT run
	 * all hold the run's base, so the member's place is needed).
	 */
	uint64_t (*leaf_pa)(const struct vpte_format *f, uint64_t e, unsigned level,
			    uint64_t entry_ia);
	/* leaf_cont - the leaf belongs to a contiguous run. */
	bool (*leaf_cont)(const struct vpte_format *f, uint64_t e, unsigned level);
	/* leaf_prot - decode the attributes of a leaf. */
	struct vpte_prot (*leaf_prot)(const struct vpte_format *f, uint64_t e, unsigned level);
	/* make_table - a table entry pointing to the table at @pa. */
	uint64_t (*make_table)(const struct vpte_format *f, uint64_t pa);
	/*
	 * make_leaf - a leaf at @level mapping @pa (the PA of this entry's own
	 * span) with @prot; @cont marks it as a member of a contiguous run.
	 * @prot has passed prot_ok().
	 */
	uint64_t (*make_leaf)(const struct vpte_format *f, uint64_t pa, unsigned level,
			      struct vpte_prot prot, bool cont);
	/* prot_ok - the format can encode @prot. */
	bool (*prot_ok)(const struct vpte_format *f, struct vpte_prot prot);
	/*
	 * break_before_make - a live leaf must be made invalid and its TLB
	 * entries invalidated before it is replaced by one of another size
	 * (a block by a table of the same translations, entries gaining or
	 * losing the contiguous flag): arm64.  Readers wait while such an
	 * entry is broken (SLOT_BREAK, walk.h).
	 */
	bool break_before_make;
};

#endif
