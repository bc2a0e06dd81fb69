/* SPDX-License-Identifier: MIT */
/*
 * test_special.c - special leaves (VPTE_SPECIAL: a PFN mapping with no
 * struct page behind it) on every format.
 *
 *   - the flag round-trips through a software bit of the entry (x86-64 bit
 *     9, arm64 bit 56, RISC-V RSW bit 8), at every leaf size and in runs,
 *     alone and with every other attribute, and in nothing but that bit;
 *   - it survives what edits do to a leaf: split, the edges of protect and
 *     unmap, collapse (which merges special with special only), copy;
 *     protect sets and clears it;
 *   - vpte_seek_flags(VPTE_SEEK_NO_SPECIAL), the lockless lookup for a
 *     caller that takes page references, refuses a special leaf with
 *     -VPTE_EPERM (still describing it) and passes others and holes.
 */
#include "testlib.h"

static const struct vpte_prot none = { 0, 0, 0 }, special = { VPTE_SPECIAL, 0, 0 };

/* The software bit each family keeps the flag in. */
static uint64_t special_bit(const struct vpte_format *f)
{
	if (!strncmp(f->name, "x86_64", 6))
		return 1ull << 9;
	if (!strncmp(f->name, "arm64", 5))
		return 1ull << 56;
	return 1ull << 8;
}

struct fx {
	const struct vpte_format *f;
	struct test_mem mem;
	struct vpte_table t;
	uint64_t g, pa, unit;
	unsigned nshifts;
	unsigned shifts[2 * VPTE_MAX_LEVELS];
};

/* Every leaf in [va, va + size) is special exactly when @want, and its
 * entry's software bit says so. */
static void expect_special(struct fx *x, int line, uint64_t va, uint64_t size, bool want)
{
	struct vpte_walk w;
	unsigned bad = 0;
	vpte_for_each_leaf(&w, &x->t, vpte_va(va), size)
		if (!(w.prot.flags & VPTE_SPECIAL) != !want || !(w.entry & special_bit(x->f)) != !want)
			bad++;
	if (bad || w.error) {
		fprintf(stderr, "%s:%d: %s: %u leaves in [0x%" PRIx64 ", +0x%" PRIx64
				") not %sspecial (error %d)\n",
			__FILE__, line, x->f->name, bad, va, size, want ? "" : "non-", w.error);
		test_failures++;
	}
}
#define EXPECT_SPECIAL(x, va, size, want) expect_special(x, __LINE__, va, size, want)

/* Every leaf size and run, alone and with everything else. */
static void round_trip(struct fx *x)
{
	static const uint32_t others[] = { 0, VPTE_W, VPTE_X, VPTE_U, VPTE_G, VPTE_D,
					   VPTE_W | VPTE_X | VPTE_U | VPTE_G | VPTE_D };
	for (unsigned i = 0; i < x->nshifts; i++) {
		uint64_t size = 1ull << x->shifts[i], va = 4 * size;
		struct vpte_map_opts one = { x->shifts[i], 0 };
		for (unsigned k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
			for (uint32_t memtype = VPTE_MT_WB; memtype <= VPTE_MT_DEVICE; memtype++) {
				struct vpte_prot p = { VPTE_R | VPTE_SPECIAL | others[k], memtype,
						       x->f->raw_mask };
				struct vpte_walk w;
				CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(x->pa), size, p, &one), 0);
				CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(va + size - x->g)), 0);
				CHECK_EQ(w.shift, x->shifts[i]);
				CHECK_EQ(w.prot.flags, p.flags | VPTE_A);
				CHECK_EQ(w.prot.memtype, memtype);
				CHECK_EQ(w.prot.raw, x->f->raw_mask);
				/* nothing but the software bit tells it apart */
				p.flags &= ~VPTE_SPECIAL;
				CHECK_EQ(vpte_protect(&x->t, vpte_va(va), size, none, special, NULL), 0);
				struct vpte_walk plain;
				CHECK_EQ(vpte_seek(&plain, &x->t, vpte_va(va + size - x->g)), 0);
				CHECK_EQ(w.entry ^ plain.entry, special_bit(x->f));
				CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), size, NULL), 0);
			}
		}
	}
}

/* What edits do to a special leaf keeps it special. */
static void edits(struct fx *x)
{
	struct vpte_prot sp = { VPTE_R | VPTE_W | VPTE_SPECIAL, VPTE_MT_DEVICE, 0 };
	struct vpte_prot w_only = { VPTE_W, 0, 0 };
	uint64_t va = 8 * x->unit, lo = va + x->unit / 2, g = x->g;
	struct vpte_map_opts pages = { x->f->granule_shift, 0 };

	CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(x->pa), 2 * x->unit, sp, NULL), 0);
	/* protect's edges split; the change keeps the flag */
	CHECK_EQ(vpte_protect(&x->t, vpte_va(lo), 3 * g, none, w_only, NULL), 0);
	EXPECT_SPECIAL(x, va, 2 * x->unit, true);
	/* split */
	CHECK_EQ(vpte_split(&x->t, vpte_va(va + x->unit), x->unit, x->f->granule_shift, NULL), 0);
	EXPECT_SPECIAL(x, va, 2 * x->unit, true);
	/* unmap's edges */
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(lo + 5 * g), g, NULL), 0);
	EXPECT_SPECIAL(x, va, 2 * x->unit, true);
	/* collapse back where nothing differs */
	CHECK_EQ(vpte_protect(&x->t, vpte_va(lo), 3 * g, w_only, none, NULL), 0);
	CHECK_EQ(vpte_map(&x->t, vpte_va(lo + 5 * g), vpte_pa(x->pa + x->unit / 2 + 5 * g), g, sp,
			  NULL),
		 0);
	CHECK_EQ(vpte_collapse(&x->t, vpte_va(va), 2 * x->unit, 0, NULL), 0);
	struct vpte_walk w;
	vpte_for_each_leaf(&w, &x->t, vpte_va(va), 2 * x->unit)
		CHECK(w.shift >= vpte_level_shift(x->f, 1));
	CHECK(test_maps_linear(&x->t, va, 2 * x->unit, x->pa));
	EXPECT_SPECIAL(x, va, 2 * x->unit, true);
	/* protect clears it, then collapse must not merge special with not */
	CHECK_EQ(vpte_protect(&x->t, vpte_va(va), x->unit, none, special, NULL), 0);
	EXPECT_SPECIAL(x, va, x->unit, false);
	EXPECT_SPECIAL(x, va + x->unit, x->unit, true);
	CHECK_EQ(vpte_split(&x->t, vpte_va(va), 2 * x->unit, x->f->granule_shift, NULL), 0);
	CHECK_EQ(vpte_collapse(&x->t, vpte_va(va), 2 * x->unit, 0, NULL), 0);
	EXPECT_SPECIAL(x, va, x->unit, false);
	EXPECT_SPECIAL(x, va + x->unit, x->unit, true);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), 2 * x->unit, NULL), 0);

	/* a copy carries it */
	struct test_mem mem;
	struct vpte_table dst;
	test_table_new(&dst, &mem, x->f);
	CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(x->pa), x->unit + g, sp, &pages), 0);
	CHECK_EQ(vpte_copy(&dst, &x->t, vpte_va(va), x->unit + g, NULL), 0);
	vpte_for_each_leaf(&w, &dst, vpte_va(va), x->unit + g)
		CHECK(w.prot.flags & VPTE_SPECIAL);
	test_table_done(&dst, &mem);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), x->unit + g, NULL), 0);
}

/* The lookup that refuses special leaves. */
static void seek_no_special(struct fx *x)
{
	struct vpte_prot sp = { VPTE_R | VPTE_SPECIAL, VPTE_MT_DEVICE, 0 };
	struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	uint64_t va = 12 * x->unit;
	struct vpte_walk w;
	CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(x->pa), x->unit, sp, NULL), 0);
	CHECK_EQ(vpte_map(&x->t, vpte_va(va + x->unit), vpte_pa(x->pa), x->g, rw, NULL), 0);

	CHECK_EQ(vpte_seek_flags(&w, &x->t, vpte_va(va + x->g + 5), VPTE_SEEK_NO_SPECIAL),
		 -VPTE_EPERM);
	CHECK(w.kind == VPTE_LEAF && w.va.addr == va && w.pa.addr == x->pa &&
	      (w.prot.flags & VPTE_SPECIAL));
	CHECK_EQ(vpte_seek_flags(&w, &x->t, vpte_va(va + x->g), 0), 0);
	CHECK_EQ(vpte_seek_flags(&w, &x->t, vpte_va(va + x->unit), VPTE_SEEK_NO_SPECIAL), 0);
	CHECK(w.kind == VPTE_LEAF && !(w.prot.flags & VPTE_SPECIAL));
	CHECK_EQ(vpte_seek_flags(&w, &x->t, vpte_va(va + x->unit + x->g), VPTE_SEEK_NO_SPECIAL), 0);
	CHECK_EQ(w.kind, VPTE_HOLE);
	/* bad modes, and the errors vpte_seek has */
	CHECK_EQ(vpte_seek_flags(&w, &x->t, vpte_va(va), VPTE_SEEK_NO_SPECIAL << 1), -VPTE_EINVAL);
	CHECK_EQ(vpte_seek_flags(&w, &x->t, vpte_va(va), ~0u), -VPTE_EINVAL);
	if (!x->f->sign_extend)
		CHECK_EQ(vpte_seek_flags(&w, &x->t, vpte_va(1ull << x->f->va_bits),
					 VPTE_SEEK_NO_SPECIAL),
			 -VPTE_ERANGE);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), x->unit + x->g, NULL), 0);
}

static void cases(const struct vpte_format *f)
{
	struct fx x;
	memset(&x, 0, sizeof(x));
	x.f = f;
	x.g = 1ull << f->granule_shift;
	x.unit = 1ull << vpte_level_shift(f, 1);
	x.pa = 1ull << (f->pa_bits - 2);
	x.nshifts = test_piece_shifts(f, x.shifts);
	test_table_new(&x.t, &x.mem, f);
	round_trip(&x);
	edits(&x);
	seek_no_special(&x);
	test_table_done(&x.t, &x.mem);
}

int main(void)
{
	return test_every_format("test_special", cases);
}
