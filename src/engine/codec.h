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

/*
 * VPTE_TABLE_<N>(VALUE, n) - the initializer VALUE(n), VALUE(n + 1), ...,
 * VALUE(n + N - 1): a table computed at compile time by a macro.
 */
#define VPTE_TABLE_4(VALUE, n) VALUE((n)), VALUE((n) + 1u), VALUE((n) + 2u), VALUE((n) + 3u)
#define VPTE_TABLE_16(VALUE, n)                                                           \
	VPTE_TABLE_4(VALUE, (n)), VPTE_TABLE_4(VALUE, (n) + 4u), VPTE_TABLE_4(VALUE, (n) + 8u), \
		VPTE_TABLE_4(VALUE, (n) + 12u)
#define VPTE_TABLE_64(VALUE, n)                                                              \
	VPTE_TABLE_16(VALUE, (n)), VPTE_TABLE_16(VALUE, (n) + 16u), VPTE_TABLE_16(VALUE, (n) + 32u), \
		VPTE_TABLE_16(VALUE, (n) + 48u)
#define VPTE_TABLE_256(VALUE, n)                                                                  \
	VPTE_TABLE_64(VALUE, (n)), VPTE_TABLE_64(VALUE, (n) + 64u), VPTE_TABLE_64(VALUE, (n) + 128u), \
		VPTE_TABLE_64(VALUE, (n) + 192u)
#define VPTE_TABLE_512(VALUE, n) VPTE_TABLE_256(VALUE, (n)), VPTE_TABLE_256(VALUE, (n) + 256u)
#define VPTE_TABLE_1024(VALUE, n) VPTE_TABLE_512(VALUE, (n)), VPTE_TABLE_512(VALUE, (n) + 512u)

/*
 * VPTE_FLAG_TABLE(BITS) - the initializer of a table of BITS(flags) for
 * each of the 256 combinations of the generic flags (VPTE_PROT_FLAGS), in
 * order.  A codec's make_leaf() then turns the flags into entry bits with
 * one load, where a test per flag costs about 40 instructions on every
 * single map.
 */
#define VPTE_FLAG_TABLE(BITS) VPTE_TABLE_256(BITS, 0u)

/*
 * Decode tables: a codec whose leaf attributes depend on entry bits
 * scattered over the entry reads them with one load from a table holding
 * the decoded value for every combination of those bits, where a shift
 * and a mask per attribute cost 20-40 instructions on every lookup and
 * iteration step.  The table's index is two bit fields of the entry,
 * named once by a field list `lo, lo_width, hi, hi_width`: entry bits
 * [lo, lo + lo_width) are index bits [0, lo_width), entry bits
 * [hi, hi + hi_width) the index bits above them (hi_width 0: one field).
 *
 * vpte_decode_index(e, FIELDS) - the index of entry @e.
 * VPTE_DECODE_ENTRY(i, FIELDS) - the entry holding index @i's bits and no
 *   others: the table is VPTE_TABLE_<N>() of the codec's decoding macro
 *   applied to it, so the table and the codec's bit definitions are one
 *   expression and cannot drift apart.
 */
#define VPTE_DECODE_ENTRY(i, fields) VPTE_DECODE_ENTRY_(i, fields)
#define VPTE_DECODE_ENTRY_(i, lo, lo_width, hi, hi_width)                    \
	((((uint64_t)(i) & ((1ull << (lo_width)) - 1u)) << (lo)) |            \
	 ((((uint64_t)(i) >> (lo_width)) & ((1ull << (hi_width)) - 1u)) << (hi)))

static inline unsigned vpte_decode_index(uint64_t e, unsigned lo, unsigned lo_width, unsigned hi,
					 unsigned hi_width)
{
	return (unsigned)((e >> lo) & ((1ull << lo_width) - 1u)) |
	       (unsigned)(((e >> hi) & ((1ull << hi_width) - 1u)) << lo_width);
}

/*
 * vpte_bit_move - the bit @from of @e (set or clear) moved to the bit @to
 * (both single-bit constants): a shift, where `(e & from) ? to : 0` costs a
 * test and a conditional move per bit in a decoder.
 */
static inline uint64_t vpte_bit_move(uint64_t e, uint64_t from, uint64_t to)
{
	return from >= to ? (e & from) / (from / to) : (e & from) * (to / from);
}

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
	 * @entry_ia: index address of that span, or its VA: only the bits
	 * below the run are read (entries of a RISC-V NAPOT run all hold the
	 * run's base, so the member's place is needed).
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
	 * leaf_settled - the hardware can no longer change the leaf @e at
	 * @level: every bit it updates on its own (accessed, dirty) is already
	 * as it would make it, so it leaves the entry alone (leafstore.h).
	 */
	bool (*leaf_settled)(const struct vpte_format *f, uint64_t e, unsigned level);
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
