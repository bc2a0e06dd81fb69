/* SPDX-License-Identifier: MIT */
/*
 * test_formats.c - known-answer tests of every format's entries.
 *
 * Encoding: map a specific (va, pa, size, prot) into a fresh table, then read
 * the raw 64-bit entries out of the table pages and compare them with values
 * worked out by hand from the manuals (the section is cited next to each).
 * Decoding: lay out entries by hand in a buffer, attach it read-only as an
 * image, and check what vpte_seek() makes of them, corrupt entries included.
 * Geometry: levels, widths, index bits, leaf and contiguous sizes of all 11
 * formats, and lookup by name.
 *
 * Manuals: Intel SDM Vol. 3A 4.5 (entry format tables of 4-level and
 * 5-level paging) and 4.9.2 (PAT index = PAT*4 + PCD*2 + PWT); Arm ARM DDI
 * 0487 D8.3 (descriptors), D8.4 (AP, PXN, UXN), D8.5 (AttrIndx, SH, AF, nG),
 * D8.6.1 (Contiguous bit); RISC-V privileged spec 4.3.1 (PTE bits), 4.3.2
 * (walk), 4.4-4.6 (Sv39/48/57), Svnapot, Svpbmt.
 */
#include "testlib.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static struct test_mem mem;
static struct vpte_table tbl;

static void fresh(const struct vpte_format *f)
{
	test_table_new(&tbl, &mem, f);
}

static void done(void)
{
	test_table_done(&tbl, &mem);
}

static struct vpte_prot prot(uint32_t flags, uint32_t memtype, uint64_t raw)
{
	struct vpte_prot p = { flags, memtype, raw };
	return p;
}

#define R VPTE_R
#define W VPTE_W
#define X VPTE_X
#define U VPTE_U
#define G VPTE_G
#define RW (VPTE_R | VPTE_W)
#define WB VPTE_MT_WB
#define NC VPTE_MT_NC
#define DEV VPTE_MT_DEVICE

static int map_max(uint64_t va, uint64_t pa, uint64_t size, struct vpte_prot p, unsigned max)
{
	struct vpte_map_opts o = { max, 0 };
	return vpte_map(&tbl, vpte_va(va), vpte_pa(pa), size, p, &o);
}

#define MAP(va, pa, size, p) CHECK_EQ(map_max(va, pa, size, p, 0), 0)

static unsigned index_of(const struct vpte_format *f, uint64_t va, unsigned level)
{
	return (unsigned)(va >> vpte_level_shift(f, level)) & ((1u << f->level_bits[level]) - 1u);
}

/*
 * The table page at @level on the path to @va: the root, or the page that
 * the table entry one level up points to (test_mem PAs are host pointers).
 */
static uint64_t *table_of(const struct vpte_table *t, uint64_t va, unsigned level)
{
	if (level == vpte_top_level(t->fmt))
		return (uint64_t *)(uintptr_t)t->root.addr;
	struct vpte_walk w;
	uint64_t *found = NULL;
	vpte_for_each_entry(&w, t, vpte_va(va), 1, VPTE_ITER_TABLES)
	{
		if (w.kind == VPTE_TABLE && w.level == level + 1u)
			found = (uint64_t *)(uintptr_t)w.pa.addr;
	}
	CHECK_EQ(w.error, 0);
	return found;
}

/* The raw entry for @va at @level, read straight from table memory. */
static uint64_t raw_at(uint64_t va, unsigned level)
{
	uint64_t *table = table_of(&tbl, va, level);
	CHECK(table != NULL);
	return table ? table[index_of(tbl.fmt, va, level)] : 0xdeadbeefdeadbeefull;
}

/* The PA of the table page at @level on the path to @va. */
static uint64_t table_pa(uint64_t va, unsigned level)
{
	return (uint64_t)(uintptr_t)table_of(&tbl, va, level);
}

/* @va is translated by a leaf at @level whose raw value is @value. */
static void expect_leaf_line(int line, uint64_t va, unsigned level, uint64_t value)
{
	struct vpte_walk w;
	int err = vpte_seek(&w, &tbl, vpte_va(va));
	uint64_t got = raw_at(va, level);
	if (err || w.kind != VPTE_LEAF || w.level != level || got != value) {
		fprintf(stderr,
			"%s:%d: %s va 0x%" PRIx64 ": seek %d kind %d level %u; entry at level %u "
			"0x%016" PRIx64 ", expected 0x%016" PRIx64 "\n",
			__FILE__, line, tbl.fmt->name, va, err, (int)w.kind, w.level, level, got,
			value);
		test_failures++;
	}
}
#define EXPECT_LEAF(va, level, value) expect_leaf_line(__LINE__, va, level, value)

/* Every table entry on the path to @va, from the top down to level
 * @leaf_level + 1, is exactly make_table(pa of the next table). */
static void expect_tables_line(int line, uint64_t va, unsigned leaf_level,
			       uint64_t (*make)(uint64_t pa))
{
	const struct vpte_format *f = tbl.fmt;
	for (unsigned level = vpte_top_level(f); level > leaf_level; level--) {
		uint64_t got = raw_at(va, level), lower = table_pa(va, level - 1u);
		if (!lower || got != make(lower)) {
			fprintf(stderr,
				"%s:%d: %s va 0x%" PRIx64 " level %u: table entry 0x%016" PRIx64
				", expected 0x%016" PRIx64 "\n",
				__FILE__, line, f->name, va, level, got, make(lower));
			test_failures++;
		}
	}
}
#define EXPECT_TABLES(va, leaf_level, make) expect_tables_line(__LINE__, va, leaf_level, make)

/* vpte_seek(va) finds a leaf: check what it reports. */
static void expect_seek_line(int line, uint64_t va, unsigned level, unsigned shift,
			     uint64_t span_va, uint64_t span_pa, uint32_t flags, uint32_t memtype,
			     bool cont)
{
	struct vpte_walk w;
	int err = vpte_seek(&w, &tbl, vpte_va(va));
	if (err || w.kind != VPTE_LEAF || w.level != level || w.shift != shift ||
	    w.va.addr != span_va || w.pa.addr != span_pa || w.prot.flags != flags ||
	    w.prot.memtype != memtype || w.cont != cont) {
		fprintf(stderr,
			"%s:%d: %s seek 0x%" PRIx64 ": err %d kind %d level %u shift %u va 0x%" PRIx64
			" pa 0x%" PRIx64 " flags 0x%x memtype %u cont %d; expected level %u shift %u "
			"va 0x%" PRIx64 " pa 0x%" PRIx64 " flags 0x%x memtype %u cont %d\n",
			__FILE__, line, tbl.fmt->name, va, err, (int)w.kind, w.level, w.shift,
			w.va.addr, w.pa.addr, w.prot.flags, w.prot.memtype, (int)w.cont, level,
			shift, span_va, span_pa, flags, memtype, (int)cont);
		test_failures++;
	}
}
#define EXPECT_SEEK(va, level, shift, span_va, span_pa, flags, memtype, cont) \
	expect_seek_line(__LINE__, va, level, shift, span_va, span_pa, flags, memtype, cont)

/* ------------------------------------------------------------------------
 * x86-64: SDM Vol. 3A 4.5
 * ------------------------------------------------------------------------ */

/* Table entries: P | R/W | U/S | A (bits 0, 1, 2, 5) = 0x27, address 51:12. */
static uint64_t x86_table(uint64_t pa)
{
	return pa | 0x27;
}

static void test_x86_encode(const struct vpte_format *f)
{
	fresh(f);
	unsigned top = vpte_top_level(f);

	/* 4 KiB PTE (table "PTE that maps a 4-KByte page"): P 0, R/W 1, U/S 2,
	 * A 5, XD 63; address 51:12.  Read/write user data, not executable:
	 * 0x123456000 | P | RW | US | A | XD. */
	MAP(0x40201000, 0x123456000, 0x1000, prot(RW | U, WB, 0));
	EXPECT_LEAF(0x40201000, 0, 0x8000000123456027ull);
	EXPECT_TABLES(0x40201000, 0, x86_table);

	/* Kernel, executable, global (G = bit 8): XD clear, U/S clear. */
	MAP(0x40202000, 0x5000, 0x1000, prot(RW | X | G, WB, 0));
	EXPECT_LEAF(0x40202000, 0, 0x0000000000005123ull);

	/* Read-only, NC: PCD (bit 4) = PAT index 2 (UC- under the power-on PAT). */
	MAP(0x40203000, 0x6000, 0x1000, prot(R, NC, 0));
	EXPECT_LEAF(0x40203000, 0, 0x8000000000006031ull);

	/* Device: PCD | PWT (bits 4, 3) = PAT index 3 (UC). */
	MAP(0x40204000, 0xfee00000, 0x1000, prot(RW, DEV, 0));
	EXPECT_LEAF(0x40204000, 0, 0x80000000fee0003bull);

	/* Special: software bit 9 (ignored by the hardware, SDM "11:9 Ignored"). */
	MAP(0x40205000, 0x7000, 0x1000, prot(RW | VPTE_SPECIAL, WB, 0));
	EXPECT_LEAF(0x40205000, 0, 0x8000000000007223ull);

	/* Raw bits pass through: protection key 5 (bits 62:59), ignored bits
	 * 10 and 52. */
	uint64_t raw = (5ull << 59) | (1ull << 10) | (1ull << 52);
	MAP(0x40206000, 0x8000, 0x1000, prot(RW | X, WB, raw));
	EXPECT_LEAF(0x40206000, 0, 0x2810000000008423ull);

	/* Dirty (bit 6) when asked for; accessed always set by map. */
	MAP(0x40207000, 0x9000, 0x1000, prot(RW | X | VPTE_D, WB, 0));
	EXPECT_LEAF(0x40207000, 0, 0x0000000000009063ull);

	/* 2 MiB PDE (table "PDE that maps a 2-MByte page"): PS = bit 7; the PAT
	 * bit would be bit 12, so a plain WB leaf has it clear. */
	MAP(0x40400000, 0x200000, 0x200000, prot(R | X | G, WB, 0));
	EXPECT_LEAF(0x40400000, 1, 0x00000000002001a1ull);
	EXPECT_TABLES(0x40400000, 1, x86_table);
	/* NC on a 2 MiB leaf: PCD (bit 4), never bit 7 or 12. */
	MAP(0x40600000, 0x400000, 0x200000, prot(RW, NC, 0));
	EXPECT_LEAF(0x40600000, 1, 0x80000000004000b3ull);

	/* 1 GiB PDPTE (table "PDPTE that maps a 1-GByte page"). */
	MAP(0x80000000, 0x40000000, 0x40000000, prot(RW | U, WB, 0));
	EXPECT_LEAF(0x80000000, 2, 0x80000000400000a7ull);
	EXPECT_LEAF(0xbfffffff, 2, 0x80000000400000a7ull);
	MAP(0xc0000000, 0x100000000, 0x40000000, prot(RW, DEV, 0));
	EXPECT_LEAF(0xc0000000, 2, 0x80000001000000bbull);
	EXPECT_TABLES(0xc0000000, 2, x86_table);

	/* max_shift 12: a 2 MiB-aligned 2 MiB range still gets 4 KiB PTEs. */
	CHECK_EQ(map_max(0x40800000, 0x800000, 0x200000, prot(RW, WB, 0), 12), 0);
	EXPECT_LEAF(0x40800000, 0, 0x8000000000800023ull);
	EXPECT_LEAF(0x409ff000, 0, 0x80000000009ff023ull);
	/* max_shift 21: a 1 GiB range gets 2 MiB PDEs. */
	CHECK_EQ(map_max(0x100000000, 0x140000000, 0x40000000, prot(RW, WB, 0), 21), 0);
	EXPECT_LEAF(0x100000000, 1, 0x80000001400000a3ull);

	/* Upper half: PML4 (or PML5) index 256, a canonical sign-extended VA. */
	uint64_t upper = 0ull - (1ull << (f->va_bits - 1u));
	CHECK_EQ(index_of(f, upper, top), 256);
	MAP(upper, 0xa000, 0x1000, prot(RW | G, WB, 0));
	EXPECT_LEAF(upper, 0, 0x800000000000a123ull);
	EXPECT_TABLES(upper, 0, x86_table);
	/* The last page of the address space. */
	MAP(0xfffffffffffff000ull, 0xb000, 0x1000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0xfffffffffffff000ull, 0, 0x800000000000b123ull);
	EXPECT_TABLES(0xfffffffffffff000ull, 0, x86_table);

	/* No leaf above 1 GiB: a 512 GiB aligned range is 512 PDPTE leaves. */
	MAP(1ull << 40, 1ull << 40, 1ull << 39, prot(RW, WB, 0));
	EXPECT_LEAF(1ull << 40, 2, 0x80000100000000a3ull);
	EXPECT_LEAF((1ull << 40) + (511ull << 30), 2, 0x8000017fc00000a3ull);

	/* A present x86 page is always readable: a prot without R (write-only,
	 * execute-only) cannot be encoded. */
	CHECK_EQ(map_max(0x50000000, 0, 0x1000, prot(W, WB, 0), 0), -VPTE_EINVAL);
	CHECK_EQ(map_max(0x50000000, 0, 0x1000, prot(X, WB, 0), 0), -VPTE_EINVAL);
	/* Raw bits outside the mask: bit 9 is SPECIAL, not raw; bit 51 is address. */
	CHECK_EQ(map_max(0x50000000, 0, 0x1000, prot(R, WB, 1ull << 9), 0), -VPTE_EINVAL);
	CHECK_EQ(map_max(0x50000000, 0, 0x1000, prot(R, WB, 1ull << 51), 0), -VPTE_EINVAL);
	done();
}

static void test_x86_la57(void)
{
	const struct vpte_format *f = &vpte_format_x86_64_la57;
	fresh(f);
	CHECK_EQ(vpte_top_level(f), 4);
	/* 5-level root: PML5E index = VA bits 56:48 (SDM 4.5, "PML5E"). */
	uint64_t va = 0x0001234567890000ull; /* PML5 index 1 */
	CHECK_EQ(index_of(f, va, 4), 1);
	MAP(va, 0x5000, 0x1000, prot(RW | U, WB, 0));
	EXPECT_LEAF(va, 0, 0x8000000000005027ull);
	EXPECT_TABLES(va, 0, x86_table);
	uint64_t *root = (uint64_t *)(uintptr_t)tbl.root.addr;
	CHECK_EQ(root[1] & 0xfff, 0x27);
	CHECK_EQ(root[1], table_pa(va, 3) | 0x27);
	/* Upper half of LA57: 0xff00000000000000 is PML5 index 256. */
	MAP(0xff00000000000000ull, 0x40000000, 0x40000000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0xff00000000000000ull, 2, 0x80000000400001a3ull);
	CHECK_EQ(root[256], table_pa(0xff00000000000000ull, 3) | 0x27);
	/* Last page. */
	MAP(0xfffffffffffff000ull, 0x6000, 0x1000, prot(R, WB, 0));
	EXPECT_LEAF(0xfffffffffffff000ull, 0, 0x8000000000006021ull);
	done();
}

/* Decoding hand-made x86 entries: PAT index from bits 7 / 12, reserved bits. */
static void test_x86_decode(void)
{
	const uint64_t base = 0x100000;
	uint64_t *img = aligned_alloc(4096, 5 * 4096);
	memset(img, 0, 5 * 4096);
	uint64_t *pml4 = img, *pdpt = img + 512, *pd = img + 1024, *pt = img + 1536;
	pml4[0] = (base + 0x1000) | 0x27;
	pdpt[0] = (base + 0x2000) | 0x27;
	pd[0] = (base + 0x3000) | 0x27;
	pt[1] = 0x5000 | 0x1 | 0x8;                      /* P | PWT: PAT index 1 */
	pt[2] = 0x6000 | 0x1 | 0x2 | 0x4 | 0x20 | 0x40 | 0x100 | (1ull << 63);
	pt[3] = 0x7000 | 0x1 | 0x80;                     /* PAT bit (7 in a PTE): index 4 */
	pt[4] = 0x8000 | 0x1 | 0x10;                     /* PCD: index 2 */
	pt[5] = 0x9000 | 0x1 | 0x18;                     /* PCD | PWT: index 3 */
	pt[6] = 0xa000 | 0x1 | 0x80 | 0x18;              /* index 7 */
	pt[7] = 0xb000 | 0x1 | 0x200 | 0x400 | (9ull << 59); /* special, raw */
	pd[1] = 0x200000 | 0x1 | 0x80 | 0x1000;          /* 2M, PAT bit 12: index 4 */
	pd[2] = 0x400000 | 0x1 | 0x80 | 0x10;            /* 2M NC */
	pd[3] = 0x600000 | 0x1 | 0x80 | (1ull << 13);    /* reserved bit 13 */
	pd[4] = 0x800000 | 0x1 | 0x80 | (1ull << 20);    /* reserved bit 20 */
	pd[6] = 0xc00000 | 0x1 | 0x80 | 0x8;             /* 2M, PWT only: index 1 */
	pdpt[1] = 0x40000000 | 0x1 | 0x80 | 0x18;        /* 1G device */
	pdpt[2] = 0x80000000 | 0x1 | 0x80 | (1ull << 29); /* reserved bit 29 */
	pdpt[3] = 0xc0000000 | 0x1 | 0x80 | 0x1000;      /* 1G, PAT bit 12 */
	pml4[1] = (base + 0x1000) | 0x1 | 0x80;          /* PS in a PML4E: reserved */
	pml4[3] = 0x7000000 | 0x27;                      /* outside the image */

	struct vpte_image image;
	vpte_image_view(&image, img, 5 * 4096, vpte_pa(base));
	CHECK_EQ(vpte_table_attach(&tbl, &vpte_format_x86_64, vpte_image_mem(&image),
				   vpte_pa(base), VPTE_TABLE_READONLY),
		 0);
	struct vpte_walk w;
	EXPECT_SEEK(0x1234, 0, 12, 0x1000, 0x5000, R | X, VPTE_MT_OTHER, false);
	EXPECT_SEEK(0x2000, 0, 12, 0x2000, 0x6000, RW | U | G | VPTE_A | VPTE_D, WB, false);
	EXPECT_SEEK(0x3000, 0, 12, 0x3000, 0x7000, R | X, VPTE_MT_OTHER, false);
	EXPECT_SEEK(0x4000, 0, 12, 0x4000, 0x8000, R | X, NC, false);
	EXPECT_SEEK(0x5000, 0, 12, 0x5000, 0x9000, R | X, DEV, false);
	EXPECT_SEEK(0x6000, 0, 12, 0x6000, 0xa000, R | X, VPTE_MT_OTHER, false);
	EXPECT_SEEK(0x7000, 0, 12, 0x7000, 0xb000, R | X | VPTE_SPECIAL, WB, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x7000)), 0);
	CHECK_EQ(w.prot.raw, 0x400 | (9ull << 59));
	CHECK_EQ(w.entry, pt[7]);
	/* The 2 MiB leaf's bit 12 is PAT, not address: pa stays 0x200000. */
	EXPECT_SEEK(0x2fffff, 1, 21, 0x200000, 0x200000, R | X, VPTE_MT_OTHER, false);
	EXPECT_SEEK(0x400000, 1, 21, 0x400000, 0x400000, R | X, NC, false);
	EXPECT_SEEK(0xc00000, 1, 21, 0xc00000, 0xc00000, R | X, VPTE_MT_OTHER, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x600000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x800000)), -VPTE_EFAULT);
	EXPECT_SEEK(0x40001234, 2, 30, 0x40000000, 0x40000000, R | X, DEV, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x80000000)), -VPTE_EFAULT);
	EXPECT_SEEK(0xc0000000, 2, 30, 0xc0000000, 0xc0000000, R | X, VPTE_MT_OTHER, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(1ull << 39)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(3ull << 39)), -VPTE_EFAULT);
	/* Holes: the level and span of the empty entry. */
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(2ull << 39)), 0);
	CHECK_EQ(w.kind, VPTE_HOLE);
	CHECK_EQ(w.level, 3);
	CHECK_EQ(w.shift, 39);
	CHECK_EQ(w.va.addr, 2ull << 39);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0xa00000)), 0);
	CHECK_EQ(w.kind, VPTE_HOLE);
	CHECK_EQ(w.level, 1);
	CHECK_EQ(w.shift, 21);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x9000)), 0);
	CHECK_EQ(w.kind, VPTE_HOLE);
	CHECK_EQ(w.level, 0);
	CHECK_EQ(w.shift, 12);
	/* Read-only. */
	CHECK_EQ(vpte_map(&tbl, vpte_va(0x9000), vpte_pa(0), 0x1000, prot(R, WB, 0), NULL),
		 -VPTE_EROFS);
	free(img);
}

/* ------------------------------------------------------------------------
 * arm64: DDI 0487 D8.3 - D8.6, MAIR_EL1 = 0x00000000000444ff
 * ------------------------------------------------------------------------ */

/* Table descriptor (D8.3): next-level address | bits[1:0] = 0b11; no
 * APTable / XNTable / PXNTable (bits 63:59 zero). */
static uint64_t arm_table(uint64_t pa)
{
	return pa | 0x3;
}

/* Attribute constants of a stage 1 block/page descriptor (D8.3, D8.5):
 * AttrIndx 4:2, AP[1] (EL0) 6, AP[2] (RO) 7, SH 9:8 = 0b11 inner, AF 10,
 * nG 11, Contiguous 52, PXN 53, UXN 54. */
#define A_PAGE 0x3ull
#define A_BLOCK 0x1ull
#define A_SH 0x300ull
#define A_AF 0x400ull
#define A_NG 0x800ull
#define A_EL0 0x40ull
#define A_RO 0x80ull
#define A_CONT (1ull << 52)
#define A_PXN (1ull << 53)
#define A_UXN (1ull << 54)
#define A_IDX(n) ((uint64_t)(n) << 2)

static void test_arm64_4k(const struct vpte_format *f)
{
	fresh(f);
	unsigned top = vpte_top_level(f);

	/* Kernel RW data, global, WB (AttrIndx 0): page bits[1:0] = 0b11, SH
	 * 0b11, AF; not executable at either level: PXN | UXN.
	 * = 0x0060000080001703 */
	MAP(0x40001000, 0x80001000, 0x1000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0x40001000, 0, 0x0060000080001703ull);
	CHECK_EQ(0x80001000 | A_PAGE | A_SH | A_AF | A_PXN | A_UXN, 0x0060000080001703ull);
	EXPECT_TABLES(0x40001000, 0, arm_table);
	/* User RWX, not global: AP = 0b01 (EL0 RW), nG; PXN because EL0 can
	 * reach it (D8.4: EL0-writable memory is never privileged-executable). */
	MAP(0x40002000, 0x80002000, 0x1000, prot(RW | X | U, WB, 0));
	EXPECT_LEAF(0x40002000, 0, 0x0020000080002f43ull);
	/* User read-only, not executable: AP = 0b11, PXN | UXN. */
	MAP(0x40003000, 0x80003000, 0x1000, prot(R | U, WB, 0));
	EXPECT_LEAF(0x40003000, 0, 0x0060000080003fc3ull);
	/* Kernel read-only executable, global: AP = 0b10, UXN only. */
	MAP(0x40004000, 0x80004000, 0x1000, prot(R | X | G, WB, 0));
	EXPECT_LEAF(0x40004000, 0, 0x0040000080004783ull);
	/* User RX (text): AP = 0b11, nG, PXN only. */
	MAP(0x40005000, 0x80005000, 0x1000, prot(R | X | U, WB, 0));
	EXPECT_LEAF(0x40005000, 0, 0x0020000080005fc3ull);
	/* AttrIndx 1 (normal NC) and 2 (device-nGnRE) of MAIR 0x444ff. */
	MAP(0x40006000, 0x80006000, 0x1000, prot(RW | G, NC, 0));
	EXPECT_LEAF(0x40006000, 0, 0x0060000080006707ull);
	MAP(0x40007000, 0x80007000, 0x1000, prot(RW | G, DEV, 0));
	EXPECT_LEAF(0x40007000, 0, 0x006000008000770bull);
	/* Software bits: dirty 55, special 56, raw 57-58. */
	MAP(0x40008000, 0x80008000, 0x1000,
	    prot(RW | G | VPTE_D | VPTE_SPECIAL, WB, 3ull << 57));
	EXPECT_LEAF(0x40008000, 0, 0x07e0000080008703ull);

	/* 2 MiB block at arm level 2 (vpte 1): bits[1:0] = 0b01. */
	MAP(0x40200000, 0x80200000, 0x200000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0x40200000, 1, 0x0060000080200701ull);
	EXPECT_TABLES(0x40200000, 1, arm_table);
	/* 1 GiB block at arm level 1 (vpte 2). */
	MAP(0x80000000, 0xc0000000, 0x40000000, prot(R | X | U, WB, 0));
	EXPECT_LEAF(0x80000000, 2, 0x00200000c0000fc1ull);

	/* Contiguous 16 x 4 KiB = 64 KiB (D8.6.1): bit 52 on every member,
	 * each member its own PA. */
	MAP(0x40010000, 0x80010000, 0x10000, prot(RW | G, WB, 0));
	for (unsigned i = 0; i < 16; i++)
		EXPECT_LEAF(0x40010000 + i * 0x1000ull, 0, 0x0070000080010703ull + i * 0x1000ull);
	EXPECT_SEEK(0x40015abc, 0, 16, 0x40010000, 0x80010000, RW | G | VPTE_A, WB, true);
	/* The entries just outside the run carry no contiguous bit. */
	CHECK_EQ(raw_at(0x4000f000, 0), 0);
	/* 16 x 2 MiB = 32 MiB. */
	MAP(0x42000000, 0x82000000, 0x2000000, prot(RW | G, WB, 0));
	for (unsigned i = 0; i < 16; i++)
		EXPECT_LEAF(0x42000000 + i * 0x200000ull, 1,
			    0x0070000082000701ull + i * 0x200000ull);
	EXPECT_SEEK(0x43ffffff, 1, 25, 0x42000000, 0x82000000, RW | G | VPTE_A, WB, true);
	/* 16 x 1 GiB = 16 GiB: ContiguousSize() is 4 at level 1 of the 4K
	 * granule too (AArch64.ContiguousBit honours bit 52 at levels 1-3). */
	MAP(0x400000000, 0x800000000, 0x400000000, prot(RW | G, WB, 0));
	for (unsigned i = 0; i < 16; i++)
		EXPECT_LEAF(0x400000000 + ((uint64_t)i << 30), 2,
			    0x0070000800000701ull + ((uint64_t)i << 30));
	EXPECT_SEEK(0x7ffffffff, 2, 34, 0x400000000, 0x800000000, RW | G | VPTE_A, WB, true);
	/* max_shift 21: 32 MiB of 2 MiB blocks without the contiguous bit. */
	CHECK_EQ(map_max(0x44000000, 0x84000000, 0x2000000, prot(RW | G, WB, 0), 21), 0);
	EXPECT_LEAF(0x44000000, 1, 0x0060000084000701ull);
	EXPECT_LEAF(0x45e00000, 1, 0x0060000085e00701ull);
	/* A misaligned PA: no run, plain pages. */
	MAP(0x40020000, 0x80021000, 0x10000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0x40020000, 0, 0x0060000080021703ull);

	/* The top of the 4K-48 format is arm level 0: tables only, no blocks.
	 * 512 GiB aligned: still 1 GiB blocks in runs. */
	if (top == 3) {
		MAP(1ull << 40, 1ull << 40, 1ull << 39, prot(RW | G, WB, 0));
		EXPECT_LEAF(1ull << 40, 2, 0x0070010000000701ull);
		EXPECT_TABLES(1ull << 40, 2, arm_table);
	} else {
		/* 4K-39: the root holds 1 GiB blocks directly. */
		uint64_t *root = (uint64_t *)(uintptr_t)tbl.root.addr;
		CHECK_EQ(root[2], 0x00200000c0000fc1ull);
	}
	/* The last page of the TTBR0 range: VA 2^va_bits - 4096. */
	uint64_t last = (1ull << f->va_bits) - 0x1000;
	MAP(last, 0x1000, 0x1000, prot(R, WB, 0));
	EXPECT_LEAF(last, 0, 0x0060000000001f83ull); /* kernel RO, nG, PXN | UXN */
	done();
}

static void test_arm64_16k(const struct vpte_format *f)
{
	fresh(f);
	/* 16 KiB page (vpte level 0, arm level 3). */
	MAP(0x4000, 0x80004000, 0x4000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0x4000, 0, 0x0060000080004703ull);
	EXPECT_TABLES(0x4000, 0, arm_table);
	/* 32 MiB block (arm level 2). */
	MAP(0x2000000, 0x82000000, 0x2000000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0x2000000, 1, 0x0060000082000701ull);
	/* 128 x 16 KiB = 2 MiB run. */
	MAP(0x200000, 0x80200000, 0x200000, prot(RW | G, WB, 0));
	for (unsigned i = 0; i < 128; i++)
		EXPECT_LEAF(0x200000 + i * 0x4000ull, 0, 0x0070000080200703ull + i * 0x4000ull);
	EXPECT_SEEK(0x3fffff, 0, 21, 0x200000, 0x80200000, RW | G | VPTE_A, WB, true);
	/* 32 x 32 MiB = 1 GiB run. */
	MAP(0x40000000, 0xc0000000, 0x40000000, prot(RW | G, WB, 0));
	for (unsigned i = 0; i < 32; i++)
		EXPECT_LEAF(0x40000000 + ((uint64_t)i << 25), 1,
			    0x00700000c0000701ull + ((uint64_t)i << 25));
	EXPECT_SEEK(0x7fffffff, 1, 30, 0x40000000, 0xc0000000, RW | G | VPTE_A, WB, true);
	/* No 64 GiB blocks without FEAT_LPA2: a 64 GiB aligned range is 2048
	 * blocks of 32 MiB, in runs. */
	MAP(1ull << 40, 1ull << 40, 1ull << 36, prot(RW | G, WB, 0));
	EXPECT_LEAF(1ull << 40, 1, 0x0070010000000701ull);
	EXPECT_SEEK((1ull << 40) + (1ull << 36) - 1, 1, 30, (1ull << 40) + (1ull << 36) - (1ull << 30),
		    (1ull << 40) + (1ull << 36) - (1ull << 30), RW | G | VPTE_A, WB, true);
	done();
}

static void test_arm64_64k(const struct vpte_format *f)
{
	fresh(f);
	/* 64 KiB page: address bits 47:16, bits 15:12 zero (OA[51:48] only
	 * with FEAT_LPA). */
	MAP(0x10000, 0x80010000, 0x10000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0x10000, 0, 0x0060000080010703ull);
	EXPECT_TABLES(0x10000, 0, arm_table);
	/* 512 MiB block (arm level 2). */
	MAP(0x20000000, 0xa0000000, 0x20000000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0x20000000, 1, 0x00600000a0000701ull);
	/* 32 x 64 KiB = 2 MiB run. */
	MAP(0x200000, 0x80200000, 0x200000, prot(RW | G, WB, 0));
	for (unsigned i = 0; i < 32; i++)
		EXPECT_LEAF(0x200000 + i * 0x10000ull, 0, 0x0070000080200703ull + i * 0x10000ull);
	EXPECT_SEEK(0x2abcde, 0, 21, 0x200000, 0x80200000, RW | G | VPTE_A, WB, true);
	/* 32 x 512 MiB = 16 GiB run. */
	MAP(0x400000000, 0x400000000, 0x400000000, prot(R | U, WB, 0));
	for (unsigned i = 0; i < 32; i++)
		EXPECT_LEAF(0x400000000 + ((uint64_t)i << 29), 1,
			    0x0070000400000fc1ull + ((uint64_t)i << 29));
	EXPECT_SEEK(0x7ffffffff, 1, 34, 0x400000000, 0x400000000, R | U | VPTE_A, WB, true);
	done();
}

/* Decoding hand-made arm64 descriptors (4K granule, 48-bit). */
static void test_arm64_decode(void)
{
	const uint64_t base = 0x100000;
	uint64_t *img = aligned_alloc(4096, 4 * 4096);
	memset(img, 0, 4 * 4096);
	uint64_t *l0 = img, *l1 = img + 512, *l2 = img + 1024, *l3 = img + 1536; /* arm levels */
	l0[0] = (base + 0x1000) | 3;
	l1[0] = (base + 0x2000) | 3;
	l2[0] = (base + 0x3000) | 3;
	l3[1] = 0x5000 | A_PAGE | A_AF | A_IDX(5);                          /* AttrIndx 5 */
	l3[2] = 0x6000 | A_PAGE | A_AF | A_SH | A_EL0 | A_NG | A_PXN;       /* user RWX */
	l3[3] = 0x7000 | A_PAGE | A_AF | A_RO | A_UXN;                      /* kernel RX */
	l3[4] = 0x8000 | A_PAGE | A_AF | A_PXN | A_UXN;                     /* kernel RW */
	l3[5] = 0x9000 | A_BLOCK;                                           /* 0b01 at level 3 */
	l3[6] = 0xa000 | A_PAGE | (1ull << 48);                             /* OA bit 48 */
	l3[7] = 0xb000 | A_PAGE | (1ull << 55) | (1ull << 56) | (1ull << 57); /* D, special, raw */
	l3[8] = 0xc000 | A_PAGE | A_IDX(1);
	l3[9] = 0xd000 | A_PAGE | A_IDX(2);
	l3[10] = 0xe000 | A_PAGE | A_IDX(3);
	l3[11] = 0xf000 | A_PAGE | A_EL0 | A_RO | A_UXN | A_PXN;            /* user RO */
	for (unsigned i = 0; i < 16; i++) /* a well-formed 64 KiB run */
		l3[16 + i] = (0x100000 + i * 0x1000ull) | A_PAGE | A_AF | A_CONT | A_PXN | A_UXN;
	l2[1] = 0x200000 | A_BLOCK | A_AF | A_UXN;                          /* 2 MiB block */
	l1[1] = 0x40000000 | A_BLOCK | A_AF | A_NG | A_EL0 | A_PXN;         /* 1 GiB block */
	l0[1] = 0x8000000000ull | A_BLOCK;                                  /* block at level 0 */
	l0[2] = 0x9000000000ull | 3;                                        /* outside the image */

	struct vpte_image image;
	vpte_image_view(&image, img, 4 * 4096, vpte_pa(base));
	CHECK_EQ(vpte_table_attach(&tbl, &vpte_format_arm64_4k_48, vpte_image_mem(&image),
				   vpte_pa(base), VPTE_TABLE_READONLY),
		 0);
	struct vpte_walk w;
	EXPECT_SEEK(0x1000, 0, 12, 0x1000, 0x5000, RW | X | G | VPTE_A, VPTE_MT_OTHER, false);
	EXPECT_SEEK(0x2000, 0, 12, 0x2000, 0x6000, RW | X | U | VPTE_A, WB, false);
	EXPECT_SEEK(0x3000, 0, 12, 0x3000, 0x7000, R | X | G | VPTE_A, WB, false);
	EXPECT_SEEK(0x4000, 0, 12, 0x4000, 0x8000, RW | G | VPTE_A, WB, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x5000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x6000)), -VPTE_EFAULT);
	EXPECT_SEEK(0x7000, 0, 12, 0x7000, 0xb000, RW | X | G | VPTE_D | VPTE_SPECIAL, WB, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x7000)), 0);
	CHECK_EQ(w.prot.raw, 1ull << 57);
	EXPECT_SEEK(0x8000, 0, 12, 0x8000, 0xc000, RW | X | G, NC, false);
	EXPECT_SEEK(0x9000, 0, 12, 0x9000, 0xd000, RW | X | G, DEV, false);
	EXPECT_SEEK(0xa000, 0, 12, 0xa000, 0xe000, RW | X | G, VPTE_MT_OTHER, false);
	EXPECT_SEEK(0xb000, 0, 12, 0xb000, 0xf000, R | U | G, WB, false);
	EXPECT_SEEK(0x1a000, 0, 16, 0x10000, 0x100000, RW | G | VPTE_A, WB, true);
	EXPECT_SEEK(0x3fffff, 1, 21, 0x200000, 0x200000, RW | X | G | VPTE_A, WB, false);
	EXPECT_SEEK(0x7fffffff, 2, 30, 0x40000000, 0x40000000, RW | X | U | VPTE_A, WB, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(1ull << 39)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(2ull << 39)), -VPTE_EFAULT);
	/* TTBR0 region: VAs at or above 2^48 are out of range, not sign-extended. */
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(1ull << 48)), -VPTE_ERANGE);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0xffff000000000000ull)), -VPTE_ERANGE);
	free(img);
}

/*
 * Which levels may hold blocks, per granule, without FEAT_LPA/LPA2 (D8.3;
 * pseudocode AArch64.BlockDescSupported): 4K arm levels 1 and 2, 16K and
 * 64K arm level 2 only; a block anywhere else, and bits[1:0] = 0b01 at the
 * page level, is a Translation fault.  OA bits [51:48] (bits 49:48 with
 * 4K/16K, bits 15:12 with 64K) name an address beyond 48 bits.
 */
static void test_arm64_levels(const struct vpte_format *f)
{
	uint64_t page = 1ull << f->granule_shift, base = 1ull << 32;
	unsigned top = vpte_top_level(f), words = (unsigned)(page / 8);
	uint64_t oa_high = f->granule_shift == 16 ? 1ull << 12 : 1ull << 48;
	uint64_t *buf = aligned_alloc(page, f->levels * page);
	memset(buf, 0, f->levels * page);
	/* Page k holds the table of level top - k; entry 0 links them. */
	for (unsigned k = 0; k + 1u < f->levels; k++)
		buf[k * words] = (base + (k + 1u) * page) | 3;
	for (unsigned k = 0; k < f->levels; k++) {
		unsigned level = top - k;
		uint64_t span = 1ull << vpte_level_shift(f, level);
		uint64_t type = level ? A_BLOCK : A_PAGE;
		buf[k * words + 1] = span | type | A_AF;
		buf[k * words + 2] = (2 * span) | type | A_AF | oa_high;
		if (level == 0)
			buf[k * words + 3] = (3 * span) | A_BLOCK | A_AF;
	}
	struct vpte_image image;
	vpte_image_view(&image, buf, f->levels * page, vpte_pa(base));
	CHECK_EQ(vpte_table_attach(&tbl, f, vpte_image_mem(&image), vpte_pa(base),
				   VPTE_TABLE_READONLY),
		 0);
	struct vpte_walk w;
	for (unsigned level = 0; level <= top; level++) {
		uint64_t span = 1ull << vpte_level_shift(f, level);
		unsigned shift = vpte_level_shift(f, level);
		int err = vpte_seek(&w, &tbl, vpte_va(span));
		if (f->leaf_levels & (1u << level))
			EXPECT_SEEK(span, level, shift, span, span, RW | X | G | VPTE_A, WB, false);
		else if (err != -VPTE_EFAULT) {
			fprintf(stderr, "%s: %s: a block at level %u is accepted (%d)\n", __FILE__,
				f->name, level, err);
			test_failures++;
		}
		if (3 * span - 1 <= (1ull << f->va_bits) - 1) {
			CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(2 * span)), -VPTE_EFAULT);
			if (level == 0)
				CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(3 * span)), -VPTE_EFAULT);
		}
	}
	free(buf);
}

/* ------------------------------------------------------------------------
 * RISC-V: privileged spec 4.3.1, 4.4-4.6, Svnapot, Svpbmt
 * ------------------------------------------------------------------------ */

/* Non-leaf PTE: PPN = pa >> 12 in bits 53:10, V only (R = W = X = 0). */
static uint64_t rv_table(uint64_t pa)
{
	return ((pa >> 12) << 10) | 0x1;
}

/* Leaf: PPN (pa >> 12) << 10 | flags; V 0, R 1, W 2, X 3, U 4, G 5, A 6, D 7,
 * RSW 9:8, PBMT 62:61, N 63. */
static uint64_t rv_leaf(uint64_t pa, uint64_t bits)
{
	return ((pa >> 12) << 10) | bits;
}

static void test_riscv_encode(const struct vpte_format *f)
{
	fresh(f);
	unsigned top = vpte_top_level(f);
	/* 4 KiB R|W: V | R | W | A = 0x47. */
	MAP(0x1000, 0x80201000, 0x1000, prot(RW, WB, 0));
	EXPECT_LEAF(0x1000, 0, 0x0000000020080447ull);
	CHECK_EQ(rv_leaf(0x80201000, 0x47), 0x0000000020080447ull);
	EXPECT_TABLES(0x1000, 0, rv_table);
	/* User RWX, global, dirty: V R W X U G A D = 0xff. */
	MAP(0x2000, 0x80202000, 0x1000, prot(RW | X | U | G | VPTE_D, WB, 0));
	EXPECT_LEAF(0x2000, 0, rv_leaf(0x80202000, 0xff));
	/* Execute-only (Table 4.5: R=0 W=0 X=1). */
	MAP(0x3000, 0x80203000, 0x1000, prot(X, WB, 0));
	EXPECT_LEAF(0x3000, 0, rv_leaf(0x80203000, 0x49));
	/* Svpbmt: NC = 1, IO = 2 in bits 62:61. */
	MAP(0x4000, 0x80204000, 0x1000, prot(RW, NC, 0));
	EXPECT_LEAF(0x4000, 0, 0x2000000020081047ull);
	MAP(0x5000, 0x10000000, 0x1000, prot(RW, DEV, 0));
	EXPECT_LEAF(0x5000, 0, 0x4000000004000047ull);
	/* Special = RSW bit 8; raw = RSW bit 9. */
	MAP(0x6000, 0x80206000, 0x1000, prot(RW | VPTE_SPECIAL, WB, 1ull << 9));
	EXPECT_LEAF(0x6000, 0, rv_leaf(0x80206000, 0x347));
	/* A 56-bit PA: PPN bits 53:10 all used. */
	MAP(0x7000, 0xfffffffffff000ull, 0x1000, prot(R, WB, 0));
	EXPECT_LEAF(0x7000, 0, 0x003ffffffffffc43ull);

	/* Svnapot 64 KiB: 16 level-0 leaves, each N | PPN with PPN[3:0] = 0b1000
	 * (the run base 0x80210 becomes 0x80218). */
	MAP(0x10000, 0x80210000, 0x10000, prot(RW, WB, 0));
	for (unsigned i = 0; i < 16; i++)
		EXPECT_LEAF(0x10000 + i * 0x1000ull, 0, 0x8000000020086047ull);
	EXPECT_SEEK(0x1f123, 0, 16, 0x10000, 0x80210000, RW | VPTE_A, WB, true);
	/* A run and PBMT together. */
	MAP(0x20000, 0x40000000, 0x10000, prot(RW, DEV, 0));
	for (unsigned i = 0; i < 16; i++)
		EXPECT_LEAF(0x20000 + i * 0x1000ull, 0, 0xc000000010002047ull);

	/* 2 MiB megapage: R | X | A. */
	MAP(0x200000, 0x80200000, 0x200000, prot(R | X, WB, 0));
	EXPECT_LEAF(0x200000, 1, 0x000000002008004bull);
	EXPECT_TABLES(0x200000, 1, rv_table);
	/* 1 GiB gigapage. */
	MAP(0x40000000, 0x80000000, 0x40000000, prot(RW | G, WB, 0));
	EXPECT_LEAF(0x40000000, 2, 0x0000000020000067ull);
	/* 512 GiB terapage (Sv48, Sv57) and 256 TiB petapage (Sv57). */
	if (top >= 3) {
		MAP(1ull << 39, 1ull << 39, 1ull << 39, prot(RW, WB, 0));
		EXPECT_LEAF(1ull << 39, 3, 0x0000002000000047ull);
	}
	if (top >= 4) {
		MAP(1ull << 48, 1ull << 48, 1ull << 48, prot(RW, WB, 0));
		EXPECT_LEAF(1ull << 48, 4, 0x0000400000000047ull);
	}
	/* Upper half and the last page. */
	uint64_t upper = 0ull - (1ull << (f->va_bits - 1u));
	MAP(upper, 0x3000, 0x1000, prot(RW | G, WB, 0));
	EXPECT_LEAF(upper, 0, 0x0000000000000c67ull);
	EXPECT_TABLES(upper, 0, rv_table);
	MAP(0xfffffffffffff000ull, 0x4000, 0x1000, prot(R, WB, 0));
	EXPECT_LEAF(0xfffffffffffff000ull, 0, 0x0000000000001043ull);
	/* W without R is reserved (Table 4.5): refused. */
	CHECK_EQ(map_max(0x8000, 0, 0x1000, prot(W, WB, 0), 0), -VPTE_EINVAL);
	CHECK_EQ(map_max(0x8000, 0, 0x1000, prot(W | X, WB, 0), 0), -VPTE_EINVAL);
	CHECK_EQ(map_max(0x8000, 0, 0x1000, prot(VPTE_U, WB, 0), 0), -VPTE_EINVAL);
	done();
}

static void test_riscv_decode(void)
{
	const uint64_t base = 0x100000;
	uint64_t *img = aligned_alloc(4096, 3 * 4096);
	memset(img, 0, 3 * 4096);
	uint64_t *l2 = img, *l1 = img + 512, *l0 = img + 1024;
	l2[0] = rv_table(base + 0x1000);
	l1[0] = rv_table(base + 0x2000);
	l0[1] = rv_leaf(0x5000, 0x09);                 /* V | X: execute-only */
	l0[2] = rv_leaf(0x6000, 0x05);                 /* V | W: reserved */
	l0[3] = rv_leaf(0x7000, 0x0d);                 /* V | W | X: reserved */
	l0[4] = rv_leaf(0x8000, 0x43) | (3ull << 61);  /* PBMT 3: reserved */
	l0[5] = rv_leaf(0x9000, 0x43) | (1ull << 61);  /* NC */
	l0[6] = rv_leaf(0xa000, 0x43) | (2ull << 61);  /* IO */
	l0[7] = rv_leaf(0xb000, 0x43) | (1ull << 54);  /* reserved bit 54 */
	l0[8] = rv_leaf(0xc000, 0x1);                  /* pointer at level 0 */
	l0[9] = rv_leaf(0xd000, 0x3 | 0x100 | 0x200);  /* RSW: special, raw */
	for (unsigned i = 0; i < 16; i++)              /* a 64 KiB NAPOT run */
		l0[16 + i] = rv_leaf(0x80218000, 0xc7) | (1ull << 63);
	l0[32] = rv_leaf(0x80214000, 0xc7) | (1ull << 63); /* PPN[3:0] = 0100: reserved */
	l1[1] = rv_leaf(0x200000, 0x0b);                    /* 2 MiB R | X */
	l1[2] = rv_leaf(0x201000, 0x0b);                    /* misaligned superpage */
	l1[3] = rv_table(base + 0x2000) | 0x40;             /* non-leaf with A */
	l1[4] = rv_table(base + 0x2000) | (1ull << 63);     /* non-leaf with N */
	l1[5] = rv_table(base + 0x2000) | (1ull << 61);     /* non-leaf with PBMT */
	l1[6] = rv_leaf(0xc00000, 0x0b) | (1ull << 63);     /* N above level 0 */
	l1[7] = rv_table(base + 0x2000) | 0x10;             /* non-leaf with U */
	l1[8] = rv_table(base + 0x2000) | 0x80;             /* non-leaf with D */
	l1[9] = rv_table(base + 0x2000) | 0x20;             /* non-leaf with G: fine */
	l2[1] = rv_leaf(0x40000000, 0xd7 | 0x100);          /* 1 GiB, special */
	l2[2] = rv_table(0x7000000);                        /* outside the image */

	struct vpte_image image;
	vpte_image_view(&image, img, 3 * 4096, vpte_pa(base));
	CHECK_EQ(vpte_table_attach(&tbl, &vpte_format_riscv_sv39, vpte_image_mem(&image),
				   vpte_pa(base), VPTE_TABLE_READONLY),
		 0);
	struct vpte_walk w;
	EXPECT_SEEK(0x1000, 0, 12, 0x1000, 0x5000, X, WB, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x2000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x3000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x4000)), -VPTE_EFAULT);
	EXPECT_SEEK(0x5000, 0, 12, 0x5000, 0x9000, R | VPTE_A, NC, false);
	EXPECT_SEEK(0x6000, 0, 12, 0x6000, 0xa000, R | VPTE_A, DEV, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x7000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x8000)), -VPTE_EFAULT);
	EXPECT_SEEK(0x9000, 0, 12, 0x9000, 0xd000, R | VPTE_SPECIAL, WB, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x9000)), 0);
	CHECK_EQ(w.prot.raw, 0x200);
	EXPECT_SEEK(0x13456, 0, 16, 0x10000, 0x80210000, RW | VPTE_A | VPTE_D, WB, true);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x20000)), -VPTE_EFAULT);
	EXPECT_SEEK(0x3fffff, 1, 21, 0x200000, 0x200000, R | X, WB, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x400000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x600000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x800000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0xa00000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0xc00000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0xe00000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x1000000)), -VPTE_EFAULT);
	EXPECT_SEEK(0x1201000, 0, 12, 0x1201000, 0x5000, X, WB, false); /* via l1[9] */
	EXPECT_SEEK(0x40000000, 2, 30, 0x40000000, 0x40000000,
		    R | W | U | VPTE_A | VPTE_D | VPTE_SPECIAL, WB, false);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x80000000)), -VPTE_EFAULT);
	/* Sv39 VAs must be sign-extended from bit 38. */
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(1ull << 38)), -VPTE_EINVAL);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0xffffffc000000000ull)), 0);
	CHECK_EQ(w.kind, VPTE_HOLE);
	CHECK_EQ(w.level, 2);
	free(img);
}

/* ------------------------------------------------------------------------
 * Geometry (DESIGN "Formats") and lookup by name
 * ------------------------------------------------------------------------ */

struct geometry {
	const struct vpte_format *fmt;
	const char *name;
	unsigned levels, va_bits, pa_bits, granule;
	bool sign_extend;
	uint8_t level_bits[VPTE_MAX_LEVELS];
	unsigned leaf_shifts[VPTE_MAX_LEVELS]; /* 0-terminated */
	unsigned cont_shifts[VPTE_MAX_LEVELS]; /* effective run shifts, 0-terminated */
};

static const struct geometry geometries[] = {
	/* SDM 4.5: 9 bits per level, 4K / 2M / 1G pages, no contiguous hint. */
	{ &vpte_format_x86_64, "x86_64", 4, 48, 52, 12, true, { 9, 9, 9, 9 }, { 12, 21, 30 }, { 0 } },
	{ &vpte_format_x86_64_la57, "x86_64-la57", 5, 57, 52, 12, true, { 9, 9, 9, 9, 9 },
	  { 12, 21, 30 }, { 0 } },
	/* DDI 0487 D8.2: levels and starting level from granule and TxSZ; D8.6.1
	 * runs 4K: 16 x 4K, 16 x 2M, 16 x 1G; 16K: 128 x 16K, 32 x 32M; 64K:
	 * 32 x 64K, 32 x 512M. */
	{ &vpte_format_arm64_4k_39, "arm64-4k-39", 3, 39, 48, 12, false, { 9, 9, 9 },
	  { 12, 21, 30 }, { 16, 25, 34 } },
	{ &vpte_format_arm64_4k_48, "arm64-4k-48", 4, 48, 48, 12, false, { 9, 9, 9, 9 },
	  { 12, 21, 30 }, { 16, 25, 34 } },
	{ &vpte_format_arm64_16k_47, "arm64-16k-47", 3, 47, 48, 14, false, { 11, 11, 11 },
	  { 14, 25 }, { 21, 30 } },
	{ &vpte_format_arm64_16k_48, "arm64-16k-48", 4, 48, 48, 14, false, { 11, 11, 11, 1 },
	  { 14, 25 }, { 21, 30 } },
	{ &vpte_format_arm64_64k_42, "arm64-64k-42", 2, 42, 48, 16, false, { 13, 13 }, { 16, 29 },
	  { 21, 34 } },
	{ &vpte_format_arm64_64k_48, "arm64-64k-48", 3, 48, 48, 16, false, { 13, 13, 6 },
	  { 16, 29 }, { 21, 34 } },
	/* RISC-V 4.4-4.6: 9 bits per level, leaves at every level, 56-bit PA;
	 * Svnapot 16 x 4K. */
	{ &vpte_format_riscv_sv39, "riscv-sv39", 3, 39, 56, 12, true, { 9, 9, 9 }, { 12, 21, 30 },
	  { 16 } },
	{ &vpte_format_riscv_sv48, "riscv-sv48", 4, 48, 56, 12, true, { 9, 9, 9, 9 },
	  { 12, 21, 30, 39 }, { 16 } },
	{ &vpte_format_riscv_sv57, "riscv-sv57", 5, 57, 56, 12, true, { 9, 9, 9, 9, 9 },
	  { 12, 21, 30, 39, 48 }, { 16 } },
};

static void test_geometry(void)
{
	size_t count;
	const struct vpte_format *const *all = vpte_formats(&count);
	CHECK_EQ(count, 11);
	for (size_t i = 0; i < sizeof(geometries) / sizeof(geometries[0]); i++) {
		const struct geometry *g = &geometries[i];
		const struct vpte_format *f = g->fmt;
		CHECK(i < count && all[i] == f);
		CHECK(strcmp(f->name, g->name) == 0);
		CHECK(vpte_format_by_name(g->name) == f);
		CHECK_EQ(f->levels, g->levels);
		CHECK_EQ(f->va_bits, g->va_bits);
		CHECK_EQ(f->pa_bits, g->pa_bits);
		CHECK_EQ(f->granule_shift, g->granule);
		CHECK_EQ(f->sign_extend, g->sign_extend);
		unsigned sum = f->granule_shift;
		for (unsigned l = 0; l < VPTE_MAX_LEVELS; l++) {
			CHECK_EQ(f->level_bits[l], g->level_bits[l]);
			sum += f->level_bits[l];
		}
		CHECK_EQ(sum, f->va_bits);
		/* Leaf levels, as shifts. */
		unsigned n = 0;
		for (unsigned l = 0; l < f->levels; l++) {
			if (!(f->leaf_levels & (1u << l)))
				continue;
			CHECK_EQ(vpte_level_shift(f, l), g->leaf_shifts[n]);
			n++;
		}
		CHECK_EQ(g->leaf_shifts[n], 0);
		CHECK_EQ(f->leaf_levels >> f->levels, 0);
		/* Contiguous runs, as effective shifts, only at leaf levels. */
		n = 0;
		for (unsigned l = 0; l < VPTE_MAX_LEVELS; l++) {
			if (!f->cont_bits[l])
				continue;
			CHECK(l < f->levels && (f->leaf_levels & (1u << l)));
			CHECK_EQ(vpte_level_shift(f, l) + f->cont_bits[l], g->cont_shifts[n]);
			n++;
		}
		CHECK_EQ(g->cont_shifts[n], 0);
		/* A top table is one granule page: never more index bits than
		 * the levels below. */
		CHECK(f->level_bits[f->levels - 1u] <= f->level_bits[0]);
		CHECK(f->ops != NULL);
	}
	CHECK(vpte_format_by_name("x86") == NULL);
	CHECK(vpte_format_by_name("x86_64 ") == NULL);
	CHECK(vpte_format_by_name("arm64-4k-4") == NULL);
	CHECK(vpte_format_by_name("") == NULL);
	CHECK(vpte_format_by_name(NULL) == NULL);

	/* The raw masks are what the codec headers document. */
	CHECK_EQ(vpte_format_x86_64.raw_mask, 0x7ff0000000000c00ull);
	CHECK_EQ(vpte_format_arm64_4k_48.raw_mask, 3ull << 57);
	CHECK_EQ(vpte_format_riscv_sv39.raw_mask, 1ull << 9);
}

int main(void)
{
	test_geometry();
	test_x86_encode(&vpte_format_x86_64);
	test_x86_encode(&vpte_format_x86_64_la57);
	test_x86_la57();
	test_x86_decode();
	test_arm64_4k(&vpte_format_arm64_4k_39);
	test_arm64_4k(&vpte_format_arm64_4k_48);
	test_arm64_16k(&vpte_format_arm64_16k_47);
	test_arm64_16k(&vpte_format_arm64_16k_48);
	test_arm64_64k(&vpte_format_arm64_64k_42);
	test_arm64_64k(&vpte_format_arm64_64k_48);
	test_arm64_decode();
	for (size_t i = 2; i < 8; i++)
		test_arm64_levels(geometries[i].fmt);
	test_riscv_encode(&vpte_format_riscv_sv39);
	test_riscv_encode(&vpte_format_riscv_sv48);
	test_riscv_encode(&vpte_format_riscv_sv57);
	test_riscv_decode();
	return test_summary("test_formats");
}
