/* SPDX-License-Identifier: MIT */
/*
 * test_harvest_stores.c - which leaves vpte_harvest and vpte_protect
 * replace by compare-and-swap and which by a plain store (leafstore.h).
 * One format of each family is stamped out again here, under another name,
 * with a counter of the compare-and-swaps (VPTE_LEAF_CAS_HOOK).  The choice
 * is the family codec's (its leaf_settled()), the same for every format of
 * the family; and each format stamped here costs the build as much as one
 * of the library's (half a minute under UBSan), so not all eleven are, and
 * each is a file of its own (harvest_stores_*.c) for a parallel build:
 *
 *   hardware      on a table the hardware updates, a leaf it may still
 *                 change costs a compare-and-swap (two neighbours
 *                 share one where the host can, leafstore.h's
 *                 replace_leaf_pair()): x86-64 and RISC-V with accessed
 *                 clear, or writable and dirty clear; arm64 with AF clear,
 *                 or DBM set and AP[2] set (a foreign table's writable
 *                 clean page).  A settled leaf costs none: accessed and
 *                 dirty set, read-only and accessed, and on arm64 AF set
 *                 (vpte's dirty flag is a software bit there);
 *   no_hw         on a VPTE_TABLE_NO_HW_UPDATES table, none at all;
 * and every leaf is changed either way.
 */
#include "testlib.h"

#include "formats/arm64.h"
#include "harvest_stores.h"

unsigned long cas_count, cas_entries;

#define PAGES 64u

struct fx {
	const struct vpte_format *f;
	struct test_mem mem;
	struct vpte_table t;
	uint64_t va, size;
	bool arm64;
};

static void fx_map(struct fx *x, uint32_t flags)
{
	struct vpte_prot p = { flags, VPTE_MT_WB, 0 };
	struct vpte_map_opts pages = { x->f->granule_shift, 0 };
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(x->va), x->size, NULL), 0);
	CHECK_EQ(vpte_map(&x->t, vpte_va(x->va), vpte_pa(0), x->size, p, &pages), 0);
}

/* The compare-and-swaps that replace @entries of the pages: two a swap
 * where the engine has them (the pages lie in one leaf table, from a
 * 16-byte aligned entry on). */
static unsigned long swaps(unsigned long entries)
{
	return counted_pair_cas ? entries / 2 : entries;
}

/* Harvest-clear @flag over the pages: the entries it replaced by
 * compare-and-swap; the flag must be gone from every page afterwards. */
static unsigned long harvest_cas(struct fx *x, uint32_t flag)
{
	uint64_t bm[PAGES / 64];
	struct vpte_harvest_opts o = { flag, 0, VPTE_HARVEST_CLEAR, NULL };
	unsigned long before = cas_entries, ops = cas_count;
	CHECK_EQ(vpte_harvest(&x->t, vpte_va(x->va), x->size, NULL, &o), 0);
	unsigned long n = cas_entries - before;
	CHECK_EQ(cas_count - ops, swaps(n));
	o.flags = 0;
	memset(bm, 0, sizeof(bm));
	CHECK_EQ(vpte_harvest(&x->t, vpte_va(x->va), x->size, bm, &o), 0);
	for (unsigned i = 0; i < PAGES / 64; i++)
		CHECK_EQ(bm[i], 0);
	return n;
}

/* Protect the pages (@set, @clear: generic flags): the entries it replaced
 * by compare-and-swap; every page must have the result. */
static unsigned long protect_cas(struct fx *x, uint32_t set, uint32_t clear)
{
	struct vpte_prot s = { set, 0, 0 }, c = { clear, 0, 0 };
	struct vpte_walk w;
	unsigned long before = cas_entries, ops = cas_count;
	CHECK_EQ(vpte_protect(&x->t, vpte_va(x->va), x->size, s, c, NULL), 0);
	unsigned long n = cas_entries - before;
	CHECK_EQ(cas_count - ops, swaps(n));
	vpte_for_each_leaf(&w, &x->t, vpte_va(x->va), x->size)
		CHECK_EQ(w.prot.flags & (set | clear), set);
	return n;
}

static void stores(const struct vpte_format *f, bool arm64, bool no_hw)
{
	struct fx x = { .f = f, .arm64 = arm64 };
	test_table_new(&x.t, &x.mem, f);
	if (no_hw)
		vpte_table_set_hw_updates(&x.t, false);
	x.va = 1ull << vpte_level_shift(f, 1);
	x.size = (uint64_t)PAGES << f->granule_shift;
	/* What a leaf the hardware may change costs; a settled one, 0. */
	unsigned long open = no_hw ? 0 : PAGES;
	unsigned long open_x86_rv = arm64 ? 0 : open;

	/* Writable, accessed (vpte_map sets it), clean: x86-64 and RISC-V
	 * may still set dirty; arm64 hardware nothing. */
	fx_map(&x, VPTE_R | VPTE_W);
	CHECK_EQ(harvest_cas(&x, VPTE_A), open_x86_rv);
	fx_map(&x, VPTE_R | VPTE_W);
	CHECK_EQ(protect_cas(&x, 0, VPTE_W), open_x86_rv);
	/* Accessed and dirty: settled everywhere.  Then accessed clear: the
	 * hardware may set it. */
	fx_map(&x, VPTE_R | VPTE_W | VPTE_D);
	CHECK_EQ(harvest_cas(&x, VPTE_A), 0);
	CHECK_EQ(harvest_cas(&x, VPTE_D), open);
	fx_map(&x, VPTE_R | VPTE_W | VPTE_D);
	CHECK_EQ(protect_cas(&x, 0, VPTE_W), 0);
	CHECK_EQ(protect_cas(&x, 0, VPTE_A), 0);
	CHECK_EQ(protect_cas(&x, VPTE_W, VPTE_D), open);
	/* Read-only and accessed: no write can set dirty. */
	fx_map(&x, VPTE_R);
	CHECK_EQ(protect_cas(&x, VPTE_W, 0), 0);
	if (arm64) {
		/* A foreign writable clean page: DBM (bit 51) with AP[2] set,
		 * which the hardware clears on a write. */
		fx_map(&x, VPTE_R);
		for (uint64_t i = 0; i < PAGES; i++)
			*test_entry_at(&x.t, x.va + (i << f->granule_shift)) |= ARM64_DBM;
		CHECK_EQ(harvest_cas(&x, VPTE_A), open);
	}
	test_table_done(&x.t, &x.mem);
}

int main(void)
{
	static const struct {
		const struct vpte_format *f;
		bool arm64;
	} formats[] = {
		{ &vpte_format_counted_x86_64, false },
		{ &vpte_format_counted_arm64_16k_47, true },
		{ &vpte_format_counted_riscv_sv39, false },
	};
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		stores(formats[i].f, formats[i].arm64, false);
		stores(formats[i].f, formats[i].arm64, true);
	}
	return test_summary("test_harvest_stores");
}
