/* SPDX-License-Identifier: MIT */
/*
 * arm64.h - entry codec for VMSAv8-64 stage 1 translation, EL1&0 regime,
 * TTBR0 region, 4 KiB / 16 KiB / 64 KiB granules, 48-bit output addresses
 * (no FEAT_LPA / FEAT_LPA2).
 *
 * Source: Arm Architecture Reference Manual for A-profile (DDI 0487),
 * section D8.3 "Translation table descriptor formats" (table, block and
 * page descriptors), D8.4 "Memory access control" (AP[2:1], PXN, UXN),
 * D8.5 "Memory region attributes" (AttrIndx, SH, AF, nG) and D8.6.1 "The
 * Contiguous bit" (run lengths per granule and level); section numbers of
 * the J/K editions.  The same facts in the manual's pseudocode, whose
 * names do not move between editions: AArch64.DecodeDescriptorType and
 * AArch64.BlockDescSupported (which levels hold blocks: 4K levels 1-2, 16K
 * level 2, 64K level 2 without FEAT_LPA/LPA2), AArch64.LeafBase (OA bits),
 * AArch64.S1ApplyOutputPerms (AP bits 7:6, PXN 53, UXN 54),
 * AArch64.S1DirectBasePermissions (memory writable at EL0 is never
 * executable at EL1, whatever PXN says), AArch64.ContiguousBit and
 * ContiguousSize (bit 52; log2 run length 4K: 4 at levels 1-3, 16K: 5 at
 * level 2 and 7 at level 3, 64K: 5 at levels 2-3).
 *
 * vpte levels count from the page level up, so vpte level 0 is the
 * architecture's level 3 and a descriptor there with bits[1:0] = 0b11 is a
 * page; at higher levels 0b11 is a table and 0b01 a block.
 *
 * Generic attributes:
 *   R                 always (AP[2:1] has no unreadable encoding for EL1)
 *   W                 AP[2] (bit 7) clear
 *   U                 AP[1] (bit 6) set
 *   X                 user: UXN (54) clear, PXN (53) set; kernel: PXN clear, UXN set
 *   G                 nG (bit 11) clear
 *   A                 AF (bit 10)
 *   D                 software bit 55 (as Linux's PTE_DIRTY; no FEAT_HAFDBS use)
 *   SPECIAL           software bit 56 (as Linux's PTE_SPECIAL)
 *   memtype           AttrIndx (bits 4:2) into MAIR_EL1 = 0x00000000000444ff:
 *                     index 0 normal write-back, 1 normal non-cacheable,
 *                     2 device-nGnRE
 *   raw               software bits 57-58
 * Every leaf is inner shareable (SH = 0b11, bits 9:8; ignored by the
 * hardware for device memory); NS (bit 5) stays 0; table descriptors are
 * pa | 0b11 with no hierarchical attributes (APTable, XNTable: 0).
 *
 * Corrupt (the walk would fault): bits[1:0] = 0b01 at the page level; a
 * block (0b01) at a level where the granule has none; any of OA bits
 * [51:48] set (bits 49:48 for 4K/16K, bits 15:12 for 64K: without
 * FEAT_LPA/LPA2 such an output address is beyond 48 bits, an Address
 * size fault).  A contiguous run whose members disagree is misprogrammed
 * (D8.6.1: the TLB may return any member's translation); the walker
 * reports it as corrupt too.
 */
#ifndef VPTE_FORMATS_ARM64_H
#define VPTE_FORMATS_ARM64_H

#include "engine/codec.h"

#define ARM64_VALID (1ull << 0)
#define ARM64_TYPE (1ull << 1) /* table (levels > 0) or page (level 0) */
#define ARM64_ATTRINDX_SHIFT 2
#define ARM64_ATTRINDX (7ull << ARM64_ATTRINDX_SHIFT)
#define ARM64_AP_EL0 (1ull << 6)
#define ARM64_AP_RO (1ull << 7)
#define ARM64_SH_INNER (3ull << 8)
#define ARM64_AF (1ull << 10)
#define ARM64_NG (1ull << 11)
#define ARM64_DBM (1ull << 51)
#define ARM64_CONT (1ull << 52)
#define ARM64_PXN (1ull << 53)
#define ARM64_UXN (1ull << 54)
#define ARM64_SW_DIRTY (1ull << 55)
#define ARM64_SW_SPECIAL (1ull << 56)
#define ARM64_RAW_MASK (3ull << 57)
#define ARM64_OA_TOP 0x0000ffffffffffffull /* OA bits 47:0 */
/* Bits that carry OA[51:48] under FEAT_LPA/LPA2: set, they name an output
 * address beyond 48 bits and the walk takes an Address size fault. */
#define ARM64_OA_HIGH_4K16K (3ull << 48)
#define ARM64_OA_HIGH_64K (0xfull << 12)

#define ARM64_MAIR_EL1 0x00000000000444ffull

static inline uint64_t arm64_oa_high(const struct vpte_format *f)
{
	return f->granule_shift == 16 ? ARM64_OA_HIGH_64K : ARM64_OA_HIGH_4K16K;
}

static inline unsigned arm64_shift(const struct vpte_format *f, unsigned level)
{
	return f->granule_shift + (f->granule_shift - 3u) * level;
}

static inline int arm64_kind(const struct vpte_format *f, uint64_t e, unsigned level)
{
	/* What a walk meets at every level, a table (a page at level 0):
	 * bits[1:0] = 0b11 and no OA bit above 48, with one mask and compare. */
	if ((e & (ARM64_VALID | ARM64_TYPE | arm64_oa_high(f))) == (ARM64_VALID | ARM64_TYPE))
		return level ? VPTE_TABLE : VPTE_LEAF;
	if (!(e & ARM64_VALID))
		return VPTE_HOLE;
	/* bits[1:0] = 0b01 at the page level is reserved. */
	if ((e & arm64_oa_high(f)) || level == 0)
		return VPTE_KIND_CORRUPT;
	/* A block where the granule has none (4K level 0, 16K/64K level 1)
	 * is a Translation fault. */
	return (f->leaf_levels & (1u << level)) ? VPTE_LEAF : VPTE_KIND_CORRUPT;
}

static inline uint64_t arm64_table_pa(const struct vpte_format *f, uint64_t e)
{
	return e & ARM64_OA_TOP & ~((1ull << f->granule_shift) - 1);
}

static inline uint64_t arm64_leaf_pa(const struct vpte_format *f, uint64_t e, unsigned level,
				     uint64_t entry_ia)
{
	(void)entry_ia;
	return e & ARM64_OA_TOP & ~((1ull << arm64_shift(f, level)) - 1);
}

static inline bool arm64_leaf_cont(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	(void)level;
	return (e & ARM64_CONT) != 0;
}

/*
 * A leaf's generic flags for every combination of bits 6-11 (AP[2:1], SH,
 * AF, nG) and 53-56 (PXN, UXN, the software dirty and special bits): the
 * decode table's fields (codec.h).  X follows UXN for a page EL0 may
 * access and PXN for the others (see the top of the file).
 */
#define ARM64_DECODE_FIELDS 6, 6, 53, 4
#define ARM64_LEAF_FLAGS(e)                                                                  \
	(VPTE_R | (((e) & ARM64_AP_RO) ? 0 : VPTE_W) | (((e) & ARM64_AP_EL0) ? VPTE_U : 0) |  \
	 (((e) & (((e) & ARM64_AP_EL0) ? ARM64_UXN : ARM64_PXN)) ? 0 : VPTE_X) |               \
	 (((e) & ARM64_NG) ? 0 : VPTE_G) | (((e) & ARM64_AF) ? VPTE_A : 0) |                   \
	 (((e) & ARM64_SW_DIRTY) ? VPTE_D : 0) | (((e) & ARM64_SW_SPECIAL) ? VPTE_SPECIAL : 0))
#define ARM64_LEAF_FLAGS_AT(i) ARM64_LEAF_FLAGS(VPTE_DECODE_ENTRY(i, ARM64_DECODE_FIELDS))

static const uint8_t arm64_leaf_flags[] = { VPTE_TABLE_1024(ARM64_LEAF_FLAGS_AT, 0u) };

static inline struct vpte_prot arm64_leaf_prot(const struct vpte_format *f, uint64_t e,
					       unsigned level)
{
	(void)f;
	(void)level;
	unsigned index = (unsigned)((e & ARM64_ATTRINDX) >> ARM64_ATTRINDX_SHIFT);
	struct vpte_prot p = { arm64_leaf_flags[vpte_decode_index(e, ARM64_DECODE_FIELDS)],
			       index <= VPTE_MT_DEVICE ? index : VPTE_MT_OTHER,
			       e & ARM64_RAW_MASK };
	return p;
}

static inline uint64_t arm64_make_table(const struct vpte_format *f, uint64_t pa)
{
	(void)f;
	return pa | ARM64_VALID | ARM64_TYPE;
}

/* The bits a leaf gets for generic flags @fl (the table below). */
#define ARM64_FLAG_BITS(fl)                                                                   \
	(ARM64_VALID | ARM64_SH_INNER | (((fl) & VPTE_W) ? 0 : ARM64_AP_RO) |                   \
	 (((fl) & VPTE_U) ? ARM64_AP_EL0 | ARM64_PXN | (((fl) & VPTE_X) ? 0 : ARM64_UXN)        \
			  : ARM64_UXN | (((fl) & VPTE_X) ? 0 : ARM64_PXN)) |                    \
	 (((fl) & VPTE_G) ? 0 : ARM64_NG) | (((fl) & VPTE_A) ? ARM64_AF : 0) |                   \
	 (((fl) & VPTE_D) ? ARM64_SW_DIRTY : 0) | (((fl) & VPTE_SPECIAL) ? ARM64_SW_SPECIAL : 0))

static const uint64_t arm64_flag_bits[] = { VPTE_FLAG_TABLE(ARM64_FLAG_BITS) };

static inline uint64_t arm64_make_leaf(const struct vpte_format *f, uint64_t pa, unsigned level,
				       struct vpte_prot p, bool cont)
{
	(void)f;
	uint64_t e = pa | p.raw | ((uint64_t)p.memtype << ARM64_ATTRINDX_SHIFT) |
		     arm64_flag_bits[p.flags & VPTE_PROT_FLAGS];
	if (level == 0)
		e |= ARM64_TYPE;
	if (cont)
		e |= ARM64_CONT;
	return e;
}

static inline bool arm64_prot_ok(const struct vpte_format *f, struct vpte_prot p)
{
	(void)f;
	return (p.flags & VPTE_R) && p.memtype <= VPTE_MT_DEVICE && !(p.raw & ~ARM64_RAW_MASK);
}

/*
 * With FEAT_HAFDBS the walk writes a leaf only to set AF (TCR_ELx.HA) and,
 * in a descriptor with DBM (bit 51) set, to clear AP[2] on a write
 * (TCR_ELx.HD), each atomically (Arm ARM D8, "Hardware management of the
 * Access flag" and "Hardware management of dirty state").  vpte's dirty
 * flag is a software bit the hardware never touches, and vpte never sets
 * DBM, but a foreign table may.
 */
static inline bool arm64_leaf_settled(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	(void)level;
	return (e & ARM64_AF) && (e & (ARM64_DBM | ARM64_AP_RO)) != (ARM64_DBM | ARM64_AP_RO);
}

static const struct vpte_codec arm64_codec = {
	.kind = arm64_kind,
	.table_pa = arm64_table_pa,
	.leaf_pa = arm64_leaf_pa,
	.leaf_cont = arm64_leaf_cont,
	.leaf_prot = arm64_leaf_prot,
	.make_table = arm64_make_table,
	.make_leaf = arm64_make_leaf,
	.prot_ok = arm64_prot_ok,
	.leaf_settled = arm64_leaf_settled,
	/* Arm ARM D8.16.1 "Using break-before-make when updating translation
	 * table entries": required for a change of block size, contiguous
	 * flag included. */
	.break_before_make = true,
};

/* A format of the family, stamped with VPTE_FORMAT (engine/instantiate.h),
 * which must be included first: the granule and the VA width are the
 * parameters, and the level count and the top level's index bits follow
 * from them (DDI 0487, D8.2 "Translation process": the starting level).
 * src/formats/arm64_*.c stamp the library's formats, one a file; a test
 * may stamp one under another name. */
#define ARM64_BITS(g) ((g) - 3)
#define ARM64_LEVELS(g, va) (((va) - (g) + ARM64_BITS(g) - 1) / ARM64_BITS(g))
#define ARM64_TOP_BITS(g, va) ((va) - (g) - ARM64_BITS(g) * (ARM64_LEVELS(g, va) - 1))
#define ARM64_LEVEL_BITS(g, va, l)                                                       \
	((l) < ARM64_LEVELS(g, va) - 1    ? ARM64_BITS(g)                                \
	 : (l) == ARM64_LEVELS(g, va) - 1 ? ARM64_TOP_BITS(g, va)                        \
					  : 0)

/* Block levels: 4K granule 2 MiB and 1 GiB; 16K 32 MiB; 64K 512 MiB (larger
 * blocks need FEAT_LPA/LPA2).  Contiguous runs (D8.6.1; pseudocode
 * AArch64.ContiguousBit and ContiguousSize): 4K 16 entries at every block
 * or page level, so 64 KiB, 32 MiB and 16 GiB (16 x 1 GiB level 1 blocks
 * are architected, Linux merely does not use them); 16K 128 pages (2 MiB)
 * or 32 blocks (1 GiB); 64K 32 of either (2 MiB, 16 GiB). */
#define ARM64_FORMAT(ident, str, g, va, leaves, cont0, cont1, cont2)                        \
	VPTE_FORMAT(ident, arm64_codec, .name = str, .levels = ARM64_LEVELS(g, va),         \
		    .va_bits = va, .pa_bits = 48, .granule_shift = g, .sign_extend = false, \
		    .level_bits = { ARM64_LEVEL_BITS(g, va, 0), ARM64_LEVEL_BITS(g, va, 1), \
				    ARM64_LEVEL_BITS(g, va, 2), ARM64_LEVEL_BITS(g, va, 3) }, \
		    .leaf_levels = leaves, .cont_bits = { cont0, cont1, cont2 },            \
		    .raw_mask = ARM64_RAW_MASK)

#endif
