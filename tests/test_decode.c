/* SPDX-License-Identifier: MIT */
/*
 * test_decode.c - every format's entry decoder against a reference decoder.
 *
 * The codecs decode a leaf's attributes from tables generated at compile
 * time (codec.h, "Decode tables": x86-64, arm64) or by moving a field
 * (RISC-V).  Here each is checked against a decoder written in this file
 * from the manuals, one bit at a time, with bit numbers rather than the
 * codecs' names for them:
 *   - through vpte_seek() in every format, at level 0 and level 1, for every
 *     combination of the leaf bits the decoders read (and a few they must
 *     ignore), written into a mapped leaf;
 *   - through the codec's leaf_prot() directly, for random 64-bit entries
 *     at every level;
 *   - the codec's kind() (hole, table, leaf or corrupt) likewise, on random
 *     entries with and without the bits that make most of them corrupt.
 *
 * Manuals: Intel SDM Vol. 3A 4.5 (entry formats) and 4.9.2 (PAT index =
 * PAT*4 + PCD*2 + PWT; the PAT bit is 7 in a PTE, 12 in a 2 MiB / 1 GiB
 * leaf); Arm ARM DDI 0487 D8.3 (descriptors), D8.4 (AP[2:1] bits 7:6, PXN
 * 53, UXN 54), D8.5 (AttrIndx 4:2, SH 9:8, AF 10, nG 11); RISC-V
 * privileged spec 4.3.1 (V R W X U G A D in bits 0-7, RSW 9:8), Svpbmt
 * (PBMT 62:61).  The software bits are vpte's (docs/formats.md): x86 bit 9
 * special; arm64 55 dirty, 56 special, 57-58 raw; RISC-V 8 special, 9 raw.
 */
#include "testlib.h"

#include "formats/arm64.h"
#include "formats/riscv.h"
#include "formats/x86_64.h"

#define BIT(n) (1ull << (n))

static uint32_t memtype_of_index(unsigned index, unsigned wb, unsigned nc, unsigned dev)
{
	return index == wb ? VPTE_MT_WB : index == nc ? VPTE_MT_NC : index == dev ? VPTE_MT_DEVICE
										     : VPTE_MT_OTHER;
}

/* x86-64 (IA32_EFER.NXE = 1; PAT entries 0, 2, 3 are WB, UC-, UC). */
static struct vpte_prot ref_x86(uint64_t e, unsigned level)
{
	struct vpte_prot p = { VPTE_R, 0, 0 };
	if (e & BIT(1))
		p.flags |= VPTE_W;
	if (e & BIT(2))
		p.flags |= VPTE_U;
	if (!(e & BIT(63)))
		p.flags |= VPTE_X;
	if (e & BIT(8))
		p.flags |= VPTE_G;
	if (e & BIT(5))
		p.flags |= VPTE_A;
	if (e & BIT(6))
		p.flags |= VPTE_D;
	if (e & BIT(9))
		p.flags |= VPTE_SPECIAL;
	unsigned pat = (e & BIT(level ? 12 : 7)) ? 1 : 0;
	unsigned pcd = (e & BIT(4)) ? 1 : 0, pwt = (e & BIT(3)) ? 1 : 0;
	p.memtype = memtype_of_index(pat * 4 + pcd * 2 + pwt, 0, 2, 3);
	for (unsigned b = 10; b <= 62; b++)
		if ((b <= 11 || b >= 52) && (e & BIT(b)))
			p.raw |= BIT(b);
	return p;
}

/* arm64 stage 1 with MAIR_EL1 = 0x444ff (index 0 WB, 1 NC, 2 device). */
static struct vpte_prot ref_arm64(uint64_t e, unsigned level)
{
	(void)level;
	struct vpte_prot p = { VPTE_R, 0, 0 };
	bool el0 = e & BIT(6);
	if (!(e & BIT(7)))
		p.flags |= VPTE_W;
	if (el0)
		p.flags |= VPTE_U;
	if (el0 ? !(e & BIT(54)) : !(e & BIT(53)))
		p.flags |= VPTE_X;
	if (!(e & BIT(11)))
		p.flags |= VPTE_G;
	if (e & BIT(10))
		p.flags |= VPTE_A;
	if (e & BIT(55))
		p.flags |= VPTE_D;
	if (e & BIT(56))
		p.flags |= VPTE_SPECIAL;
	p.memtype = memtype_of_index((unsigned)(e >> 2) & 7, 0, 1, 2);
	p.raw = e & (BIT(57) | BIT(58));
	return p;
}

/* RISC-V: PBMT 0 PMA, 1 NC, 2 IO (3 is reserved: never a leaf). */
static struct vpte_prot ref_riscv(uint64_t e, unsigned level)
{
	(void)level;
	static const uint32_t flag_of_bit[9] = { 0,     VPTE_R, VPTE_W, VPTE_X,      VPTE_U,
						 VPTE_G, VPTE_A, VPTE_D, VPTE_SPECIAL };
	struct vpte_prot p = { 0, 0, e & BIT(9) };
	for (unsigned b = 1; b <= 8; b++)
		if (e & BIT(b))
			p.flags |= flag_of_bit[b];
	p.memtype = memtype_of_index((unsigned)(e >> 61) & 3, 0, 1, 2);
	return p;
}

/* x86-64: P clear a hole; PS (bit 7) reserved in a PML4E and PML5E; PS
 * makes a PDPTE or PDE a leaf, whose bits 13 up to its span are reserved. */
static int ref_x86_kind(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	if (!(e & BIT(0)))
		return VPTE_HOLE;
	if (level == 0)
		return VPTE_LEAF;
	if (!(e & BIT(7)))
		return VPTE_TABLE;
	if (level >= 3)
		return VPTE_KIND_CORRUPT;
	for (unsigned b = 13; b < 12 + 9 * level; b++)
		if (e & BIT(b))
			return VPTE_KIND_CORRUPT;
	return VPTE_LEAF;
}

/* arm64: bit 0 clear invalid; OA bits above 48 set (bits 49:48, or 15:12
 * for 64K) an Address size fault; bits[1:0] = 0b11 a table, or a page at
 * level 0; 0b01 a block where the granule has them (4K: levels 1-2; 16K
 * and 64K: level 1), reserved elsewhere. */
static int ref_arm64_kind(const struct vpte_format *f, uint64_t e, unsigned level)
{
	if (!(e & BIT(0)))
		return VPTE_HOLE;
	if (e & (f->granule_shift == 16 ? 0xf000ull : BIT(48) | BIT(49)))
		return VPTE_KIND_CORRUPT;
	if (e & BIT(1))
		return level ? VPTE_TABLE : VPTE_LEAF;
	return level >= 1 && level <= (f->granule_shift == 12 ? 2u : 1u) ? VPTE_LEAF
									 : VPTE_KIND_CORRUPT;
}

/* RISC-V 4.3.2: V clear invalid; bits 60:54 reserved; R = W = X = 0 a
 * pointer (none at level 0; U, A, D, PBMT and N reserved in one); W
 * without R and PBMT 3 reserved; N only at level 0 with PPN[3:0] = 0b1000;
 * a superpage's low PPN bits must be 0. */
static int ref_riscv_kind(const struct vpte_format *f, uint64_t e, unsigned level)
{
	(void)f;
	bool r = e & BIT(1), w = e & BIT(2), x = e & BIT(3), n = e & BIT(63);
	unsigned pbmt = (unsigned)(e >> 61) & 3;
	uint64_t ppn = (e >> 10) & ((1ull << 44) - 1);
	if (!(e & BIT(0)))
		return VPTE_HOLE;
	if ((e >> 54) & 0x7f)
		return VPTE_KIND_CORRUPT;
	if (!r && !w && !x)
		return level == 0 || (e & (BIT(4) | BIT(6) | BIT(7))) || pbmt || n
			       ? VPTE_KIND_CORRUPT
			       : VPTE_TABLE;
	if ((w && !r) || pbmt == 3)
		return VPTE_KIND_CORRUPT;
	if (n)
		return level == 0 && (ppn & 0xf) == 8 ? VPTE_LEAF : VPTE_KIND_CORRUPT;
	return ppn & ((1ull << (9 * level)) - 1) ? VPTE_KIND_CORRUPT : VPTE_LEAF;
}

/* What a family's codec and reference decode, and which bits to vary. */
struct family {
	const char *prefix;
	struct vpte_prot (*codec)(const struct vpte_format *f, uint64_t e, unsigned level);
	struct vpte_prot (*ref)(uint64_t e, unsigned level);
	int (*codec_kind)(const struct vpte_format *f, uint64_t e, unsigned level);
	int (*ref_kind)(const struct vpte_format *f, uint64_t e, unsigned level);
	/* The bits varied in a leaf at level 0 and above: every bit the
	 * decoder reads, some it must ignore, none that would make it no
	 * leaf or move its address. */
	uint64_t vary[2];
	/* What a combination is: 1 a leaf, -1 one the format cannot hold as
	 * a leaf (kind() corrupt), 0 no leaf (skipped). */
	int (*leaf)(uint64_t e);
};

static int always_leaf(uint64_t e)
{
	(void)e;
	return 1;
}

/* R = W = X = 0 is a pointer; W without R and PBMT 3 are reserved (RISC-V
 * 4.3.2 steps 3-5, Svpbmt). */
static int riscv_leaf(uint64_t e)
{
	if (!(e & (BIT(1) | BIT(2) | BIT(3))))
		return 0;
	return ((e & BIT(2)) && !(e & BIT(1))) || ((e >> 61) & 3) == 3 ? -1 : 1;
}

static const struct family families[] = {
	{ "x86_64", x86_leaf_prot, ref_x86, x86_kind, ref_x86_kind,
	  /* 1-11 (7: PAT in a PTE, PS above), 12 (PAT above level 0), raw 52 and 59, XD */
	  { 0xffeull | BIT(52) | BIT(59) | BIT(63),
	    0xf7eull | BIT(12) | BIT(52) | BIT(59) | BIT(63) },
	  always_leaf },
	{ "arm64", arm64_leaf_prot, ref_arm64, arm64_kind, ref_arm64_kind,
	  /* AttrIndx, NS, AP, SH, AF, nG (2-11); PXN, UXN, dirty, special, raw (53-58) */
	  { 0xffcull | (0x3full << 53), 0xffcull | (0x3full << 53) },
	  always_leaf },
	{ "riscv", rv_leaf_prot, ref_riscv, rv_kind, ref_riscv_kind,
	  /* R W X U G A D, RSW (1-9), PBMT (61-62) */
	  { 0x3feull | (3ull << 61), 0x3feull | (3ull << 61) },
	  riscv_leaf },
};

static const struct family *family_of(const struct vpte_format *f)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (!strncmp(f->name, families[i].prefix, strlen(families[i].prefix)))
			return &families[i];
	return NULL;
}

/* @n's bits deposited, lowest first, into the set bits of @mask. */
static uint64_t deposit(uint64_t n, uint64_t mask)
{
	uint64_t e = 0;
	for (uint64_t m = mask; m; m &= m - 1, n >>= 1)
		if (n & 1)
			e |= m & -m;
	return e;
}

static bool same_prot(struct vpte_prot a, struct vpte_prot b)
{
	return a.flags == b.flags && a.memtype == b.memtype && a.raw == b.raw;
}

static void report(const struct vpte_format *f, const char *how, uint64_t e, unsigned level,
		   struct vpte_prot got, struct vpte_prot want)
{
	fprintf(stderr,
		"%s %s: entry 0x%016" PRIx64 " level %u: flags 0x%x memtype %u raw 0x%" PRIx64
		", reference flags 0x%x memtype %u raw 0x%" PRIx64 "\n",
		f->name, how, e, level, got.flags, got.memtype, got.raw, want.flags, want.memtype,
		want.raw);
	test_failures++;
}

/* The entry at @level that maps @va (test_mem PAs are host addresses). */
static uint64_t *entry_at(const struct vpte_table *t, uint64_t va, unsigned level)
{
	struct vpte_walk w;
	uint64_t *table = NULL;
	if (level == vpte_top_level(t->fmt))
		table = (uint64_t *)(uintptr_t)t->root.addr;
	vpte_for_each_entry(&w, t, vpte_va(va), 1, VPTE_ITER_TABLES)
		if (w.kind == VPTE_TABLE && w.level == level + 1)
			table = (uint64_t *)(uintptr_t)w.pa.addr;
	if (!table) {
		fprintf(stderr, "%s: no table above level %u at 0x%" PRIx64 "\n", t->fmt->name, level, va);
		test_failures++;
		return NULL;
	}
	unsigned shift = vpte_level_shift(t->fmt, level);
	return table + ((va >> shift) & ((1u << t->fmt->level_bits[level]) - 1));
}

/* Every combination of the family's bits in the leaf at @level mapping
 * @va, as vpte_seek() reports it. */
static void seek_every_combination(struct vpte_table *t, const struct family *fam, uint64_t va,
				   unsigned level)
{
	uint64_t *slot = entry_at(t, va, level);
	if (!slot)
		return;
	uint64_t base = *slot, vary = fam->vary[level ? 1 : 0];
	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, t, vpte_va(va)), 0);
	uint64_t pa = w.pa.addr;
	unsigned bad = 0;
	for (uint64_t n = 0; n < (1ull << __builtin_popcountll(vary)) && bad < 10; n++) {
		uint64_t e = (base & ~vary) | deposit(n, vary);
		*slot = e;
		int leaf = fam->leaf(e);
		if (!leaf)
			continue;
		int err = vpte_seek(&w, t, vpte_va(va));
		if (leaf < 0) {
			if (err != -VPTE_EFAULT) {
				fprintf(stderr, "%s: corrupt entry 0x%016" PRIx64 " seek %d\n",
					t->fmt->name, e, err);
				test_failures++, bad++;
			}
			continue;
		}
		if (err || w.kind != VPTE_LEAF || w.level != level || w.pa.addr != pa ||
		    w.entry != e) {
			fprintf(stderr,
				"%s: entry 0x%016" PRIx64 " level %u: seek %d kind %d level %u pa "
				"0x%" PRIx64 "\n",
				t->fmt->name, e, level, err, (int)w.kind, w.level, w.pa.addr);
			test_failures++, bad++;
			continue;
		}
		struct vpte_prot want = fam->ref(e, level);
		if (!same_prot(w.prot, want)) {
			report(t->fmt, "seek", e, level, w.prot, want);
			bad++;
		}
	}
	*slot = base;
}

static void test_format(const struct vpte_format *f)
{
	const struct family *fam = family_of(f);
	CHECK(fam != NULL);
	if (!fam)
		return;
	struct test_mem mem;
	struct vpte_table t;
	test_table_new(&t, &mem, f);
	uint64_t page = 1ull << f->granule_shift, block = 1ull << vpte_level_shift(f, 1);
	struct vpte_prot p = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts one_page = { f->granule_shift, 0 }, one_block = { 0, 0 };
	CHECK_EQ(vpte_map(&t, vpte_va(block + page), vpte_pa(page), page, p, &one_page), 0);
	CHECK_EQ(vpte_map(&t, vpte_va(4 * block), vpte_pa(2 * block), block, p, &one_block), 0);
	seek_every_combination(&t, fam, block + page, 0);
	seek_every_combination(&t, fam, 4 * block, 1);
	test_table_done(&t, &mem);

	/* Random entries, every level, straight through the codec; kind() on
	 * them and on copies with the bits that make most of them corrupt
	 * cleared (high and reserved bits, the address but its low bits). */
	static const uint64_t keep[] = { ~0ull, 0x3ffull, 0xe00000000000ffffull,
					 0x0000ffffffff0fffull, 0x07fcffffffffffffull };
	uint64_t seed = 0x5eed0000u + f->levels, bad = 0;
	for (unsigned i = 0; i < 200000 && bad < 10; i++) {
		uint64_t r = test_rand(&seed);
		for (unsigned level = 0; level < f->levels; level++) {
			struct vpte_prot got = fam->codec(f, r, level), want = fam->ref(r, level);
			if (!same_prot(got, want)) {
				report(f, "leaf_prot", r, level, got, want);
				bad++;
			}
			for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
				uint64_t e = r & keep[k];
				int kind = fam->codec_kind(f, e, level), ref = fam->ref_kind(f, e, level);
				if (kind != ref) {
					fprintf(stderr,
						"%s kind: entry 0x%016" PRIx64 " level %u: %d, reference %d\n",
						f->name, e, level, kind, ref);
					test_failures++, bad++;
				}
			}
		}
	}
}

int main(void)
{
	return test_every_format("test_decode", test_format);
}
