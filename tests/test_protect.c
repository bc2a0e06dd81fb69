/* SPDX-License-Identifier: MIT */
/*
 * test_protect.c - vpte_protect on every format, by hand-made cases:
 *
 *   - a range inside a huge leaf: exactly the range changes, the leaf is
 *     split no further than the edges need (runs kept away from them),
 *     translations are unchanged everywhere;
 *   - a whole contiguous run stays a run; part of one breaks it;
 *   - memory type and raw bits; a flag in both set and clear is set;
 *     accessed and dirty kept unless named;
 *   - what the gather reports: the changed leaves and their smallest shift;
 *     a change that changes nothing writes and gathers nothing;
 *   - invalid changes and results the format cannot encode: -EINVAL with
 *     the table untouched;
 *   - bits of a foreign entry that vpte has no name for stay;
 *   - one read-only leaf among writable ones, at each place of the first
 *     and last 64 entries, stays read-only when W is cleared on all.
 * (Errors common to every edit, faults and the random model: test_errors,
 * test_faults, test_model.)
 */
#include "testlib.h"

#define MAX_LEAVES 16384

static struct test_leaf leaves[MAX_LEAVES];

struct fx {
	const struct vpte_format *f;
	struct test_mem mem;
	struct vpte_table t;
	uint64_t g, unit; /* granule; the smallest huge leaf (level 1) */
	uint64_t pa;
	unsigned run0;    /* pages in a level-0 run, 1 without runs */
};

static struct vpte_prot prot_of(uint32_t flags, uint32_t memtype, uint64_t raw)
{
	struct vpte_prot p = { flags, memtype, raw };
	return p;
}

static const struct vpte_prot none = { 0, 0, 0 };
static const struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };

static void fx_open(struct fx *x, const struct vpte_format *f)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	x->g = 1ull << f->granule_shift;
	x->unit = 1ull << vpte_level_shift(f, 1);
	x->pa = 1ull << (f->pa_bits - 2);
	x->run0 = 1u << f->cont_bits[0];
	test_table_new(&x->t, &x->mem, f);
}

static int protect(struct fx *x, uint64_t va, uint64_t size, struct vpte_prot set,
		   struct vpte_prot clear)
{
	return vpte_protect(&x->t, vpte_va(va), size, set, clear, NULL);
}

static long leaves_of(struct fx *x, uint64_t va, uint64_t size)
{
	long n = test_leaves(&x->t, va, size, leaves, MAX_LEAVES);
	CHECK(n >= 0 && n <= MAX_LEAVES);
	return n;
}

/* The flags of the leaf translating @va. */
static uint32_t flags_at(struct fx *x, uint64_t va)
{
	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(va)), 0);
	CHECK_EQ(w.kind, VPTE_LEAF);
	return w.prot.flags;
}

/* No leaf crosses @boundary. */
static bool boundary(struct fx *x, uint64_t boundary)
{
	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(boundary)), 0);
	return w.kind != VPTE_LEAF || w.va.addr == boundary;
}

/* A range of a few pages inside a huge leaf. */
static void inside_huge(struct fx *x)
{
	uint64_t base = 4 * x->unit, lo = base + 3 * x->g, hi = base + 5 * x->g;
	struct vpte_map_opts one = { vpte_level_shift(x->f, 1), 0 };
	struct vpte_prot clear_w = prot_of(VPTE_W, 0, 0);

	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), x->unit, rw, &one), 0);
	CHECK_EQ(protect(x, lo, hi - lo, none, clear_w), 0);
	CHECK(test_maps_linear(&x->t, base, x->unit, x->pa));
	for (uint64_t va = base; va < base + 8 * x->g; va += x->g)
		CHECK_EQ(flags_at(x, va) & VPTE_W, va >= lo && va < hi ? 0 : VPTE_W);
	CHECK_EQ(flags_at(x, base + x->unit - x->g) & VPTE_W, VPTE_W);
	CHECK(boundary(x, lo) && boundary(x, hi));
	/* One level-0 table; only the run holding the range is written plain. */
	uint64_t entries = 1ull << x->f->level_bits[0];
	CHECK_EQ(leaves_of(x, base, x->unit), x->run0 > 1 ? entries / x->run0 - 1 + x->run0 : entries);
	CHECK_EQ(x->mem.live, 1 + (vpte_top_level(x->f) - 1) + 1);

	/* Put W back: the same leaves, all writable again. */
	CHECK_EQ(protect(x, lo, hi - lo, prot_of(VPTE_W, 0, 0), none), 0);
	for (uint64_t va = base; va < base + 8 * x->g; va += x->g)
		CHECK_EQ(flags_at(x, va) & VPTE_W, VPTE_W);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), x->unit, NULL), 0);
}

/* Contiguous runs: whole, they stay; cut, they break. */
static void runs(struct fx *x)
{
	if (x->run0 == 1)
		return;
	uint64_t run = x->g * x->run0, base = 2 * x->unit;
	struct vpte_walk w;
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), 2 * run, rw, NULL), 0);
	CHECK_EQ(leaves_of(x, base, 2 * run), 2);

	/* The whole first run: still a run, every member dirty now. */
	CHECK_EQ(protect(x, base, run, prot_of(VPTE_D, 0, 0), none), 0);
	CHECK_EQ(leaves_of(x, base, 2 * run), 2);
	CHECK(leaves[0].cont && leaves[1].cont);
	for (uint64_t va = base; va < base + 2 * run; va += x->g) {
		CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(va)), 0);
		CHECK_EQ(w.prot.flags & VPTE_D, va < base + run ? VPTE_D : 0);
		CHECK_EQ(w.shift, vpte_level_shift(x->f, 0) + x->f->cont_bits[0]);
	}

	/* One page of the second run: it breaks into plain pages. */
	uint64_t page = base + run + 2 * x->g;
	CHECK_EQ(protect(x, page, x->g, none, prot_of(VPTE_W, 0, 0)), 0);
	CHECK_EQ(leaves_of(x, base, 2 * run), 1 + x->run0);
	CHECK(leaves[0].cont && !leaves[1].cont);
	for (uint64_t va = base + run; va < base + 2 * run; va += x->g)
		CHECK_EQ(flags_at(x, va) & VPTE_W, va == page ? 0 : VPTE_W);
	CHECK(test_maps_linear(&x->t, base, 2 * run, x->pa));
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), 2 * run, NULL), 0);
}

/* Memory type, raw bits, set-and-clear, accessed and dirty. */
static void fields(struct fx *x)
{
	uint64_t base = 6 * x->unit;
	struct vpte_walk w;
	struct vpte_prot mt = prot_of(0, 0, 0);
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), x->unit, rw, NULL), 0);

	/* A whole leaf changes in place: no split. */
	uint64_t live = x->mem.live;
	mt.memtype = VPTE_MT_MASK;
	CHECK_EQ(protect(x, base, x->unit, prot_of(0, VPTE_MT_DEVICE, 0), mt), 0);
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(base + x->g)), 0);
	CHECK_EQ(w.prot.memtype, VPTE_MT_DEVICE);
	CHECK_EQ(w.shift, vpte_level_shift(x->f, 1));
	CHECK_EQ(x->mem.live, live);
	CHECK_EQ(protect(x, base, x->unit, prot_of(0, VPTE_MT_NC, 0), mt), 0);
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(base)), 0);
	CHECK_EQ(w.prot.memtype, VPTE_MT_NC);

	/* Raw bits: the lowest bit of raw_mask, set then cleared. */
	uint64_t bit = x->f->raw_mask & (0 - x->f->raw_mask);
	CHECK_EQ(protect(x, base, x->unit, prot_of(0, 0, bit), none), 0);
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(base)), 0);
	CHECK_EQ(w.prot.raw, bit);
	CHECK_EQ(protect(x, base, x->unit, none, prot_of(0, 0, x->f->raw_mask)), 0);
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(base)), 0);
	CHECK_EQ(w.prot.raw, 0);

	/* In both set and clear: set.  Accessed (map sets it) stays. */
	CHECK_EQ(protect(x, base, x->unit, prot_of(VPTE_G, 0, 0), prot_of(VPTE_G | VPTE_W, 0, 0)),
		 0);
	CHECK_EQ(flags_at(x, base), VPTE_R | VPTE_G | VPTE_A);
	/* Clearing accessed is a change like any other. */
	CHECK_EQ(protect(x, base, x->unit, prot_of(VPTE_D, 0, 0), prot_of(VPTE_A, 0, 0)), 0);
	CHECK_EQ(flags_at(x, base), VPTE_R | VPTE_G | VPTE_D);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), x->unit, NULL), 0);
}

static struct vpte_gather seen;
static unsigned invalidations;

static void note(void *ctx, const struct vpte_gather *g)
{
	(void)ctx;
	seen = *g;
	invalidations++;
}

/* The gather: the changed leaves, their smallest shift; nothing for no change. */
static void gather(struct fx *x)
{
	uint64_t base = 8 * x->unit, lo = base + x->unit - 2 * x->g;
	struct vpte_gather g;
	struct vpte_map_opts one = { vpte_level_shift(x->f, 1), 0 };
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), 2 * x->unit, rw, &one), 0);

	/* Across two huge leaves: 2 pages of the first, the whole second. */
	vpte_gather_init(&g, &x->t, note, NULL);
	invalidations = 0;
	CHECK_EQ(vpte_protect(&x->t, vpte_va(lo), x->unit + 2 * x->g, none, prot_of(VPTE_W, 0, 0),
			      &g),
		 0);
	vpte_gather_finish(&g);
	/* arm64 invalidates the leaf it cuts once more, mid-edit, between the
	 * break and the make (docs/concurrency.md). */
	CHECK_EQ(invalidations, 1u + !strncmp(x->f->name, "arm64", 5));
	CHECK(seen.leaves_changed && seen.tables_changed);
	CHECK_EQ(seen.start, lo);
	CHECK_EQ(seen.last, base + 2 * x->unit - 1);
	CHECK_EQ(seen.min_shift, x->f->granule_shift);
	CHECK_EQ(seen.nr_pages, 0);

	/* No change at all: nothing written, nothing gathered. */
	struct test_snapshot before, after;
	snapshot_take(&before, &x->t);
	invalidations = 0;
	CHECK_EQ(vpte_protect(&x->t, vpte_va(base + x->unit), x->unit, prot_of(VPTE_R, 0, 0),
			      prot_of(VPTE_W, 0, 0), &g),
		 0);
	vpte_gather_finish(&g);
	CHECK_EQ(invalidations, 0);
	snapshot_take(&after, &x->t);
	CHECK(snapshot_equal(&before, &after));
	snapshot_free(&before);
	snapshot_free(&after);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), 2 * x->unit, NULL), 0);
}

/* Bad changes and unencodable results: -EINVAL, nothing changed. */
static void invalid(struct fx *x)
{
	uint64_t base = 10 * x->unit, in = base + x->g;
	bool riscv = !strncmp(x->f->name, "riscv", 5);
	struct test_snapshot before, after;
	struct vpte_gather other;
	struct vpte_table t2;
	struct test_mem mem2;
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), x->unit, rw, NULL), 0);
	snapshot_take(&before, &x->t);
	uint64_t live = x->mem.live;
	struct vpte_prot mt_only = prot_of(0, 0, 0);
	mt_only.memtype = VPTE_MT_MASK;
	uint64_t outside = ~x->f->raw_mask & (0 - ~x->f->raw_mask);

	/* the change itself */
	CHECK_EQ(protect(x, in, x->g, prot_of(1u << 8, 0, 0), none), -VPTE_EINVAL);
	CHECK_EQ(protect(x, in, x->g, none, prot_of(1u << 31, 0, 0)), -VPTE_EINVAL);
	CHECK_EQ(protect(x, in, x->g, prot_of(0, 0, outside), none), -VPTE_EINVAL);
	CHECK_EQ(protect(x, in, x->g, none, prot_of(0, 0, outside)), -VPTE_EINVAL);
	CHECK_EQ(protect(x, in, x->g, prot_of(0, VPTE_MT_NC, 0), none), -VPTE_EINVAL);
	CHECK_EQ(protect(x, in, x->g, prot_of(0, VPTE_MT_NC, 0), prot_of(0, 1, 0)), -VPTE_EINVAL);
	CHECK_EQ(protect(x, in, x->g, prot_of(0, VPTE_MT_OTHER, 0), mt_only), -VPTE_EINVAL);
	/* ... and on an empty range too: the change is checked first */
	CHECK_EQ(protect(x, 12 * x->unit, x->g, prot_of(0, 7, 0), mt_only), -VPTE_EINVAL);
	/* results the format cannot encode: write without read */
	CHECK_EQ(protect(x, in, x->g, none, prot_of(VPTE_R, 0, 0)), -VPTE_EINVAL);
	CHECK_EQ(protect(x, base, x->unit, none, prot_of(VPTE_R | VPTE_X, 0, 0)), -VPTE_EINVAL);
	/* a gather of another table */
	test_table_new(&t2, &mem2, x->f);
	vpte_gather_init(&other, &t2, NULL, NULL);
	CHECK_EQ(vpte_protect(&x->t, vpte_va(in), x->g, none, prot_of(VPTE_W, 0, 0), &other),
		 -VPTE_EINVAL);
	test_table_done(&t2, &mem2);
	snapshot_take(&after, &x->t);
	CHECK(snapshot_equal(&before, &after));
	CHECK_EQ(x->mem.live, live);
	snapshot_free(&after);

	/* Execute-only exists on RISC-V alone. */
	int err = protect(x, in, x->g, prot_of(VPTE_X, 0, 0), prot_of(VPTE_R | VPTE_W, 0, 0));
	CHECK_EQ(err, riscv ? 0 : -VPTE_EINVAL);
	if (riscv)
		CHECK_EQ(flags_at(x, in) & (VPTE_R | VPTE_W | VPTE_X), VPTE_X);
	snapshot_free(&before);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), x->unit, NULL), 0);
}

/* The entry that maps @va (heap tables: a PA is the host address). */
static uint64_t *leaf_entry(struct fx *x, uint64_t va)
{
	struct vpte_walk w;
	uint64_t table = x->t.root.addr;
	unsigned level = vpte_top_level(x->f);
	vpte_for_each_entry(&w, &x->t, vpte_va(va), x->g, VPTE_ITER_TABLES)
	{
		if (w.kind == VPTE_TABLE) {
			table = w.pa.addr;
			level = w.level - 1;
		}
	}
	unsigned index = (unsigned)(va >> vpte_level_shift(x->f, level)) &
			 ((1u << x->f->level_bits[level]) - 1);
	return (uint64_t *)(uintptr_t)table + index;
}

/*
 * A foreign entry's bits vpte has no name for stay through a protect:
 * arm64 DBM (bit 51); an x86-64 memory type vpte cannot name (PAT index 1,
 * PWT alone) refuses a protect that keeps it and is replaced whole by one
 * that sets a memory type.
 */
static void foreign_bits(struct fx *x)
{
	uint64_t va = 20 * x->unit;
	struct vpte_prot clear_w = prot_of(VPTE_W, 0, 0), nc = prot_of(0, VPTE_MT_NC, 0);
	struct vpte_prot mt = prot_of(0, VPTE_MT_MASK, 0);
	struct vpte_walk w;
	uint64_t bit;
	if (!strncmp(x->f->name, "arm64", 5))
		bit = 1ull << 51;
	else if (!strncmp(x->f->name, "x86_64", 6))
		bit = 1ull << 3;
	else
		return;
	CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(x->pa), x->g, rw, NULL), 0);
	uint64_t *e = leaf_entry(x, va), before = *e | bit;
	*e = before;
	if (bit == 1ull << 51) {
		CHECK_EQ(protect(x, va, x->g, none, clear_w), 0);
		CHECK_EQ(*e, before | (1ull << 7)); /* AP[2]: read-only, DBM kept */
	} else {
		CHECK_EQ(protect(x, va, x->g, none, clear_w), -VPTE_EINVAL);
		CHECK_EQ(*e, before);
		CHECK_EQ(protect(x, va, x->g, nc, mt), 0);
		CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(va)), 0);
		CHECK_EQ(w.prot.memtype, VPTE_MT_NC);
		CHECK_EQ(*e & (0x18 | 0x80), 0x10); /* PCD alone: PAT index 2 */
	}
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), x->g, NULL), 0);
}

/*
 * One leaf read-only already among a leaf table of writable ones, at each
 * of the table's first and last 64 entries: clearing W over the table
 * leaves every leaf read-only.  The row passes that test many entries a
 * step (change_row()) must end their row at the odd one wherever it lies
 * in their steps: the others' change, an XOR, would make it writable.
 * With and without hardware updates (plain stores, or a compare-and-swap
 * each).
 */
static void odd_one_anywhere(struct fx *x)
{
	struct vpte_prot clear_w = prot_of(VPTE_W, 0, 0);
	struct vpte_map_opts small = { x->f->granule_shift, 0 };
	uint64_t va = 24 * x->unit, n = x->unit / x->g;
	for (int hw = 0; hw < 2; hw++) {
		vpte_table_set_hw_updates(&x->t, hw);
		for (uint64_t i = 0; i < n; i = test_edge_next(i, n)) {
			CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(x->pa), x->unit, rw, &small), 0);
			CHECK_EQ(protect(x, va + i * x->g, x->g, none, clear_w), 0);
			CHECK_EQ(protect(x, va, x->unit, none, clear_w), 0);
			long k = leaves_of(x, va, x->unit), writable = 0;
			CHECK_EQ(k, n);
			for (long j = 0; j < k; j++)
				writable += !!(leaves[j].prot.flags & VPTE_W);
			CHECK_EQ(writable, 0);
			CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), x->unit, NULL), 0);
		}
	}
	vpte_table_set_hw_updates(&x->t, true);
}

static void cases(const struct vpte_format *f)
{
	struct fx x;
	fx_open(&x, f);
	inside_huge(&x);
	runs(&x);
	fields(&x);
	gather(&x);
	invalid(&x);
	foreign_bits(&x);
	odd_one_anywhere(&x);
	CHECK_EQ(x.mem.live, 1);
	test_table_done(&x.t, &x.mem);
}

int main(void)
{
	return test_every_format("test_protect", cases);
}
