/* SPDX-License-Identifier: MIT */
/*
 * test_collapse.c - vpte_collapse on every format, by hand-made cases.
 * The oracle: collapsing a region mapped with small leaves gives the
 * leaves a fresh vpte_map of each of its uniform stretches gives (same
 * max_shift), and frees every table those leaves do not need.
 *
 *   - a region of pages collapsed whole, with and without max_shift, and
 *     only a piece of it (2 MiB of what could become 1 GiB);
 *   - stretches that differ in attributes or are not physically
 *     contiguous do not merge; leaves the range cuts stay;
 *   - accessed and dirty of the parts are ORed into the new leaf, every
 *     member of a new run alike;
 *   - the gather: the old leaves at their shift, tables freed through it,
 *     early finishes when many pages pile up;
 *   - nothing to do changes nothing; bad max_shift is -EINVAL.
 * (Errors common to every edit and the random model: test_errors,
 * test_model.)
 */
#include "testlib.h"

struct fx {
	const struct vpte_format *f;
	struct test_mem mem, ref_mem;
	struct vpte_table t, ref; /* collapsed, and mapped fresh */
	uint64_t g, pa;
	unsigned s1, big_level, big_shift;
	uint64_t big;
};

static const struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
static const struct vpte_prot none = { 0, 0, 0 };

static void fx_open(struct fx *x, const struct vpte_format *f)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	x->g = 1ull << f->granule_shift;
	x->pa = 1ull << (f->pa_bits - 2);
	x->s1 = vpte_level_shift(f, 1);
	for (unsigned l = 1; l <= 2 && l <= vpte_top_level(f); l++)
		if (f->leaf_levels & (1u << l))
			x->big_level = l;
	x->big_shift = vpte_level_shift(f, x->big_level);
	x->big = 1ull << x->big_shift;
	test_table_new(&x->t, &x->mem, f);
	test_table_new(&x->ref, &x->ref_mem, f);
}

static void fx_close(struct fx *x)
{
	test_table_done(&x->t, &x->mem);
	test_table_done(&x->ref, &x->ref_mem);
}

/* Map [va, va + size) -> pa in both tables: pages in the one to collapse,
 * the largest leaves up to @max in the reference. */
static void map_both(struct fx *x, uint64_t va, uint64_t pa, uint64_t size,
		     struct vpte_prot prot, unsigned max)
{
	struct vpte_map_opts pages = { x->f->granule_shift, 0 }, fresh = { max, 0 };
	CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(pa), size, prot, &pages), 0);
	CHECK_EQ(vpte_map(&x->ref, vpte_va(va), vpte_pa(pa), size, prot, &fresh), 0);
}

static void unmap_both(struct fx *x, uint64_t va, uint64_t size)
{
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), size, NULL), 0);
	CHECK_EQ(vpte_unmap(&x->ref, vpte_va(va), size, NULL), 0);
	CHECK_EQ(x->mem.live, 1);
}

/* The two tables hold the same leaves (accessed and dirty aside) in
 * [va, va + size) and as many table pages. */
static void same_leaves(struct fx *x, int line, uint64_t va, uint64_t size)
{
	struct vpte_walk a, b;
	int ra = vpte_iter_start(&a, &x->t, vpte_va(va), size, VPTE_ITER_LEAVES);
	int rb = vpte_iter_start(&b, &x->ref, vpte_va(va), size, VPTE_ITER_LEAVES);
	uint32_t hw = VPTE_A | VPTE_D;
	for (; ra > 0 && rb > 0; ra = vpte_iter_next(&a), rb = vpte_iter_next(&b))
		if (a.va.addr != b.va.addr || a.pa.addr != b.pa.addr || a.shift != b.shift ||
		    a.cont != b.cont || (a.prot.flags & ~hw) != (b.prot.flags & ~hw) ||
		    a.prot.memtype != b.prot.memtype)
			break;
	if (ra == 0 && rb == 0 && x->mem.live == x->ref_mem.live)
		return;
	fprintf(stderr, "%s:%d: %s: leaf 0x%" PRIx64 " shift %u (%d), expected 0x%" PRIx64
			" shift %u (%d); %" PRIu64 " table pages, expected %" PRIu64 "\n",
		__FILE__, line, x->f->name, a.va.addr, a.shift, ra, b.va.addr, b.shift, rb,
		x->mem.live, x->ref_mem.live);
	test_failures++;
}
#define SAME_LEAVES(x, va, size) same_leaves(x, __LINE__, va, size)

static int collapse(struct fx *x, uint64_t va, uint64_t size, unsigned max)
{
	return vpte_collapse(&x->t, vpte_va(va), size, max, NULL);
}

/* A region of pages, collapsed whole at every max_shift, then in part. */
static void whole(struct fx *x)
{
	uint64_t base = 4 * x->big, u = 1ull << x->s1;
	unsigned shifts[2 * VPTE_MAX_LEVELS], n = test_piece_shifts(x->f, shifts);
	for (unsigned i = 0; i <= n; i++) {
		unsigned max = i < n ? shifts[i] : 0;
		if (max > x->big_shift)
			continue;
		/* a whole big piece with odd ends, so every smaller piece shows up */
		uint64_t lo = base - 3 * x->g, hi = base + x->big + 2 * u + 5 * x->g;
		map_both(x, lo, x->pa - 3 * x->g, hi - lo, rw, max);
		CHECK_EQ(collapse(x, lo, hi - lo, max), 0);
		SAME_LEAVES(x, lo, hi - lo);
		unmap_both(x, lo, hi - lo);
	}
	/* Only a piece (2 MiB on x86-64) of what could become one big leaf. */
	unsigned piece_shift = 0;
	for (unsigned i = 0; i < n; i++)
		if (shifts[i] < x->big_shift)
			piece_shift = shifts[i];
	struct vpte_map_opts pages = { x->f->granule_shift, 0 };
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), x->big, rw, &pages), 0);
	uint64_t piece = base + 2 * (1ull << piece_shift);
	CHECK_EQ(collapse(x, piece, 1ull << piece_shift, 0), 0);
	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(piece + x->g)), 0);
	CHECK(w.shift == piece_shift && w.va.addr == piece);
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(piece - x->g)), 0);
	CHECK_EQ(w.shift, x->f->granule_shift);
	CHECK(test_maps_linear(&x->t, base, x->big, x->pa));
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), x->big, NULL), 0);
}

/* Stretches that may not merge: other attributes, a PA gap, a cut leaf. */
static void stretches(struct fx *x)
{
	uint64_t base = 8 * x->big, u = 1ull << x->s1;
	struct vpte_prot ro = rw;
	ro.flags &= ~VPTE_W;
	/* one read-only page in the middle of the first level-1 span */
	map_both(x, base, x->pa, u / 2, rw, 0);
	map_both(x, base + u / 2, x->pa + u / 2, x->g, ro, 0);
	map_both(x, base + u / 2 + x->g, x->pa + u / 2 + x->g, u / 2 - x->g, rw, 0);
	/* then a level-1 span whose PA does not follow on */
	map_both(x, base + u, x->pa + 4 * u, u, rw, 0);
	CHECK_EQ(collapse(x, base, 2 * u, 0), 0);
	SAME_LEAVES(x, base, 2 * u);
	unmap_both(x, base, 2 * u);

	/* A range that cuts leaves: they stay, the inside collapses. */
	struct vpte_map_opts pages = { x->f->granule_shift, 0 };
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), 2 * u, rw, NULL), 0);
	CHECK_EQ(vpte_map(&x->t, vpte_va(base + 2 * u), vpte_pa(x->pa + 2 * u), u, rw, &pages), 0);
	uint64_t attempts = x->mem.attempts;
	CHECK_EQ(collapse(x, base + u + x->g, 2 * u - x->g, 0), 0);
	CHECK_EQ(x->mem.attempts, attempts);
	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(base + u)), 0);
	CHECK(w.va.addr == base || w.va.addr == base + u);
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(base + 2 * u)), 0);
	CHECK(w.va.addr == base + 2 * u && w.shift == x->s1);
	CHECK(test_maps_linear(&x->t, base, 3 * u, x->pa));
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), 3 * u, NULL), 0);
}

/* Accessed and dirty of the parts are ORed into the new leaf or run. */
static void access_flags(struct fx *x)
{
	uint64_t base = 12 * x->big, u = 1ull << x->s1;
	struct vpte_prot a = { VPTE_A, 0, 0 }, d = { VPTE_D, 0, 0 };
	struct vpte_map_opts pages = { x->f->granule_shift, 0 };
	struct vpte_walk w;
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), u, rw, &pages), 0);
	CHECK_EQ(vpte_protect(&x->t, vpte_va(base), u, none, a, NULL), 0);
	CHECK_EQ(vpte_protect(&x->t, vpte_va(base + u - x->g), x->g, d, none, NULL), 0);
	CHECK_EQ(collapse(x, base, u, 0), 0);
	CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(base)), 0);
	CHECK_EQ(w.shift, x->s1);
	CHECK_EQ(w.prot.flags & (VPTE_A | VPTE_D), VPTE_D);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), u, NULL), 0);

	if (!x->f->cont_bits[0])
		return;
	/* A run: every member carries the OR. */
	uint64_t run = x->g << x->f->cont_bits[0];
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), run, rw, &pages), 0);
	CHECK_EQ(vpte_protect(&x->t, vpte_va(base + x->g), x->g, d, none, NULL), 0);
	CHECK_EQ(collapse(x, base, run, 0), 0);
	for (uint64_t va = base; va < base + run; va += x->g) {
		CHECK_EQ(vpte_seek(&w, &x->t, vpte_va(va)), 0);
		CHECK(w.cont && w.shift == x->f->granule_shift + x->f->cont_bits[0]);
		CHECK_EQ(w.prot.flags & (VPTE_A | VPTE_D), VPTE_A | VPTE_D);
	}
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), run, NULL), 0);
}

static unsigned invalidations;
static uint64_t inval_start, inval_last, pages_freed;
static unsigned inval_min_shift;

static void note(void *ctx, const struct vpte_gather *g)
{
	(void)ctx;
	if (!invalidations++ || g->start < inval_start)
		inval_start = g->start;
	if (g->last > inval_last)
		inval_last = g->last;
	if (invalidations == 1 || g->min_shift < inval_min_shift)
		inval_min_shift = g->min_shift;
	pages_freed += g->nr_pages;
	CHECK(g->leaves_changed && g->tables_changed);
}

/* The gather: old leaves at their shift, freed tables, early finishes. */
static void gather(struct fx *x)
{
	uint64_t base = 14 * x->big;
	struct vpte_map_opts pages = { x->f->granule_shift, 0 };
	struct vpte_gather g;
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), x->big, rw, &pages), 0);
	/* what stays: the root and the tables down to the big leaf's */
	uint64_t stays = 1 + (vpte_top_level(x->f) - x->big_level), tables = x->mem.live - stays;
	vpte_gather_init(&g, &x->t, note, NULL);
	invalidations = 0;
	inval_last = 0;
	pages_freed = 0;
	CHECK_EQ(vpte_collapse(&x->t, vpte_va(base), x->big, 0, &g), 0);
	vpte_gather_finish(&g);
	/* More than a batch of tables went: finished early at least once.
	 * arm64 invalidates the piece once more, between the break and the
	 * make (docs/concurrency.md). */
	CHECK_EQ(invalidations, (tables + VPTE_GATHER_BATCH - 1) / VPTE_GATHER_BATCH +
					!strncmp(x->f->name, "arm64", 5));
	CHECK_EQ(pages_freed, tables);
	CHECK_EQ(inval_start, base);
	CHECK_EQ(inval_last, base + x->big - 1);
	CHECK_EQ(inval_min_shift, x->f->granule_shift);
	CHECK_EQ(x->mem.live, stays);

	/* Nothing left to do: nothing changes, nothing is gathered. */
	struct test_snapshot before, after;
	snapshot_take(&before, &x->t);
	invalidations = 0;
	CHECK_EQ(vpte_collapse(&x->t, vpte_va(base), x->big, 0, &g), 0);
	vpte_gather_finish(&g);
	CHECK_EQ(invalidations, 0);
	snapshot_take(&after, &x->t);
	CHECK(snapshot_equal(&before, &after));
	snapshot_free(&before);
	snapshot_free(&after);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), x->big, NULL), 0);
}

static void invalid(struct fx *x)
{
	uint64_t base = 16 * x->big;
	unsigned bad[] = { 1, x->f->granule_shift - 1u, 64, 1000 };
	struct vpte_map_opts pages = { x->f->granule_shift, 0 };
	struct test_snapshot before, after;
	CHECK_EQ(vpte_map(&x->t, vpte_va(base), vpte_pa(x->pa), 4 * x->g, rw, &pages), 0);
	snapshot_take(&before, &x->t);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(collapse(x, base, 4 * x->g, bad[i]), -VPTE_EINVAL);
	/* the granule itself: a valid limit that merges nothing */
	CHECK_EQ(collapse(x, base, 4 * x->g, x->f->granule_shift), 0);
	snapshot_take(&after, &x->t);
	CHECK(snapshot_equal(&before, &after));
	snapshot_free(&before);
	snapshot_free(&after);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(base), 4 * x->g, NULL), 0);
}

static void cases(const struct vpte_format *f)
{
	struct fx x;
	fx_open(&x, f);
	whole(&x);
	stretches(&x);
	access_flags(&x);
	gather(&x);
	invalid(&x);
	fx_close(&x);
}

int main(void)
{
	return test_every_format("test_collapse", cases);
}
