/* SPDX-License-Identifier: MIT */
/*
 * x86_64.h - entry codec for x86-64 4-level and 5-level (LA57) paging.
 *
 * Source: Intel 64 and IA-32 Architectures Software Developer's Manual,
 * Vol. 3A, section 4.5 "4-Level Paging and 5-Level Paging", the entry
 * format tables "Format of a PML5 Entry (PML5E)", "... PML4 Entry",
 * "... PDPTE that Maps a 1-GByte Page / References a Page Directory",
 * "... PDE that Maps a 2-MByte Page / References a Page Table" and "... PTE
 * that Maps a 4-KByte Page" (Tables 4-14 to 4-20 in recent editions; the
 * numbers shift between editions); memory types: section 4.9.2 and the
 * "Page Attribute Table (PAT)" section of the Memory Cache Control chapter.
 * The encodings assume IA32_EFER.NXE = 1 (bit 63 is XD) and MAXPHYADDR 52.
 *
 * PAT: the PAT index is PAT*4 + PCD*2 + PWT, with the PAT bit at bit 7 of
 * a PTE and at bit 12 of a 2 MiB / 1 GiB leaf (bit 7 is PS there).  vpte
 * relies only on IA32_PAT entries 0, 2 and 3 being WB, UC- and UC, true of
 * the power-on value 0x0007040600070406 and of Linux's setting alike;
 * entries 1 and 4-7 are what operating systems reprogram (power-on: WT, WB,
 * WT, UC-, UC; Linux: WC, WB, WP, UC-, WT), so they read back as
 * VPTE_MT_OTHER.
 *
 * Generic attributes:
 *   R                 always (a present x86 page is readable)
 *   W, U              R/W (bit 1), U/S (bit 2)
 *   X                 XD (bit 63) clear
 *   G, A, D           bits 8, 5, 6
 *   SPECIAL           bit 9 (ignored by hardware; Linux's _PAGE_SPECIAL)
 *   memtype           PAT index 0 = WB, 2 = NC (PCD: UC-), 3 = device (PCD|PWT: UC)
 *   raw               bits 10-11 and 52-58 (ignored; bit 11 is HLAT's restart
 *                     bit, ignored by ordinary paging), 59-62 (protection key)
 * Corrupt (a walk would take a reserved-bit page fault): PS (bit 7) set in a
 * PML5E or PML4E; a 1 GiB leaf with any of bits 29:13 set or a 2 MiB leaf
 * with any of bits 20:13 set (reserved, must be 0).
 * Table entries are P | R/W | U/S | A so that leaves alone decide access.
 */
#ifndef VPTE_FORMATS_X86_64_H
#define VPTE_FORMATS_X86_64_H

#include "engine/codec.h"

#define X86_P (1ull << 0)
#define X86_RW (1ull << 1)
#define X86_US (1ull << 2)
#define X86_PWT (1ull << 3)
#define X86_PCD (1ull << 4)
#define X86_A (1ull << 5)
#define X86_D (1ull << 6)
#define X86_PS (1ull << 7)       /* PDPTE/PDE: maps a page; PTE: the PAT bit */
#define X86_PAT_4K (1ull << 7)
#define X86_G (1ull << 8)
#define X86_SPECIAL (1ull << 9)
#define X86_PAT_HUGE (1ull << 12)
#define X86_XD (1ull << 63)
#define X86_ADDR 0x000ffffffffff000ull /* bits 51:12 (MAXPHYADDR 52) */
#define X86_RAW_MASK (0x0000000000000c00ull | 0x7ff0000000000000ull)

static inline unsigned x86_shift(unsigned level)
{
	return 12u + 9u * level;
}

static inline int x86_kind(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	if (!(e & X86_P))
		return VPTE_HOLE;
	if (level == 0)
		return VPTE_LEAF;
	if (level >= 3) /* PML4E, PML5E: bit 7 is reserved (SDM 4.5, PML4E/PML5E tables) */
		return (e & X86_PS) ? VPTE_KIND_CORRUPT : VPTE_TABLE;
	if (!(e & X86_PS))
		return VPTE_TABLE;
	/* 1 GiB / 2 MiB page: bits 29:13 / 20:13 are reserved (SDM 4.5, tables
	 * for a PDPTE that maps a 1-GByte page and a PDE that maps a 2-MByte
	 * page); bit 12 is the PAT bit. */
	uint64_t reserved = ((1ull << x86_shift(level)) - 1) & ~((1ull << 13) - 1);
	return (e & reserved) ? VPTE_KIND_CORRUPT : VPTE_LEAF;
}

static inline uint64_t x86_table_pa(const struct vpte_format *f, uint64_t e)
{
	(void)f;
	return e & X86_ADDR;
}

static inline uint64_t x86_leaf_pa(const struct vpte_format *f, uint64_t e, unsigned level,
				   uint64_t entry_ia)
{
	(void)f;
	(void)entry_ia;
	return e & X86_ADDR & ~((1ull << x86_shift(level)) - 1);
}

static inline bool x86_leaf_cont(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	(void)e;
	(void)level;
	return false;
}

/* The memory type of PAT index @i (see the top of the file). */
#define X86_PAT_MEMTYPE(i)                                                                  \
	((i) == 0 ? VPTE_MT_WB : (i) == 2 ? VPTE_MT_NC : (i) == 3 ? VPTE_MT_DEVICE : VPTE_MT_OTHER)

/*
 * A leaf's generic flags but X and its memory type, flags in bits 0-7 and
 * the memory type above, for every combination of bits 1-9 (the decode
 * table's fields, codec.h) of a leaf with the PAT bit in bit 7
 * (x86_leaf_index()).  X comes from XD by a shift.
 */
#define X86_DECODE_FIELDS 1, 9, 0, 0
#define X86_LEAF_ATTRS(e)                                                                     \
	((VPTE_R | (((e) & X86_RW) ? VPTE_W : 0) | (((e) & X86_US) ? VPTE_U : 0) |             \
	  (((e) & X86_G) ? VPTE_G : 0) | (((e) & X86_A) ? VPTE_A : 0) |                         \
	  (((e) & X86_D) ? VPTE_D : 0) | (((e) & X86_SPECIAL) ? VPTE_SPECIAL : 0)) |            \
	 X86_PAT_MEMTYPE((((e) & X86_PAT_4K) ? 4u : 0u) + (((e) & X86_PCD) ? 2u : 0u) +        \
			 (((e) & X86_PWT) ? 1u : 0u))                                           \
		 << 8)
#define X86_LEAF_ATTRS_AT(i) X86_LEAF_ATTRS(VPTE_DECODE_ENTRY(i, X86_DECODE_FIELDS))

static const uint16_t x86_leaf_attrs[] = { VPTE_TABLE_512(X86_LEAF_ATTRS_AT, 0u) };

/* The index of x86_leaf_attrs[] for leaf @e at @level, whose PAT bit is
 * bit 12 above level 0 (bit 7 is PS there). */
static inline unsigned x86_leaf_index(uint64_t e, unsigned level)
{
	if (level)
		e = (e & ~X86_PAT_4K) | vpte_bit_move(e, X86_PAT_HUGE, X86_PAT_4K);
	return vpte_decode_index(e, X86_DECODE_FIELDS);
}

static inline struct vpte_prot x86_leaf_prot(const struct vpte_format *f, uint64_t e,
					     unsigned level)
{
	(void)f;
	unsigned attrs = x86_leaf_attrs[x86_leaf_index(e, level)];
	uint32_t flags = (attrs & 0xffu) | (uint32_t)vpte_bit_move(~e, X86_XD, VPTE_X);
	struct vpte_prot p = { flags, attrs >> 8, e & X86_RAW_MASK };
	return p;
}

static inline uint64_t x86_make_table(const struct vpte_format *f, uint64_t pa)
{
	(void)f;
	return pa | X86_P | X86_RW | X86_US | X86_A;
}

/* The bits a leaf gets for generic flags @fl (the table below). */
#define X86_FLAG_BITS(fl)                                                                   \
	(X86_P | (((fl) & VPTE_W) ? X86_RW : 0) | (((fl) & VPTE_U) ? X86_US : 0) |           \
	 (((fl) & VPTE_X) ? 0 : X86_XD) | (((fl) & VPTE_G) ? X86_G : 0) |                     \
	 (((fl) & VPTE_A) ? X86_A : 0) | (((fl) & VPTE_D) ? X86_D : 0) |                      \
	 (((fl) & VPTE_SPECIAL) ? X86_SPECIAL : 0))

static const uint64_t x86_flag_bits[] = { VPTE_FLAG_TABLE(X86_FLAG_BITS) };

/* PAT index 0, 2, 3 (see the top of the file); VPTE_MT_OTHER is never
 * encoded (prot_ok()). */
static const uint64_t x86_memtype_bits[] = { 0, X86_PCD, X86_PCD | X86_PWT, 0 };

static inline uint64_t x86_make_leaf(const struct vpte_format *f, uint64_t pa, unsigned level,
				     struct vpte_prot p, bool cont)
{
	(void)f;
	(void)cont;
	uint64_t e = pa | p.raw | x86_flag_bits[p.flags & VPTE_PROT_FLAGS] |
		     x86_memtype_bits[p.memtype & 3u];
	return level ? e | X86_PS : e;
}

static inline bool x86_prot_ok(const struct vpte_format *f, struct vpte_prot p)
{
	(void)f;
	return (p.flags & VPTE_R) && p.memtype <= VPTE_MT_DEVICE && !(p.raw & ~X86_RAW_MASK);
}

/*
 * The processor writes a leaf only to set A (on any access) and D (on a
 * write), each with a locked read-modify-write (SDM Vol. 3A 4.8 "Accessed
 * and Dirty Flags"), and a write to a page with R/W = 0 faults before it
 * sets D (4.6 "Access Rights").  That last holds with CR0.WP = 1, which
 * vpte assumes as every current OS runs (Linux pins it): with WP = 0 a
 * supervisor write to a read-only page succeeds and sets D.
 */
static inline bool x86_leaf_settled(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	(void)level;
	return (e & X86_A) && (e & (X86_D | X86_RW)) != X86_RW;
}

static const struct vpte_codec x86_codec = {
	.kind = x86_kind,
	.table_pa = x86_table_pa,
	.leaf_pa = x86_leaf_pa,
	.leaf_cont = x86_leaf_cont,
	.leaf_prot = x86_leaf_prot,
	.make_table = x86_make_table,
	.make_leaf = x86_make_leaf,
	.prot_ok = x86_prot_ok,
	.leaf_settled = x86_leaf_settled,
};

/* A format of the family, stamped with VPTE_FORMAT (engine/instantiate.h),
 * which must be included first: the level count is the parameter (SDM
 * Vol. 3A, 4.5: 4-level and 5-level paging).  x86_64.c and
 * x86_64_la57.c stamp the library's formats; a test may stamp one under
 * another name. */
#define X86_64_FORMAT(ident, str, nlevels)                                                    \
	VPTE_FORMAT(ident, x86_codec, .name = str, .levels = nlevels,                         \
		    .va_bits = 12 + 9 * (nlevels), .pa_bits = 52, .granule_shift = 12,       \
		    .sign_extend = true, .level_bits = { 9, 9, 9, 9, (nlevels) > 4 ? 9 : 0 }, \
		    .leaf_levels = 0x7, .raw_mask = X86_RAW_MASK)

#endif
