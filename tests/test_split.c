/* SPDX-License-Identifier: MIT */
/*
 * test_split.c - vpte_split on every format, by hand-made cases:
 *
 *   - a huge leaf split whole to every smaller piece size, and in part:
 *     translations unchanged, every leaf meeting the range no larger than
 *     the shift, and no leaf split further than that needs (its next
 *     larger piece would meet the range and be too large);
 *   - a range across two huge leaves; a mix after later edits;
 *   - a contiguous run larger than the shift is broken, one no larger is
 *     kept; a split with nothing to do changes and allocates nothing;
 *   - attributes, accessed and dirty copied to every piece;
 *   - the gather: the split leaves, their shift, tables changed, no pages;
 *   - bad shifts: -EINVAL with the table untouched.
 * (Errors common to every edit, faults and the random model: test_errors,
 * test_faults, test_model.)
 */
#include "testlib.h"

struct fx {
	const struct vpte_format *f;
	struct test_mem mem;
	struct vpte_table t;
	uint64_t g, pa;
	unsigned big_level, big_shift; /* the huge leaf the cases split */
	uint64_t big;
	unsigned nshifts;
	unsigned shifts[2 * VPTE_MAX_LEVELS];
};

static const struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };

static void fx_open(struct fx *x, const struct vpte_format *f)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	x->g = 1ull << f->granule_shift;
	x->pa = 1ull << (f->pa_bits - 2);
	/* 1 GiB where the format has it, else its largest leaf below the top. */
	for (unsigned l = 1; l <= 2 && l <= vpte_top_level(f); l++)
		if (f->leaf_levels & (1u << l))
			x->big_level = l;
	x->big_shift = vpte_level_shift(f, x->big_level);
	x->big = 1ull << x->big_shift;
	x->nshifts = test_piece_shifts(f, x->shifts);
	test_table_new(&x->t, &x->mem, f);
}

static void map_big(struct fx *x, uint64_t va, uint64_t count)
{
	struct vpte_map_opts o = { x->big_shift, 0 };
	CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(x->pa), count * x->big, rw, &o), 0);
}

static int split(struct fx *x, uint64_t va, uint64_t size, unsigned shift)
{
	return vpte_split(&x->t, vpte_va(va), size, shift, NULL);
}

/* The piece size after @s (runs included), or 64 for the largest. */
static unsigned next_piece(const struct fx *x, unsigned s)
{
	for (unsigned i = 0; i < x->nshifts; i++)
		if (x->shifts[i] > s)
			return x->shifts[i];
	return 64;
}

/*
 * The leaves of [va, va + size), split from leaves of 2^orig with
 * [lo, hi) split to 2^shift: translations kept; a leaf meeting [lo, hi)
 * is no larger than 2^shift; and none is smaller than it needs: its next
 * larger piece (if no larger than the original) would be too large or
 * lie outside the range.
 */
static void check_shape(struct fx *x, int line, uint64_t va, uint64_t size, unsigned orig,
			uint64_t lo, uint64_t hi, unsigned shift)
{
	struct vpte_walk w;
	unsigned bad = 0;
	if (!test_maps_linear(&x->t, va, size, x->pa)) {
		fprintf(stderr, "%s:%d: %s: translations changed\n", __FILE__, line, x->f->name);
		test_failures++;
	}
	vpte_for_each_leaf(&w, &x->t, vpte_va(va), size)
	{
		uint64_t end = w.va.addr + (1ull << w.shift);
		bool meets = w.va.addr < hi && end > lo;
		unsigned up = next_piece(x, w.shift);
		uint64_t block = up < 64 ? w.va.addr & ~((1ull << up) - 1) : 0;
		bool block_meets = up < 64 && block < hi && block + (1ull << up) > lo;
		bool too_small = up <= orig && (up <= shift || !block_meets);
		if ((meets && w.shift > shift) || too_small) {
			if (bad++ < 4)
				fprintf(stderr,
					"%s:%d: %s: leaf 0x%" PRIx64 " shift %u (range [0x%" PRIx64
					", 0x%" PRIx64 ") to %u, from %u): %s\n",
					__FILE__, line, x->f->name, w.va.addr, w.shift, lo, hi, shift,
					orig, too_small ? "split too far" : "too large");
			test_failures++;
		}
	}
	CHECK_EQ(w.error, 0);
}
#define CHECK_SHAPE(x, va, size, orig, lo, hi, shift) \
	check_shape(x, __LINE__, va, size, orig, lo, hi, shift)

/* A huge leaf split whole to every smaller piece size, then in part. */
static void whole_and_part(struct fx *x)
{
	uint64_t base = 4 * x->big;
	for (unsigned i = 0; x->shifts[i] < x->big_shift; i++) {
		unsigned s = x->shifts[i];
		map_big(x, base, 1);
		uint64_t live = x->mem.live;
		CHECK_EQ(split(x, base, x->big, s), 0);
		CHECK_SHAPE(x, base, x->big, x->big_shift, base, base + x->big, s);
		CHECK(x->mem.live > live);
		/* Again: nothing left to do, nothing allocated. */
		uint64_t attempts = x->mem.attempts;
		CHECK_EQ(split(x, base, x->big, s), 0);
		CHECK_EQ(x->mem.attempts, attempts);
		CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), x->big, NULL), 0);

		/* A few pages inside: only what meets them is split. */
		uint64_t lo = base + x->big / 2 + 3 * x->g, hi = lo + 2 * x->g;
		map_big(x, base, 1);
		CHECK_EQ(split(x, lo, hi - lo, s), 0);
		CHECK_SHAPE(x, base, x->big, x->big_shift, lo, hi, s);
		CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), x->big, NULL), 0);
	}
	CHECK_EQ(x->mem.live, 1);
}

/* Across two huge leaves, then a mix: a second split inside the first. */
static void across_and_mix(struct fx *x)
{
	uint64_t base = 8 * x->big, lo = base + x->big - x->g, hi = lo + 2 * x->g;
	unsigned s1 = vpte_level_shift(x->f, 1);
	map_big(x, base, 2);
	CHECK_EQ(split(x, lo, hi - lo, x->f->granule_shift), 0);
	CHECK_SHAPE(x, base, 2 * x->big, x->big_shift, lo, hi, x->f->granule_shift);

	/* The whole of both to level-1 leaves, then a piece to pages. */
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), 2 * x->big, NULL), 0);
	map_big(x, base, 2);
	CHECK_EQ(split(x, base, 2 * x->big, s1), 0);
	CHECK_EQ(split(x, base + x->big + 5 * x->g, x->g, x->f->granule_shift), 0);
	CHECK(test_maps_linear(&x->t, base, 2 * x->big, x->pa));
	struct vpte_walk w;
	vpte_for_each_leaf(&w, &x->t, vpte_va(base), 2 * x->big)
		CHECK(w.shift <= s1);
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(base + x->big + 5 * x->g)), 0);
	CHECK_EQ(w.shift, x->f->granule_shift);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), 2 * x->big, NULL), 0);
}

/* Runs: broken when larger than the shift, kept otherwise. */
static void runs(struct fx *x)
{
	if (!x->f->cont_bits[0])
		return;
	uint64_t run = x->g << x->f->cont_bits[0], base = 12 * x->big;
	unsigned run_shift = x->f->granule_shift + x->f->cont_bits[0];
	struct test_leaf leaves[300];
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), 2 * run, rw, NULL), 0);

	struct test_snapshot before, after;
	snapshot_take(&before, &x->t);
	CHECK_EQ(split(x, base, 2 * run, run_shift), 0);
	snapshot_take(&after, &x->t);
	CHECK(snapshot_equal(&before, &after));
	snapshot_free(&before);
	snapshot_free(&after);

	CHECK_EQ(split(x, base + run + x->g, x->g, run_shift - 1), 0);
	long n = test_leaves(&x->t, base, 2 * run, leaves, 300);
	CHECK_EQ(n, 1 + (1u << x->f->cont_bits[0]));
	CHECK(leaves[0].cont && leaves[0].shift == run_shift && !leaves[1].cont);
	CHECK_SHAPE(x, base, 2 * run, run_shift, base + run + x->g, base + run + 2 * x->g,
		    run_shift - 1);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), 2 * run, NULL), 0);
}

/* Every piece carries the leaf's attributes, accessed and dirty. */
static void attributes(struct fx *x)
{
	uint64_t base = 14 * x->big;
	struct vpte_prot dirty = { VPTE_D | VPTE_G, 0, x->f->raw_mask }, none = { 0, 0, 0 };
	struct vpte_walk w;
	map_big(x, base, 1);
	CHECK_EQ(vpte_protect(&x->t, vpte_va(base), x->big, dirty, none, NULL), 0);
	CHECK_EQ(split(x, base, x->big, x->f->granule_shift), 0);
	vpte_for_each_leaf(&w, &x->t, vpte_va(base), x->big)
	{
		CHECK_EQ(w.prot.flags, VPTE_R | VPTE_W | VPTE_G | VPTE_A | VPTE_D);
		CHECK_EQ(w.prot.raw, x->f->raw_mask);
	}
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), x->big, NULL), 0);
}

static struct vpte_gather seen;
static unsigned invalidations;

static void note(void *ctx, const struct vpte_gather *g)
{
	(void)ctx;
	seen = *g;
	invalidations++;
}

/* The gather holds the leaves split, at their old size. */
static void gather(struct fx *x)
{
	uint64_t base = 16 * x->big;
	struct vpte_gather g;
	map_big(x, base, 2);
	vpte_gather_init(&g, &x->t, note, NULL);
	invalidations = 0;
	CHECK_EQ(vpte_split(&x->t, vpte_va(base + x->big - x->g), 2 * x->g, x->f->granule_shift,
			    &g),
		 0);
	vpte_gather_finish(&g);
	/* arm64 invalidates each leaf it splits once more, mid-edit, between
	 * the break and the make (docs/concurrency.md). */
	CHECK_EQ(invalidations, 1u + 2u * !strncmp(x->f->name, "arm64", 5));
	CHECK(seen.leaves_changed && seen.tables_changed);
	CHECK_EQ(seen.start, base);
	CHECK_EQ(seen.last, base + 2 * x->big - 1);
	CHECK_EQ(seen.min_shift, x->big_shift);
	CHECK_EQ(seen.nr_pages, 0);
	/* Nothing to split: nothing gathered. */
	invalidations = 0;
	CHECK_EQ(vpte_split(&x->t, vpte_va(base), 2 * x->big, x->big_shift, &g), 0);
	vpte_gather_finish(&g);
	CHECK_EQ(invalidations, 0);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), 2 * x->big, NULL), 0);
}

static void invalid(struct fx *x)
{
	uint64_t base = 18 * x->big;
	unsigned bad[] = { 0, x->f->granule_shift - 1u, 64, 1000 };
	struct test_snapshot before, after;
	map_big(x, base, 1);
	snapshot_take(&before, &x->t);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(split(x, base, x->big, bad[i]), -VPTE_EINVAL);
	snapshot_take(&after, &x->t);
	CHECK(snapshot_equal(&before, &after));
	snapshot_free(&before);
	snapshot_free(&after);
	/* 63 is a shift: nothing is that large. */
	CHECK_EQ(split(x, base, x->big, 63), 0);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), x->big, NULL), 0);
}

static void cases(const struct vpte_format *f)
{
	struct fx x;
	fx_open(&x, f);
	whole_and_part(&x);
	across_and_mix(&x);
	runs(&x);
	attributes(&x);
	gather(&x);
	invalid(&x);
	CHECK_EQ(x.mem.live, 1);
	test_table_done(&x.t, &x.mem);
}

int main(void)
{
	return test_every_format("test_split", cases);
}
