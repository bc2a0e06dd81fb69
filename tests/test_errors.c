/* SPDX-License-Identifier: MIT */
/*
 * test_errors.c - every error case of DESIGN.md "Errors and safety", in
 * every format: the return code, and that nothing changed (a snapshot of
 * every entry and the count of live table pages; for images, every byte).
 *
 *   EINVAL  zero, misaligned or wrapping sizes, misaligned VA or PA,
 *           non-canonical VA, bad prot, bad option, bad iteration mode
 *   ERANGE  VA beyond the width, a range leaving its half, PA beyond pa_bits
 *   EEXIST  overlap, partial overlap with a huge leaf or a run, insert of
 *           another PA or other attributes
 *   ENOMEM  the root in vpte_table_init, tables for a map or a split
 *   EFAULT  table entries pointing outside the image, entries with bits the
 *           hardware faults on (per family); seek, iteration and every edit
 *   EROFS   edits of a table attached read-only
 *   EPERM   (vpte_seek_flags refusing a special leaf: test_special)
 * and vpte_strerror for each.
 */
#include <limits.h>
#include <stdbool.h>

#include "testlib.h"

static bool family(const struct vpte_format *f, const char *prefix)
{
	return strncmp(f->name, prefix, strlen(prefix)) == 0;
}

static uint64_t space_of(const struct vpte_format *f)
{
	return 1ull << f->va_bits;
}

/* The canonical VA of index address @ia. */
static uint64_t va_of(const struct vpte_format *f, uint64_t ia)
{
	uint64_t half = space_of(f) / 2;
	return f->sign_extend && ia >= half ? ia | ~(space_of(f) - 1) : ia;
}

/* ------------------------------------------------------------------------
 * A table with a little of everything, and "nothing changed" checks
 * ------------------------------------------------------------------------ */
struct fx {
	const struct vpte_format *f;
	struct test_mem mem;
	struct vpte_table t;
	struct test_snapshot snap;
	uint64_t live;
	uint64_t g;                  /* granule */
	unsigned s1;                 /* level 1 shift: the smallest huge leaf */
	uint64_t huge_va, huge_pa;   /* one leaf of 2^s1 */
	uint64_t run_va, run_pa;     /* a level-0 contiguous run (0 if none) */
	uint64_t run_size;
	uint64_t page_va, page_pa;   /* two single pages */
	uint64_t hole;               /* nothing mapped within 2^s1 around */
	uint64_t pa;                 /* a free, aligned PA for new maps */
	struct vpte_prot prot;
	unsigned cases;
};

static struct vpte_prot prot_of(uint32_t flags, uint32_t memtype, uint64_t raw)
{
	struct vpte_prot p = { flags, memtype, raw };
	return p;
}

static int map(struct fx *x, uint64_t va, uint64_t pa, uint64_t size, struct vpte_prot prot,
	       const struct vpte_map_opts *opts)
{
	return vpte_map(&x->t, vpte_va(va), vpte_pa(pa), size, prot, opts);
}

static int unmap(struct fx *x, uint64_t va, uint64_t size)
{
	return vpte_unmap(&x->t, vpte_va(va), size, NULL);
}

/* Each edit that takes only a range, by name: write-protect it. */
static const struct vpte_prot no_prot = { 0, 0, 0 }, write_prot = { VPTE_W, 0, 0 };

static int protect(struct fx *x, uint64_t va, uint64_t size)
{
	return vpte_protect(&x->t, vpte_va(va), size, no_prot, write_prot, NULL);
}

/* ... split it to pages. */
static int split(struct fx *x, uint64_t va, uint64_t size)
{
	return vpte_split(&x->t, vpte_va(va), size, x->f->granule_shift, NULL);
}

/* ... collapse it. */
static int collapse(struct fx *x, uint64_t va, uint64_t size)
{
	return vpte_collapse(&x->t, vpte_va(va), size, 0, NULL);
}

static void fx_open(struct fx *x, const struct vpte_format *f)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	x->g = 1ull << f->granule_shift;
	x->s1 = vpte_level_shift(f, 1);
	x->prot = prot_of(VPTE_R | VPTE_W, VPTE_MT_WB, 0);
	CHECK_EQ(vpte_table_init(&x->t, f, test_mem(&x->mem)), 0);

	uint64_t unit = 1ull << x->s1, pa = 1ull << (f->pa_bits - 2);
	struct vpte_map_opts one = { x->s1, 0 };
	x->huge_va = 4 * unit;
	x->huge_pa = pa;
	CHECK_EQ(map(x, x->huge_va, x->huge_pa, unit, x->prot, &one), 0);
	if (f->cont_bits[0]) {
		x->run_size = x->g << f->cont_bits[0];
		x->run_va = 6 * unit;
		x->run_pa = pa + 2 * unit;
		CHECK_EQ(map(x, x->run_va, x->run_pa, x->run_size, x->prot, NULL), 0);
	}
	x->page_va = 8 * unit + x->g;
	x->page_pa = pa + 4 * unit + x->g;
	CHECK_EQ(map(x, x->page_va, x->page_pa, 2 * x->g, x->prot, NULL), 0);
	/* The last page of the space. */
	CHECK_EQ(map(x, va_of(f, space_of(f) - x->g), pa + 6 * unit, x->g, x->prot, NULL), 0);
	x->hole = 12 * unit;
	x->pa = pa + 8 * unit;

	snapshot_take(&x->snap, &x->t);
	x->live = x->mem.live;
	CHECK_EQ(x->snap.error, 0);
}

static void fx_close(struct fx *x)
{
	snapshot_free(&x->snap);
	CHECK_EQ(vpte_table_destroy(&x->t), 0);
	CHECK_EQ(x->mem.live, 0);
}

/* The table is exactly as fx_open() left it. */
static void fx_same(struct fx *x, int line, const char *what)
{
	struct test_snapshot now;
	snapshot_take(&now, &x->t);
	if (!snapshot_equal(&x->snap, &now) || x->mem.live != x->live) {
		fprintf(stderr, "%s:%d: %s: %s changed the table (live %" PRIu64 " -> %" PRIu64 ")\n",
			__FILE__, line, x->f->name, what, x->live, x->mem.live);
		test_failures++;
	}
	snapshot_free(&now);
}

static void fx_expect(struct fx *x, int line, int got, int want, const char *what)
{
	x->cases++;
	if (got != want) {
		fprintf(stderr, "%s:%d: %s: %s returned %d (%s), expected %d (%s)\n", __FILE__, line,
			x->f->name, what, got, vpte_strerror(got), want, vpte_strerror(want));
		test_failures++;
	}
	fx_same(x, line, what);
}

/* EXPECT(x, call, code): @call returns @code and changes nothing. */
#define EXPECT(x, call, code) fx_expect((x), __LINE__, (call), (code), #call)

static int seek(struct fx *x, uint64_t va)
{
	struct vpte_walk w;
	return vpte_seek(&w, &x->t, vpte_va(va));
}

/* vpte_iter_start's result; its error must also be in w.error and stay. */
static int iter(struct fx *x, uint64_t va, uint64_t size, unsigned mode)
{
	struct vpte_walk w;
	int err = vpte_iter_start(&w, &x->t, vpte_va(va), size, mode);
	if (err < 0 && (w.error != err || vpte_iter_next(&w) != err)) {
		fprintf(stderr, "%s: iteration error %d not kept in the walk\n", x->f->name, err);
		test_failures++;
	}
	return err;
}

/* ------------------------------------------------------------------------
 * EINVAL
 * ------------------------------------------------------------------------ */
static void test_einval(struct fx *x)
{
	const struct vpte_format *f = x->f;
	uint64_t g = x->g, h = x->hole, pa = x->pa;
	struct vpte_prot p = x->prot;

	/* zero size */
	EXPECT(x, map(x, h, pa, 0, p, NULL), -VPTE_EINVAL);
	EXPECT(x, unmap(x, h, 0), -VPTE_EINVAL);
	EXPECT(x, protect(x, h, 0), -VPTE_EINVAL);
	EXPECT(x, split(x, h, 0), -VPTE_EINVAL);
	EXPECT(x, collapse(x, h, 0), -VPTE_EINVAL);
	EXPECT(x, iter(x, h, 0, VPTE_ITER_LEAVES), -VPTE_EINVAL);
	/* misaligned VA */
	EXPECT(x, map(x, h + 8, pa, g, p, NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h + g / 2, pa, g, p, NULL), -VPTE_EINVAL);
	EXPECT(x, unmap(x, x->huge_va + g / 2, g), -VPTE_EINVAL);
	EXPECT(x, protect(x, x->huge_va + g / 2, g), -VPTE_EINVAL);
	EXPECT(x, split(x, x->huge_va + g / 2, g), -VPTE_EINVAL);
	EXPECT(x, collapse(x, x->huge_va + g / 2, g), -VPTE_EINVAL);
	/* misaligned PA */
	EXPECT(x, map(x, h, pa + 8, g, p, NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa + g / 2, 4 * g, p, NULL), -VPTE_EINVAL);
	/* misaligned size */
	EXPECT(x, map(x, h, pa, g + 8, p, NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g / 2, p, NULL), -VPTE_EINVAL);
	EXPECT(x, unmap(x, x->huge_va, g + g / 2), -VPTE_EINVAL);
	EXPECT(x, protect(x, x->huge_va, g + g / 2), -VPTE_EINVAL);
	EXPECT(x, split(x, x->huge_va, g + g / 2), -VPTE_EINVAL);
	EXPECT(x, collapse(x, x->huge_va, g + g / 2), -VPTE_EINVAL);
	/* non-canonical VA: bits above va_bits - 1 not all equal to it */
	if (f->sign_extend) {
		uint64_t nc[] = { 1ull << (f->va_bits - 1), ~0ull << f->va_bits, 1ull << 63,
				  (1ull << 63) - g };
		for (unsigned i = 0; i < sizeof(nc) / sizeof(nc[0]); i++) {
			EXPECT(x, map(x, nc[i], pa, g, p, NULL), -VPTE_EINVAL);
			EXPECT(x, unmap(x, nc[i], g), -VPTE_EINVAL);
			EXPECT(x, protect(x, nc[i], g), -VPTE_EINVAL);
			EXPECT(x, split(x, nc[i], g), -VPTE_EINVAL);
			EXPECT(x, collapse(x, nc[i], g), -VPTE_EINVAL);
			EXPECT(x, seek(x, nc[i]), -VPTE_EINVAL);
			EXPECT(x, iter(x, nc[i], g, VPTE_ITER_ALL), -VPTE_EINVAL);
		}
	}
	/* a range wrapping past 2^64 */
	EXPECT(x, map(x, 0 - g, pa, 2 * g, p, NULL), -VPTE_EINVAL);
	EXPECT(x, unmap(x, 0 - g, 2 * g), -VPTE_EINVAL);
	EXPECT(x, protect(x, 0 - g, 2 * g), -VPTE_EINVAL);
	EXPECT(x, split(x, 0 - g, 2 * g), -VPTE_EINVAL);
	EXPECT(x, collapse(x, 0 - g, 2 * g), -VPTE_EINVAL);
	EXPECT(x, map(x, 2 * g, pa, 0 - g, p, NULL), -VPTE_EINVAL);
	EXPECT(x, unmap(x, 2 * g, 0 - g), -VPTE_EINVAL);
	EXPECT(x, protect(x, 2 * g, 0 - g), -VPTE_EINVAL);
	EXPECT(x, split(x, 2 * g, 0 - g), -VPTE_EINVAL);
	EXPECT(x, collapse(x, 2 * g, 0 - g), -VPTE_EINVAL);
	EXPECT(x, iter(x, 0 - g, 2 * g, VPTE_ITER_LEAVES), -VPTE_EINVAL);
	/* a PA range wrapping past 2^64 */
	EXPECT(x, map(x, h, 0 - g, 2 * g, p, NULL), -VPTE_EINVAL);

	/* bad prot */
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_W, 0, 0), NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_W | VPTE_X, 0, 0), NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g, prot_of(0, 0, 0), NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_U | VPTE_G, 0, 0), NULL), -VPTE_EINVAL);
	if (family(f, "riscv")) {
		/* execute-only exists on RISC-V alone: map it, then undo */
		CHECK_EQ(map(x, h, pa, g, prot_of(VPTE_X, 0, 0), NULL), 0);
		CHECK_EQ(unmap(x, h, g), 0);
		fx_same(x, __LINE__, "execute-only map and unmap");
	} else {
		EXPECT(x, map(x, h, pa, g, prot_of(VPTE_X, 0, 0), NULL), -VPTE_EINVAL);
		EXPECT(x, map(x, h, pa, g, prot_of(VPTE_X | VPTE_U, 0, 0), NULL), -VPTE_EINVAL);
	}
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_R, VPTE_MT_OTHER, 0), NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_R, 4, 0), NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_R, UINT32_MAX, 0), NULL), -VPTE_EINVAL);
	uint64_t outside = ~f->raw_mask & (0 - ~f->raw_mask); /* lowest bit not in raw_mask */
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_R, 0, outside), NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_R, 0, f->raw_mask | outside), NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_R, 0, ~f->raw_mask), NULL), -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_R | (VPTE_PROT_FLAGS + 1), 0, 0), NULL),
	       -VPTE_EINVAL);
	EXPECT(x, map(x, h, pa, g, prot_of(VPTE_R | (1u << 31), 0, 0), NULL), -VPTE_EINVAL);
	/* raw bits inside the mask are fine */
	CHECK_EQ(map(x, h, pa, g, prot_of(VPTE_R, 0, f->raw_mask), NULL), 0);
	CHECK_EQ(unmap(x, h, g), 0);
	fx_same(x, __LINE__, "map with raw_mask, unmap");

	/* bad options */
	struct vpte_map_opts o[] = {
		{ 0, 1u << 1 },
		{ 0, 1u << 31 },
		{ f->granule_shift - 1, 0 },
		{ 1, 0 },
		{ 64, 0 },
		{ 1000, 0 },
	};
	for (unsigned i = 0; i < sizeof(o) / sizeof(o[0]); i++)
		EXPECT(x, map(x, h, pa, g, p, &o[i]), -VPTE_EINVAL);
	struct vpte_map_opts least = { f->granule_shift, 0 }, most = { 63, 0 };
	CHECK_EQ(map(x, h, pa, g, p, &least), 0);
	CHECK_EQ(map(x, h + g, pa + g, g, p, &most), 0);
	CHECK_EQ(unmap(x, h, 2 * g), 0);
	fx_same(x, __LINE__, "map with max_shift at the granule and 63, unmap");

	/* bad iteration mode */
	EXPECT(x, iter(x, h, g, VPTE_ITER_ALL + 1), -VPTE_EINVAL);
	EXPECT(x, iter(x, h, g, 1u << 31), -VPTE_EINVAL);

	/* bad arguments to table setup */
	struct test_mem mem = { 0 };
	struct vpte_mem good = test_mem(&mem), none = { NULL, &mem, NULL };
	struct vpte_mem_ops no_alloc = { NULL, test_mem_ops.free, test_mem_ops.phys_to_virt,
					 NULL, NULL, NULL };
	struct vpte_mem_ops no_virt = { test_mem_ops.alloc, test_mem_ops.free, NULL, NULL, NULL, NULL };
	struct vpte_mem noalloc = { &no_alloc, &mem, NULL }, novirt = { &no_virt, &mem, NULL };
	struct vpte_table t;
	x->cases += 9;
	CHECK_EQ(vpte_table_init(NULL, f, good), -VPTE_EINVAL);
	CHECK_EQ(vpte_table_init(&t, NULL, good), -VPTE_EINVAL);
	CHECK_EQ(vpte_table_init(&t, f, none), -VPTE_EINVAL);
	CHECK_EQ(vpte_table_init(&t, f, noalloc), -VPTE_EINVAL);
	CHECK_EQ(vpte_table_init(&t, f, novirt), -VPTE_EINVAL);
	CHECK_EQ(mem.attempts, 0);
	CHECK_EQ(vpte_table_attach(&t, f, good, vpte_pa(x->t.root.addr + 8), 0), -VPTE_EINVAL);
	CHECK_EQ(vpte_table_attach(&t, f, good, vpte_pa(x->t.root.addr + g / 2), 0), -VPTE_EINVAL);
	CHECK_EQ(vpte_table_attach(&t, f, good, x->t.root, 1u << 2), -VPTE_EINVAL);
	CHECK_EQ(vpte_table_attach(&t, f, good, x->t.root, VPTE_TABLE_NO_HW_UPDATES), 0);
	CHECK_EQ(t.flags, VPTE_TABLE_NO_HW_UPDATES);
	vpte_table_set_hw_updates(&t, true);
	CHECK_EQ(t.flags, 0);
	CHECK_EQ(vpte_table_attach(&t, f, noalloc, x->t.root, 0), -VPTE_EINVAL);
	/* read-only needs phys_to_virt alone */
	CHECK_EQ(vpte_table_attach(&t, f, noalloc, x->t.root, VPTE_TABLE_READONLY), 0);
	CHECK_EQ(vpte_table_attach(&t, f, novirt, x->t.root, VPTE_TABLE_READONLY), -VPTE_EINVAL);
	fx_same(x, __LINE__, "table setup");
}

/* ------------------------------------------------------------------------
 * ERANGE
 * ------------------------------------------------------------------------ */
static void test_erange(struct fx *x)
{
	const struct vpte_format *f = x->f;
	uint64_t g = x->g, h = x->hole, pa = x->pa, space = space_of(f);
	struct vpte_prot p = x->prot;

	if (!f->sign_extend) {
		/* VA beyond the width, and a range leaving the space */
		uint64_t far[] = { space, space + g, 1ull << 63, 0 - g };
		for (unsigned i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
			EXPECT(x, map(x, far[i], pa, g, p, NULL), -VPTE_ERANGE);
			EXPECT(x, unmap(x, far[i], g), -VPTE_ERANGE);
			EXPECT(x, protect(x, far[i], g), -VPTE_ERANGE);
			EXPECT(x, split(x, far[i], g), -VPTE_ERANGE);
			EXPECT(x, collapse(x, far[i], g), -VPTE_ERANGE);
			EXPECT(x, seek(x, far[i]), -VPTE_ERANGE);
			EXPECT(x, iter(x, far[i], g, VPTE_ITER_ALL), -VPTE_ERANGE);
		}
		EXPECT(x, map(x, space - g, pa, 2 * g, p, NULL), -VPTE_ERANGE);
		EXPECT(x, unmap(x, space - g, 2 * g), -VPTE_ERANGE);
		EXPECT(x, protect(x, space - g, 2 * g), -VPTE_ERANGE);
		EXPECT(x, split(x, space - g, 2 * g), -VPTE_ERANGE);
		EXPECT(x, collapse(x, space - g, 2 * g), -VPTE_ERANGE);
		EXPECT(x, iter(x, space - g, 2 * g, VPTE_ITER_LEAVES), -VPTE_ERANGE);
		EXPECT(x, iter(x, 0, space + g, VPTE_ITER_LEAVES), -VPTE_ERANGE);
	} else {
		/* a range leaving the lower half for the non-canonical hole */
		uint64_t top = space / 2;
		EXPECT(x, map(x, top - g, pa, 2 * g, p, NULL), -VPTE_ERANGE);
		EXPECT(x, unmap(x, top - g, 2 * g), -VPTE_ERANGE);
		EXPECT(x, unmap(x, 0, top + g), -VPTE_ERANGE);
		EXPECT(x, protect(x, 0, top + g), -VPTE_ERANGE);
		EXPECT(x, split(x, 0, top + g), -VPTE_ERANGE);
		EXPECT(x, collapse(x, 0, top + g), -VPTE_ERANGE);
		EXPECT(x, iter(x, top - g, 2 * g, VPTE_ITER_LEAVES), -VPTE_ERANGE);
		EXPECT(x, iter(x, 0, 1ull << 63, VPTE_ITER_ALL), -VPTE_ERANGE);
	}

	/* PA beyond the format's width: x86-64 52 bits, arm64 48, RISC-V 56 */
	unsigned want = family(f, "x86_64") ? 52 : family(f, "arm64") ? 48 : 56;
	CHECK_EQ(f->pa_bits, want);
	uint64_t limit = 1ull << f->pa_bits;
	EXPECT(x, map(x, h, limit, g, p, NULL), -VPTE_ERANGE);
	EXPECT(x, map(x, h, limit - g, 2 * g, p, NULL), -VPTE_ERANGE);
	EXPECT(x, map(x, h, 1ull << 63, g, p, NULL), -VPTE_ERANGE);
	EXPECT(x, map(x, h, limit - g, 1ull << x->s1, p, NULL), -VPTE_ERANGE);
	/* the last page below the limit maps */
	CHECK_EQ(map(x, h, limit - g, g, p, NULL), 0);
	CHECK_EQ(unmap(x, h, g), 0);
	fx_same(x, __LINE__, "map of the last PA page, unmap");

	struct test_mem mem = { 0 };
	struct vpte_table t;
	x->cases++;
	CHECK_EQ(vpte_table_attach(&t, f, test_mem(&mem), vpte_pa(limit), 0), -VPTE_ERANGE);
}

/* ------------------------------------------------------------------------
 * EEXIST
 * ------------------------------------------------------------------------ */
static void test_eexist(struct fx *x)
{
	uint64_t g = x->g, unit = 1ull << x->s1, hv = x->huge_va, hp = x->huge_pa;
	struct vpte_prot p = x->prot, other = p;
	struct vpte_map_opts ins = { 0, VPTE_MAP_INSERT };
	other.flags ^= VPTE_G;

	/* overlap: the same map again, and pieces of it */
	EXPECT(x, map(x, hv, hp, unit, p, NULL), -VPTE_EEXIST);
	EXPECT(x, map(x, hv + g, hp + g, g, p, NULL), -VPTE_EEXIST);
	EXPECT(x, map(x, x->page_va, x->page_pa, g, p, NULL), -VPTE_EEXIST);
	/* partial overlap with a huge leaf, from either side */
	EXPECT(x, map(x, hv + unit - g, x->pa, 2 * g, p, NULL), -VPTE_EEXIST);
	EXPECT(x, map(x, hv - g, x->pa, 2 * g, p, NULL), -VPTE_EEXIST);
	EXPECT(x, map(x, hv - unit, x->pa, 3 * unit, p, NULL), -VPTE_EEXIST);
	/* ... and with a contiguous run */
	if (x->run_size) {
		EXPECT(x, map(x, x->run_va + 2 * g, x->pa, g, p, NULL), -VPTE_EEXIST);
		EXPECT(x, map(x, x->run_va - g, x->pa, 2 * g, p, NULL), -VPTE_EEXIST);
	}
	/* insert with another PA */
	EXPECT(x, map(x, hv, hp + unit, unit, p, &ins), -VPTE_EEXIST);
	EXPECT(x, map(x, hv + g, hp, g, p, &ins), -VPTE_EEXIST);
	EXPECT(x, map(x, x->page_va, x->page_pa + g, g, p, &ins), -VPTE_EEXIST);
	/* insert with other attributes */
	EXPECT(x, map(x, hv, hp, unit, other, &ins), -VPTE_EEXIST);
	EXPECT(x, map(x, hv + unit - g, hp + unit - g, g, other, &ins), -VPTE_EEXIST);
	other = p;
	other.memtype = VPTE_MT_DEVICE;
	EXPECT(x, map(x, x->page_va, x->page_pa, 2 * g, other, &ins), -VPTE_EEXIST);
	if (x->run_size) {
		other = p;
		other.flags &= ~VPTE_W;
		EXPECT(x, map(x, x->run_va, x->run_pa, x->run_size, other, &ins), -VPTE_EEXIST);
	}
	/* insert over a hole and then a conflict: the hole stays a hole */
	EXPECT(x, map(x, x->page_va - g, x->page_pa - g + 2 * g, 3 * g, p, &ins), -VPTE_EEXIST);
	EXPECT(x, map(x, hv - unit, hp - unit, 2 * unit, other, &ins), -VPTE_EEXIST);

	/* insert of what is already there: accepted, nothing changes */
	EXPECT(x, map(x, hv, hp, unit, p, &ins), 0);
	EXPECT(x, map(x, hv + 3 * g, hp + 3 * g, 2 * g, p, &ins), 0);
	EXPECT(x, map(x, x->page_va, x->page_pa, 2 * g, p, &ins), 0);
	if (x->run_size)
		EXPECT(x, map(x, x->run_va + g, x->run_pa + g, g, p, &ins), 0);
}

/* ------------------------------------------------------------------------
 * ENOMEM
 * ------------------------------------------------------------------------ */
static void test_enomem(struct fx *x)
{
	const struct vpte_format *f = x->f;
	struct test_mem mem = { .fail_at = 1 };
	struct vpte_table t, pattern;

	/* the root */
	memset(&t, 0x5a, sizeof(t));
	memset(&pattern, 0x5a, sizeof(pattern));
	x->cases++;
	CHECK_EQ(vpte_table_init(&t, f, test_mem(&mem)), -VPTE_ENOMEM);
	CHECK_EQ(mem.live, 0);
	CHECK(!memcmp(&t, &pattern, sizeof(t)));

	/* a map into an empty top-level entry: count its tables (map, unmap:
	 * the table is as before), then fail each allocation in turn */
	uint64_t far = va_of(f, space_of(f) / 2 + 5 * x->g), attempts = x->mem.attempts;
	CHECK_EQ(map(x, far, x->pa, x->g, x->prot, NULL), 0);
	uint64_t k = x->mem.attempts - attempts;
	CHECK_EQ(unmap(x, far, x->g), 0);
	fx_same(x, __LINE__, "map and unmap");
	CHECK(k >= 1);
	for (uint64_t i = 1; i <= k; i++) {
		x->mem.fail_at = x->mem.attempts + i;
		EXPECT(x, map(x, far, x->pa, x->g, x->prot, NULL), -VPTE_ENOMEM);
	}
	/* the split of a huge leaf: inside it, and across its end */
	x->mem.fail_at = x->mem.attempts + 1;
	EXPECT(x, unmap(x, x->huge_va + x->g, x->g), -VPTE_ENOMEM);
	x->mem.fail_at = x->mem.attempts + 1;
	EXPECT(x, unmap(x, x->huge_va + (1ull << x->s1) - x->g, 2 * x->g), -VPTE_ENOMEM);
	x->mem.fail_at = x->mem.attempts + 1;
	EXPECT(x, protect(x, x->huge_va + x->g, x->g), -VPTE_ENOMEM);
	x->mem.fail_at = x->mem.attempts + 1;
	EXPECT(x, split(x, x->huge_va + x->g, x->g), -VPTE_ENOMEM);
	/* a split needing many tables, failing at the last one */
	if (f->levels > 2) {
		uint64_t s2 = 1ull << vpte_level_shift(f, 2), big = 14 * s2;
		struct vpte_map_opts one = { vpte_level_shift(f, 2), 0 };
		if (f->leaf_levels & (1u << 2)) {
			CHECK_EQ(map(x, big, 1ull << (f->pa_bits - 3), s2, x->prot, &one), 0);
			snapshot_free(&x->snap);
			snapshot_take(&x->snap, &x->t);
			x->live = x->mem.live;
			uint64_t tables = 1 + (s2 >> x->s1);
			x->mem.fail_at = x->mem.attempts + tables;
			EXPECT(x, split(x, big, s2), -VPTE_ENOMEM);
			x->mem.fail_at = 0;
			CHECK_EQ(unmap(x, big, s2), 0);
			snapshot_free(&x->snap);
			snapshot_take(&x->snap, &x->t);
			x->live = x->mem.live;
		}
	}
	x->mem.fail_at = 0;
}

/* ------------------------------------------------------------------------
 * EROFS
 * ------------------------------------------------------------------------ */
static void test_erofs(struct fx *x)
{
	struct vpte_table ro;
	struct vpte_walk w;
	CHECK_EQ(vpte_table_attach(&ro, x->f, x->t.mem, x->t.root, VPTE_TABLE_READONLY), 0);
	x->cases += 11;
	CHECK_EQ(vpte_map(&ro, vpte_va(x->hole), vpte_pa(x->pa), x->g, x->prot, NULL), -VPTE_EROFS);
	CHECK_EQ(vpte_protect(&ro, vpte_va(x->huge_va), 1ull << x->s1, no_prot, write_prot, NULL),
		 -VPTE_EROFS);
	CHECK_EQ(vpte_protect(&ro, vpte_va(x->huge_va + x->g), x->g, no_prot, write_prot, NULL),
		 -VPTE_EROFS);
	CHECK_EQ(vpte_split(&ro, vpte_va(x->huge_va), x->g, x->f->granule_shift, NULL), -VPTE_EROFS);
	CHECK_EQ(vpte_split(&ro, vpte_va(x->hole), x->g, x->f->granule_shift, NULL), -VPTE_EROFS);
	CHECK_EQ(vpte_collapse(&ro, vpte_va(x->huge_va), 1ull << x->s1, 0, NULL), -VPTE_EROFS);
	CHECK_EQ(vpte_collapse(&ro, vpte_va(x->hole), x->g, 0, NULL), -VPTE_EROFS);
	CHECK_EQ(vpte_unmap(&ro, vpte_va(x->huge_va), 1ull << x->s1, NULL), -VPTE_EROFS);
	CHECK_EQ(vpte_unmap(&ro, vpte_va(x->huge_va + x->g), x->g, NULL), -VPTE_EROFS);
	/* reading works, destroying frees nothing */
	CHECK_EQ(vpte_seek(&w, &ro, vpte_va(x->huge_va)), 0);
	CHECK_EQ(w.kind, VPTE_LEAF);
	CHECK_EQ(vpte_table_destroy(&ro), 0);
	fx_same(x, __LINE__, "read-only edits");
}

/* ------------------------------------------------------------------------
 * EFAULT: images crafted from a table built in an arena
 * ------------------------------------------------------------------------ */
#define ARENA_BASE 0x40000000ull

struct crafted {
	const struct vpte_format *f;
	struct vpte_arena arena;
	struct vpte_table t; /* the arena table: writable and bounds-checked */
	uint64_t g;
};

static void craft_open(struct crafted *c, const struct vpte_format *f)
{
	memset(c, 0, sizeof(*c));
	c->f = f;
	c->g = 1ull << f->granule_shift;
	CHECK_EQ(vpte_arena_init(&c->arena, vpte_pa(ARENA_BASE), 64 * c->g), 0);
	CHECK_EQ(vpte_table_init(&c->t, f, vpte_arena_mem(&c->arena)), 0);
}

static void craft_close(struct crafted *c)
{
	vpte_arena_release(&c->arena);
}

/* The entry at @level on the path to @va, in the arena's bytes. */
static uint64_t *craft_entry(struct crafted *c, uint64_t va, unsigned level)
{
	const struct vpte_format *f = c->f;
	uint64_t table = c->t.root.addr, ia = va & (space_of(f) - 1);
	struct vpte_walk w;
	vpte_for_each_entry(&w, &c->t, vpte_va(va), c->g, VPTE_ITER_TABLES)
		if (w.kind == VPTE_TABLE && w.level > level)
			table = w.pa.addr;
	unsigned index = (unsigned)(ia >> vpte_level_shift(f, level)) & ((1u << f->level_bits[level]) - 1);
	return (uint64_t *)(c->arena.bytes + (table - ARENA_BASE)) + index;
}

/* A table entry pointing to @pa, encoded by hand from the manuals. */
static uint64_t raw_table_entry(const struct vpte_format *f, uint64_t pa)
{
	if (family(f, "x86_64"))
		return pa | 0x27; /* P RW US A (SDM Vol. 3A, Table 4-17) */
	if (family(f, "arm64"))
		return pa | 0x3; /* valid, table (DDI 0487, D8.3.1) */
	return (pa >> 12) << 10 | 0x1; /* V, R = W = X = 0 (Priv. spec 4.3.1) */
}

/* An image (a copy of the arena's bytes) viewed at @base. */
struct image {
	uint64_t *words;
	uint64_t size;
	struct vpte_image img;
	struct vpte_table ro, rw;
};

static void image_open(struct image *m, struct crafted *c, uint64_t base)
{
	m->size = c->arena.used;
	m->words = aligned_alloc(1u << 16, (m->size + 0xffff) & ~0xffffull);
	memcpy(m->words, c->arena.bytes, m->size);
	vpte_image_view(&m->img, m->words, m->size, vpte_pa(base));
	uint64_t root = c->t.root.addr - ARENA_BASE + base;
	CHECK_EQ(vpte_table_attach(&m->ro, c->f, vpte_image_mem(&m->img), vpte_pa(root),
				   VPTE_TABLE_READONLY), 0);
	CHECK_EQ(vpte_table_attach(&m->rw, c->f, vpte_image_mem(&m->img), vpte_pa(root), 0), 0);
}

static void image_close(struct image *m)
{
	free(m->words);
}

static unsigned long efault_cases;

/*
 * Everything that reads @va's path must report -EFAULT: seek, leaf and
 * detailed iteration, stats; map and unmap over it on a writable
 * attachment must also change no byte of the image.
 */
static void expect_efault(struct crafted *c, uint64_t base, uint64_t va, const char *what)
{
	const struct vpte_format *f = c->f;
	struct image m;
	struct vpte_walk w;
	struct vpte_stats st;
	vpte_va_t start[2];
	uint64_t size[2];
	unsigned halves = vpte_va_space(f, start, size), h = va >= start[halves - 1].addr ? halves - 1 : 0;
	struct vpte_prot p = { VPTE_R, VPTE_MT_WB, 0 };
	int line = 0;

	image_open(&m, c, base);
	void *copy = malloc(m.size);
	memcpy(copy, m.words, m.size);
	efault_cases++;
#define EXPECT_EFAULT(call)                                                                     \
	do {                                                                                    \
		int err_ = (call);                                                              \
		if (err_ != -VPTE_EFAULT && !line)                                              \
			line = __LINE__;                                                        \
		if (err_ != -VPTE_EFAULT)                                                       \
			fprintf(stderr, "%s:%d: %s: %s at 0x%" PRIx64 ": %s returned %d\n",     \
				__FILE__, __LINE__, f->name, what, va, #call, err_);           \
	} while (0)
	EXPECT_EFAULT(vpte_seek(&w, &m.ro, vpte_va(va)));
	EXPECT_EFAULT(vpte_seek(&w, &m.rw, vpte_va(va)));
	vpte_for_each_leaf(&w, &m.ro, start[h], size[h]);
	EXPECT_EFAULT(w.error);
	vpte_for_each_entry(&w, &m.ro, start[h], size[h], VPTE_ITER_ALL);
	EXPECT_EFAULT(w.error);
	EXPECT_EFAULT(vpte_stats(&m.ro, start[h], size[h], &st));
	EXPECT_EFAULT(vpte_unmap(&m.rw, vpte_va(va), c->g, NULL));
	EXPECT_EFAULT(vpte_unmap(&m.rw, start[h], size[h], NULL));
	EXPECT_EFAULT(vpte_protect(&m.rw, vpte_va(va & ~(c->g - 1)), c->g, no_prot, write_prot, NULL));
	EXPECT_EFAULT(vpte_protect(&m.rw, start[h], size[h], no_prot, write_prot, NULL));
	EXPECT_EFAULT(vpte_split(&m.rw, vpte_va(va & ~(c->g - 1)), c->g, f->granule_shift, NULL));
	EXPECT_EFAULT(vpte_split(&m.rw, start[h], size[h], f->granule_shift, NULL));
	EXPECT_EFAULT(vpte_collapse(&m.rw, vpte_va(va & ~(c->g - 1)), c->g, 0, NULL));
	EXPECT_EFAULT(vpte_collapse(&m.rw, start[h], size[h], 0, NULL));
	EXPECT_EFAULT(vpte_map(&m.rw, vpte_va(va), vpte_pa(0), c->g, p, NULL));
	struct vpte_map_opts ins = { 0, VPTE_MAP_INSERT };
	EXPECT_EFAULT(vpte_map(&m.rw, vpte_va(va & ~(c->g - 1)), vpte_pa(0), c->g, p, &ins));
	if (memcmp(copy, m.words, m.size)) {
		fprintf(stderr, "%s: %s: a failed edit changed the image\n", f->name, what);
		line = __LINE__;
	}
#undef EXPECT_EFAULT
	if (line)
		test_failures++;
	free(copy);
	image_close(&m);
}

/* Corrupt the entry at @level on @va's path with @bits, check, restore. */
static void corrupt(struct crafted *c, uint64_t va, unsigned level, uint64_t set, uint64_t clear,
		    const char *what)
{
	uint64_t *e = craft_entry(c, va, level), old = *e;
	*e = (old | set) & ~clear;
	expect_efault(c, ARENA_BASE, va, what);
	*e = old;
}

static void test_efault(const struct vpte_format *f)
{
	struct crafted c;
	struct vpte_prot p = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts one_leaf = { 0, 0 };
	unsigned top = vpte_top_level(f);
	uint64_t s1 = 1ull << vpte_level_shift(f, 1), pa = 1ull << 40;

	craft_open(&c, f);
	/* a page and a level-1 huge leaf, in the lower half and at the top */
	uint64_t page = 3 * s1 + 5 * c.g, huge = 6 * s1, last = va_of(f, space_of(f) - c.g);
	one_leaf.max_shift = f->granule_shift;
	CHECK_EQ(vpte_map(&c.t, vpte_va(page), vpte_pa(pa), c.g, p, &one_leaf), 0);
	one_leaf.max_shift = vpte_level_shift(f, 1);
	CHECK_EQ(vpte_map(&c.t, vpte_va(huge), vpte_pa(pa + s1), s1, p, &one_leaf), 0);
	CHECK_EQ(vpte_map(&c.t, vpte_va(last), vpte_pa(pa + 2 * s1), c.g, p, NULL), 0);

	/* The same bytes at another base: every table entry points outside. */
	expect_efault(&c, ARENA_BASE + (1ull << 32), page, "table entry outside the image");
	expect_efault(&c, ARENA_BASE + (1ull << 32), last, "table entry outside the image");
	/* One entry pointing just past the image, and far beyond. */
	uint64_t *e = craft_entry(&c, page, 1), old = *e;
	*e = raw_table_entry(f, ARENA_BASE + c.arena.used);
	expect_efault(&c, ARENA_BASE, page, "table entry just past the image");
	*e = raw_table_entry(f, ARENA_BASE - c.g);
	expect_efault(&c, ARENA_BASE, page, "table entry just below the image");
	*e = old;

	if (family(f, "x86_64")) {
		/* PS is reserved in a PML4E (SDM Vol. 3A, Table 4-16). */
		corrupt(&c, page, 3, 1ull << 7, 0, "PS in a PML4E");
		if (top == 4)
			corrupt(&c, page, 4, 1ull << 7, 0, "PS in a PML5E");
		/* A 2 MiB page: bits 20:13 are reserved (Table 4-18). */
		corrupt(&c, huge, 1, 1ull << 13, 0, "2 MiB leaf with bit 13");
		corrupt(&c, huge, 1, 1ull << 20, 0, "2 MiB leaf with bit 20");
	} else if (family(f, "arm64")) {
		/* A block descriptor (0b01) where the granule has no blocks. */
		for (unsigned l = 1; l <= top; l++)
			if (!(f->leaf_levels & (1u << l)))
				corrupt(&c, page, l, 0, 1ull << 1, "block at a level without blocks");
		/* 0b01 at the page level is reserved (D8.3.2). */
		corrupt(&c, page, 0, 0, 1ull << 1, "page descriptor 0b01");
		/* Output address bits beyond 48 (FEAT_LPA) fault. */
		corrupt(&c, huge, 1, f->granule_shift == 16 ? 1ull << 12 : 1ull << 48,
			0, "block with OA bits above 47");
	} else {
		/* Priv. spec 4.3.1, Table 4.5: W without R is reserved. */
		corrupt(&c, page, 0, 0, 1ull << 1, "leaf with W and not R");
		corrupt(&c, huge, 1, 0, 1ull << 1, "superpage with W and not R");
		/* 4.3.2 step 6: a superpage with low PPN bits set is misaligned. */
		corrupt(&c, huge, 1, 1ull << 10, 0, "misaligned superpage");
		/* 4.3.2 step 4: a pointer at the last level faults. */
		corrupt(&c, page, 0, 0, 0xe, "pointer at level 0");
		/* Svnapot: N is reserved on a non-level-0 leaf. */
		corrupt(&c, huge, 1, 1ull << 63, 0, "N on a level-1 leaf");
		/* Bits 60:54 are reserved. */
		corrupt(&c, page, 0, 1ull << 54, 0, "reserved bit 54");
	}
	craft_close(&c);
}

/*
 * A corrupt entry just past an edit's range: the edit has no business
 * there and must neither read it nor fail.  The entry after a huge leaf
 * points to a table outside the arena; unmapping the leaf's upper part
 * splits it and must stop at its end.
 */
static void test_corrupt_neighbour(const struct vpte_format *f)
{
	struct crafted c;
	struct vpte_prot p = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts one = { vpte_level_shift(f, 1), 0 };
	uint64_t s1 = 1ull << vpte_level_shift(f, 1), huge = 6 * s1, pa = 1ull << 40;
	struct vpte_walk w;

	craft_open(&c, f);
	CHECK_EQ(vpte_map(&c.t, vpte_va(huge), vpte_pa(pa), s1, p, &one), 0);
	CHECK_EQ(vpte_map(&c.t, vpte_va(huge + s1), vpte_pa(pa + s1), c.g, p, &one), 0);
	CHECK_EQ(vpte_map(&c.t, vpte_va(huge - c.g), vpte_pa(pa - c.g), c.g, p, &one), 0);
	uint64_t *after = craft_entry(&c, huge + s1, 1), *before = craft_entry(&c, huge - c.g, 1);
	*after = raw_table_entry(f, 1ull << 44);
	*before = raw_table_entry(f, 1ull << 44);

	CHECK_EQ(vpte_protect(&c.t, vpte_va(huge + c.g), s1 - c.g, no_prot, write_prot, NULL), 0);
	CHECK_EQ(vpte_protect(&c.t, vpte_va(huge), c.g, no_prot, write_prot, NULL), 0);
	CHECK_EQ(vpte_split(&c.t, vpte_va(huge + s1 - c.g), c.g, f->granule_shift, NULL), 0);
	CHECK_EQ(vpte_collapse(&c.t, vpte_va(huge), s1, 0, NULL), 0);
	CHECK_EQ(vpte_seek(&w, &c.t, vpte_va(huge + c.g)), 0);
	CHECK_EQ(w.shift, vpte_level_shift(f, 1));
	CHECK_EQ(vpte_unmap(&c.t, vpte_va(huge + c.g), s1 - c.g, NULL), 0);
	CHECK_EQ(vpte_unmap(&c.t, vpte_va(huge), c.g, NULL), 0);
	CHECK_EQ(vpte_seek(&w, &c.t, vpte_va(huge)), 0);
	CHECK_EQ(w.kind, VPTE_HOLE);
	CHECK_EQ(vpte_seek(&w, &c.t, vpte_va(huge + s1)), -VPTE_EFAULT);
	/* and a map ending just before it */
	CHECK_EQ(vpte_map(&c.t, vpte_va(huge + c.g), vpte_pa(pa + c.g), s1 - c.g, p, NULL), 0);
	CHECK_EQ(vpte_map(&c.t, vpte_va(huge), vpte_pa(pa), c.g, p, NULL), 0);
	CHECK_EQ(vpte_seek(&w, &c.t, vpte_va(huge + s1 - c.g)), 0);
	CHECK_EQ(w.kind, VPTE_LEAF);
	craft_close(&c);
}

/*
 * An invalid entry with bits set (a swap-like entry of a foreign table)
 * among the leaves an unmap removes is not a leaf: it stays, and keeps its
 * table, whether the range starts and ends on leaves or on holes.
 */
static void test_invalid_kept(const struct vpte_format *f)
{
	struct crafted c;
	struct vpte_prot p = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts small = { f->granule_shift, 0 };
	const uint64_t invalid = 0x5a5a5a00; /* bit 0, valid in every format, clear */
	uint64_t s1 = 1ull << vpte_level_shift(f, 1), pa = 1ull << 40;
	struct vpte_walk w;

	craft_open(&c, f);
	for (unsigned hole_ends = 0; hole_ends < 2; hole_ends++) {
		uint64_t va = 6 * s1 + 4 * c.g, size = 8 * c.g;
		CHECK_EQ(vpte_map(&c.t, vpte_va(va), vpte_pa(pa), size, p, &small), 0);
		*craft_entry(&c, va + 3 * c.g, 0) = invalid;
		if (hole_ends) {
			va -= 2 * c.g;
			size += 4 * c.g;
		}
		CHECK_EQ(vpte_unmap(&c.t, vpte_va(va), size, NULL), 0);
		for (uint64_t off = 0; off < size; off += c.g) {
			CHECK_EQ(vpte_seek(&w, &c.t, vpte_va(va + off)), 0);
			CHECK_EQ(w.kind, VPTE_HOLE);
			CHECK_EQ(w.level, 0);
		}
		CHECK_EQ(*craft_entry(&c, 6 * s1 + 7 * c.g, 0), invalid);
		*craft_entry(&c, 6 * s1 + 7 * c.g, 0) = 0;
	}
	craft_close(&c);
}

/*
 * The same at each of the first and last 64 entries of a leaf table
 * full of leaves mapped alike but for its last entry, which stays empty
 * so that the unmap of the rest covers the table only in part (a table
 * the range covers goes whole, whatever it holds: clear_range()).  The
 * loops that pass over such leaves many at a test (skip_alike() sixteen,
 * eight and four at a step, the emptiness tests) must find the one entry
 * that is not a leaf at any place in their steps: the unmap keeps it and
 * its table.  Then a single leaf there: a map over it refuses the whole
 * range, and once it is unmapped the table goes.
 */
static void test_invalid_anywhere(const struct vpte_format *f)
{
	struct crafted c;
	struct vpte_prot p = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts small = { f->granule_shift, 0 };
	const uint64_t invalid = 0x5a5a5a00; /* as in test_invalid_kept() */
	uint64_t s1 = 1ull << vpte_level_shift(f, 1), pa = 1ull << 40, va = 6 * s1;
	struct vpte_walk w;
	struct vpte_stats st;

	craft_open(&c, f);
	uint64_t n = s1 / c.g - 1u, size = n * c.g;
	for (uint64_t i = 0; i < n; i = test_edge_next(i, n)) {
		uint64_t at = va + i * c.g;
		CHECK_EQ(vpte_map(&c.t, vpte_va(va), vpte_pa(pa), size, p, &small), 0);
		*craft_entry(&c, at, 0) = invalid;
		CHECK_EQ(vpte_unmap(&c.t, vpte_va(va), size, NULL), 0);
		CHECK_EQ(vpte_seek(&w, &c.t, vpte_va(at)), 0);
		CHECK_EQ(w.kind, VPTE_HOLE);
		CHECK_EQ(w.level, 0);
		CHECK_EQ(*craft_entry(&c, at, 0), invalid);
		CHECK_EQ(vpte_stats(&c.t, vpte_va(va), s1, &st), 0);
		CHECK_EQ(st.mapped_bytes, 0);
		*craft_entry(&c, at, 0) = 0;
		CHECK_EQ(vpte_map(&c.t, vpte_va(at), vpte_pa(pa), c.g, p, &small), 0);
		CHECK_EQ(vpte_map(&c.t, vpte_va(va), vpte_pa(pa), size, p, &small), -VPTE_EEXIST);
		CHECK_EQ(vpte_stats(&c.t, vpte_va(va), s1, &st), 0);
		CHECK_EQ(st.mapped_bytes, c.g);
		CHECK_EQ(vpte_unmap(&c.t, vpte_va(va), size, NULL), 0);
		CHECK_EQ(vpte_seek(&w, &c.t, vpte_va(at)), 0);
		CHECK(w.kind == VPTE_HOLE && w.level > 0);
	}
	craft_close(&c);
}

/* ------------------------------------------------------------------------
 * vpte_strerror
 * ------------------------------------------------------------------------ */
static void test_strerror(void)
{
	static const int codes[] = { VPTE_EPERM, VPTE_ENOMEM, VPTE_EFAULT, VPTE_EEXIST,
				     VPTE_EINVAL, VPTE_EROFS, VPTE_ERANGE };
	const unsigned n = sizeof(codes) / sizeof(codes[0]);
	const char *unknown = vpte_strerror(-1000);
	CHECK(unknown && !strcmp(unknown, "unknown error"));
	for (unsigned i = 0; i < n; i++) {
		const char *s = vpte_strerror(-codes[i]);
		CHECK(s && strcmp(s, unknown) && strlen(s) > 6);
		CHECK(s && !strcmp(s, vpte_strerror(codes[i])));
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(s, vpte_strerror(-codes[j])));
	}
	CHECK(strcmp(vpte_strerror(0), unknown));
	CHECK(!strcmp(vpte_strerror(2), unknown));
	CHECK(!strcmp(vpte_strerror(INT_MAX), unknown));
	CHECK(!strcmp(vpte_strerror(INT_MIN), unknown));
}

int main(void)
{
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	test_strerror();
	for (size_t i = 0; i < count; i++) {
		const struct vpte_format *f = formats[i];
		unsigned failed = test_failures;
		struct fx x;
		fx_open(&x, f);
		test_einval(&x);
		test_erange(&x);
		test_eexist(&x);
		test_enomem(&x);
		test_erofs(&x);
		fx_close(&x);
		efault_cases = 0;
		test_efault(f);
		test_corrupt_neighbour(f);
		test_invalid_kept(f);
		test_invalid_anywhere(f);
		printf("  %-13s %u error cases, %lu corrupt images%s\n", f->name, x.cases, efault_cases,
		       test_failures != failed ? ": FAILED" : "");
	}
	return test_summary("test_errors");
}
