/* SPDX-License-Identifier: MIT */
/*
 * riscv.h - entry codec for RISC-V Sv39, Sv48 and Sv57.
 *
 * Source: The RISC-V Instruction Set Manual, Volume II: Privileged
 * Architecture (20211203), section 4.3.1 "Addressing and Memory Protection"
 * (PTE bits, Table 4.5 "Encoding of PTE R/W/X fields", the walk of 4.3.2),
 * sections 4.4-4.6 (Sv39/Sv48/Sv57: 44-bit PPN, bits 60:54 reserved);
 * chapter "Svnapot" (N = bit 63, 64 KiB runs with PPN[3:0] = 0b1000 at
 * level 0) and chapter "Svpbmt" (PBMT = bits 62:61).
 *
 * Generic attributes map one to one onto R, W, X, U, G, A, D (bits 1-7);
 * SPECIAL is RSW bit 8 (as Linux's _PAGE_SPECIAL); raw is RSW bit 9;
 * memtype is PBMT: 0 PMA (write-back), 1 NC, 2 IO (device).
 * A table entry is V alone: R = W = X = 0 makes it a pointer.  A NAPOT run
 * is 16 level-0 leaves with N set, each holding the run's base PPN with
 * PPN[3:0] = 0b1000 (the hardware substitutes VPN[0][3:0] for those bits).
 *
 * Corrupt (4.3.2 step 3 to 6 would raise a page fault): reserved bits
 * 60:54 set; PBMT = 3 in a leaf; W without R (R=0 W=1 X=0 or X=1); a
 * pointer at level 0; a pointer with U, A, D, PBMT or N set; a superpage
 * whose low PPN fields are not 0 (misaligned superpage); N in a leaf above
 * level 0 or with PPN[3:0] other than 0b1000 (reserved NAPOT encodings).
 */
#ifndef VPTE_FORMATS_RISCV_H
#define VPTE_FORMATS_RISCV_H

#include "engine/codec.h"

#define RV_V (1ull << 0)
#define RV_R (1ull << 1)
#define RV_W (1ull << 2)
#define RV_X (1ull << 3)
#define RV_U (1ull << 4)
#define RV_G (1ull << 5)
#define RV_A (1ull << 6)
#define RV_D (1ull << 7)
#define RV_SPECIAL (1ull << 8)
#define RV_RAW_MASK (1ull << 9)
#define RV_PPN_SHIFT 10
#define RV_PPN (0x00000fffffffffffull << RV_PPN_SHIFT) /* bits 53:10 */
#define RV_RESERVED (0x7full << 54)                    /* bits 60:54 */
#define RV_PBMT_SHIFT 61
#define RV_PBMT (3ull << RV_PBMT_SHIFT)
#define RV_N (1ull << 63)
#define RV_NAPOT_64K_PPN 0x8ull /* PPN[3:0] of a 64 KiB NAPOT leaf */
#define RV_NONLEAF_RESERVED (RV_U | RV_A | RV_D | RV_PBMT | RV_N)

static inline uint64_t rv_pa(uint64_t e)
{
	return ((e & RV_PPN) >> RV_PPN_SHIFT) << 12;
}

/* A pointer: V alone of the bits that decide, none of them reserved. */
#define RV_POINTER_TEST (RV_V | RV_R | RV_W | RV_X | RV_RESERVED | RV_NONLEAF_RESERVED)
/* A readable leaf of PBMT 0 or 1 outside a NAPOT run: V and R alone of
 * these (W and X are valid either way with R, and PBMT 3 needs bit 62). */
#define RV_READABLE_LEAF_TEST (RV_V | RV_R | RV_RESERVED | (2ull << RV_PBMT_SHIFT) | RV_N)

/* A superpage at @level with low PPN bits set is misaligned. */
static inline bool rv_misaligned(uint64_t e, unsigned level)
{
	return ((e & RV_PPN) >> RV_PPN_SHIFT) & ((1ull << (9 * level)) - 1);
}

static inline int rv_kind(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	/* What a walk meets at nearly every level, each with one mask and
	 * compare instead of a test per rule below. */
	if (level && (e & RV_POINTER_TEST) == RV_V)
		return VPTE_TABLE;
	if ((e & RV_READABLE_LEAF_TEST) == (RV_V | RV_R))
		return rv_misaligned(e, level) ? VPTE_KIND_CORRUPT : VPTE_LEAF;
	if (!(e & RV_V))
		return VPTE_HOLE;
	if (e & RV_RESERVED)
		return VPTE_KIND_CORRUPT;
	if (!(e & (RV_R | RV_W | RV_X))) {
		/* Pointer: none at level 0 (4.3.2 step 4: i < 0 faults).  On a
		 * non-leaf PTE, D, A and U are reserved (4.3.1), so are PBMT
		 * (Svpbmt) and N (Svnapot: bit 63 only has a meaning in a leaf),
		 * and 4.3.2 step 3 faults on any reserved bit that is set. */
		return (level == 0 || (e & RV_NONLEAF_RESERVED)) ? VPTE_KIND_CORRUPT : VPTE_TABLE;
	}
	if ((e & RV_W) && !(e & RV_R))
		return VPTE_KIND_CORRUPT;
	if ((e & RV_PBMT) == RV_PBMT)
		return VPTE_KIND_CORRUPT;
	uint64_t ppn = (e & RV_PPN) >> RV_PPN_SHIFT;
	if (e & RV_N)
		return (level == 0 && (ppn & 0xf) == RV_NAPOT_64K_PPN) ? VPTE_LEAF
								       : VPTE_KIND_CORRUPT;
	return rv_misaligned(e, level) ? VPTE_KIND_CORRUPT : VPTE_LEAF;
}

static inline uint64_t rv_table_pa(const struct vpte_format *f, uint64_t e)
{
	(void)f;
	return rv_pa(e);
}

static inline uint64_t rv_leaf_pa(const struct vpte_format *f, uint64_t e, unsigned level,
				  uint64_t entry_ia)
{
	(void)f;
	(void)level;
	if (e & RV_N) /* every member holds the run's base with PPN[3:0] = 0b1000 */
		return (rv_pa(e) & ~0xffffull) | (entry_ia & 0xf000);
	return rv_pa(e);
}

static inline bool rv_leaf_cont(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	(void)level;
	return (e & RV_N) != 0;
}

/* R W X U G A D (bits 1-7) and RSW bit 8 (SPECIAL) are vpte's flags in
 * vpte's order, one bit up: the flags are one field, moved by a shift both
 * ways (a decode table, codec.h, would only add a load). */
#define RV_FLAGS_SHIFT 1
_Static_assert(RV_R == (uint64_t)VPTE_R << RV_FLAGS_SHIFT && RV_W == (uint64_t)VPTE_W << RV_FLAGS_SHIFT &&
		       RV_X == (uint64_t)VPTE_X << RV_FLAGS_SHIFT &&
		       RV_U == (uint64_t)VPTE_U << RV_FLAGS_SHIFT &&
		       RV_G == (uint64_t)VPTE_G << RV_FLAGS_SHIFT &&
		       RV_A == (uint64_t)VPTE_A << RV_FLAGS_SHIFT &&
		       RV_D == (uint64_t)VPTE_D << RV_FLAGS_SHIFT &&
		       RV_SPECIAL == (uint64_t)VPTE_SPECIAL << RV_FLAGS_SHIFT &&
		       VPTE_PROT_FLAGS == 0xffu,
	       "RISC-V PTE bits 1-8 are vpte's flags in order");

static inline struct vpte_prot rv_leaf_prot(const struct vpte_format *f, uint64_t e,
					    unsigned level)
{
	(void)f;
	(void)level;
	struct vpte_prot p = { (uint32_t)(e >> RV_FLAGS_SHIFT) & VPTE_PROT_FLAGS,
			       (uint32_t)((e & RV_PBMT) >> RV_PBMT_SHIFT), e & RV_RAW_MASK };
	return p;
}

static inline uint64_t rv_make_table(const struct vpte_format *f, uint64_t pa)
{
	(void)f;
	return ((pa >> 12) << RV_PPN_SHIFT) | RV_V;
}

static inline uint64_t rv_make_leaf(const struct vpte_format *f, uint64_t pa, unsigned level,
				    struct vpte_prot p, bool cont)
{
	(void)f;
	(void)level;
	uint64_t ppn = pa >> 12;
	uint64_t e = RV_V | ((uint64_t)(p.flags & VPTE_PROT_FLAGS) << RV_FLAGS_SHIFT) | p.raw |
		     ((uint64_t)p.memtype << RV_PBMT_SHIFT);
	if (cont) {
		ppn = (ppn & ~0xfull) | RV_NAPOT_64K_PPN;
		e |= RV_N;
	}
	return e | (ppn << RV_PPN_SHIFT);
}

static inline bool rv_prot_ok(const struct vpte_format *f, struct vpte_prot p)
{
	(void)f;
	bool r = p.flags & VPTE_R, w = p.flags & VPTE_W, x = p.flags & VPTE_X;
	return (r || x) && (r || !w) && p.memtype <= VPTE_MT_DEVICE && !(p.raw & ~RV_RAW_MASK);
}

/*
 * With Svadu the implementation writes a leaf only to set A (on any
 * access) and D (on a store), atomically, and only once the access passed
 * the permission check: a store to a page without W faults first (4.3.2
 * steps 5 and 7; chapter "Svadu").  With Svade it writes none.
 */
static inline bool rv_leaf_settled(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	(void)level;
	return (e & RV_A) && (e & (RV_D | RV_W)) != RV_W;
}

static const struct vpte_codec riscv_codec = {
	.kind = rv_kind,
	.table_pa = rv_table_pa,
	.leaf_pa = rv_leaf_pa,
	.leaf_cont = rv_leaf_cont,
	.leaf_prot = rv_leaf_prot,
	.make_table = rv_make_table,
	.make_leaf = rv_make_leaf,
	.prot_ok = rv_prot_ok,
	.leaf_settled = rv_leaf_settled,
};

/* A format of the family, stamped with VPTE_FORMAT (engine/instantiate.h),
 * which must be included first: the level count is the parameter, leaves
 * at every level, Svnapot 64 KiB runs at level 0.  src/formats/riscv_*.c
 * stamp the library's formats, one a file; a test may stamp one under
 * another name. */
#define RISCV_FORMAT(ident, str, nlevels)                                                    \
	VPTE_FORMAT(ident, riscv_codec, .name = str, .levels = nlevels,                      \
		    .va_bits = 12 + 9 * (nlevels), .pa_bits = 56, .granule_shift = 12,      \
		    .sign_extend = true,                                                     \
		    .level_bits = { 9, 9, 9, (nlevels) > 3 ? 9 : 0, (nlevels) > 4 ? 9 : 0 }, \
		    .leaf_levels = (1u << (nlevels)) - 1, .cont_bits = { 4 },                \
		    .raw_mask = RV_RAW_MASK)

#endif
