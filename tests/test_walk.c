/* SPDX-License-Identifier: MIT */
/*
 * test_walk.c - walk state, vpte_seek() and iteration.
 *
 *   - seek on leaves at every level, on holes, inside contiguous runs;
 *   - leaf iteration: each leaf once, a run once, address order, ranges that
 *     start or end inside a huge leaf;
 *   - detailed iteration: holes as the largest empty entry, table entries
 *     before their contents, holes and leaves tiling the range exactly;
 *   - sign-extended halves, the last page of the VA space, ranges that
 *     cross the halves or reach 2^64;
 *   - leaf iteration through tables of 4 KiB-class leaves that differ from
 *     their neighbours in PA, accessed, dirty, permissions or presence,
 *     over ranges that start and end inside a table: each leaf exactly as
 *     vpte_seek() describes it, on every format;
 *   - vpte_stats() on a known layout;
 *   - hostile images: a recursive root, entries pointing outside the image,
 *     misprogrammed contiguous runs.
 */
#include "testlib.h"

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

static struct vpte_prot prot(uint32_t flags, uint32_t memtype)
{
	struct vpte_prot p = { flags, memtype, 0 };
	return p;
}

#define RWG prot(VPTE_R | VPTE_W | VPTE_G, VPTE_MT_WB)
#define RWG_A (VPTE_R | VPTE_W | VPTE_G | VPTE_A)

static int map_max(uint64_t va, uint64_t pa, uint64_t size, struct vpte_prot p, unsigned max)
{
	struct vpte_map_opts o = { max, 0 };
	return vpte_map(&tbl, vpte_va(va), vpte_pa(pa), size, p, &o);
}

#define MAP(va, pa, size) CHECK_EQ(map_max(va, pa, size, RWG, 0), 0)

/* A seek that must land on a leaf / a hole: report everything on mismatch. */
static void expect_seek_line(int line, uint64_t va, int kind, unsigned level, unsigned shift,
			     uint64_t span_va, uint64_t span_pa, bool cont)
{
	struct vpte_walk w;
	int err = vpte_seek(&w, &tbl, vpte_va(va));
	bool leaf = kind == VPTE_LEAF;
	if (err || (int)w.kind != kind || w.level != level || w.shift != shift ||
	    w.va.addr != span_va || (leaf && (w.pa.addr != span_pa || w.cont != cont)) ||
	    (leaf && w.prot.flags != RWG_A)) {
		fprintf(stderr,
			"%s:%d: %s seek 0x%" PRIx64 ": err %d kind %d level %u shift %u va 0x%" PRIx64
			" pa 0x%" PRIx64 " cont %d flags 0x%x; expected kind %d level %u shift %u va "
			"0x%" PRIx64 " pa 0x%" PRIx64 " cont %d\n",
			__FILE__, line, tbl.fmt->name, va, err, (int)w.kind, w.level, w.shift,
			w.va.addr, w.pa.addr, (int)w.cont, w.prot.flags, kind, level, shift, span_va,
			span_pa, (int)cont);
		test_failures++;
	}
}
#define EXPECT_LEAF(va, level, shift, span_va, span_pa, cont) \
	expect_seek_line(__LINE__, va, VPTE_LEAF, level, shift, span_va, span_pa, cont)
#define EXPECT_HOLE(va, level, shift, span_va) \
	expect_seek_line(__LINE__, va, VPTE_HOLE, level, shift, span_va, 0, false)

/* One visited entry, kept for comparison. */
struct seen {
	int kind;
	unsigned level, shift;
	uint64_t va, pa;
	bool cont;
};

#define MAX_SEEN 16384

struct visit {
	size_t n;
	int ret; /* the last return value of the iterator */
	int error;
	struct seen e[MAX_SEEN];
};

static struct visit vis;

/* Iterate [va, va + size) in @mode and record what comes out. */
static int collect(const struct vpte_table *t, uint64_t va, uint64_t size, unsigned mode)
{
	struct vpte_walk w;
	int ret;
	vis.n = 0;
	for (ret = vpte_iter_start(&w, t, vpte_va(va), size, mode); ret > 0;
	     ret = vpte_iter_next(&w)) {
		if (vis.n < MAX_SEEN) {
			struct seen s = { (int)w.kind, w.level, w.shift, w.va.addr, w.pa.addr, w.cont };
			vis.e[vis.n] = s;
		}
		vis.n++;
		CHECK(w.level < t->fmt->levels);
		CHECK(vis.n <= MAX_SEEN);
		if (vis.n > 10 * MAX_SEEN)
			break;
	}
	vis.ret = ret;
	vis.error = w.error;
	CHECK_EQ(ret, w.error);
	return ret;
}

#define EXPECT_SEEN(i, kind_, level_, shift_, va_, pa_)                                      \
	do {                                                                                 \
		CHECK((i) < vis.n && (i) < MAX_SEEN);                                        \
		if ((i) >= vis.n || (i) >= MAX_SEEN)                                         \
			break;                                                               \
		CHECK_EQ(vis.e[i].kind, kind_);                                              \
		CHECK_EQ(vis.e[i].level, level_);                                            \
		CHECK_EQ(vis.e[i].shift, shift_);                                            \
		CHECK_EQ(vis.e[i].va, va_);                                                  \
		if ((kind_) == VPTE_LEAF)                                                    \
			CHECK_EQ(vis.e[i].pa, pa_);                                          \
	} while (0)

/* Canonical VA -> its position in [0, 2^va_bits) (the "index address"),
 * so that spans of both halves compare in address order. */
static uint64_t ia_of(const struct vpte_format *f, uint64_t va)
{
	return f->va_bits == 64 ? va : va & ((1ull << f->va_bits) - 1u);
}

/*
 * The entries recorded in @vis, for a range [va, va + size):
 *   - leaves and holes are in address order, never overlap, and (with
 *     holes) tile the range exactly: the first starts at or before va,
 *     each starts where the previous ended, the last ends at or after
 *     the range end;
 *   - a table entry comes before everything inside it, and everything
 *     below the top level lies inside the last table entry one level up.
 */
static void check_order(const struct vpte_format *f, uint64_t va, uint64_t size, bool tiles)
{
	uint64_t first = ia_of(f, va), last = first + (size - 1u);
	uint64_t next = 0; /* where the next leaf/hole must start (ia) */
	bool any = false;
	uint64_t table_start[VPTE_MAX_LEVELS] = { 0 };
	unsigned table_shift[VPTE_MAX_LEVELS] = { 0 };
	bool have_table[VPTE_MAX_LEVELS] = { false };
	for (size_t i = 0; i < vis.n && i < MAX_SEEN; i++) {
		const struct seen *s = &vis.e[i];
		uint64_t start = ia_of(f, s->va);
		uint64_t end = start + ((1ull << s->shift) - 1u); /* inclusive */
		CHECK_EQ(start & ((1ull << s->shift) - 1u), 0);
		CHECK(start <= last && end >= first); /* intersects the range */
		if (s->level + 1u < f->levels) {
			unsigned up = s->level + 1u;
			if (have_table[up]) {
				uint64_t tend = table_start[up] + ((1ull << table_shift[up]) - 1u);
				if (start < table_start[up] || end > tend) {
					fprintf(stderr, "%s: entry %zu (level %u va 0x%" PRIx64
							") outside its table entry\n",
						f->name, i, s->level, s->va);
					test_failures++;
				}
			}
		}
		if (s->kind == VPTE_TABLE) {
			CHECK(s->level > 0);
			table_start[s->level] = start;
			table_shift[s->level] = s->shift;
			have_table[s->level] = true;
			continue;
		}
		if (any && start != next && (tiles || start < next)) {
			fprintf(stderr, "%s: entry %zu at 0x%" PRIx64 " (ia 0x%" PRIx64
					"), expected ia 0x%" PRIx64 "\n",
				f->name, i, s->va, start, next);
			test_failures++;
		}
		if (!any && tiles)
			CHECK(start <= first);
		any = true;
		next = end + 1u;
	}
	if (tiles) {
		CHECK(any);
		CHECK(next - 1u >= last || next == 0);
	}
}

/* ------------------------------------------------------------------------
 * seek
 * ------------------------------------------------------------------------ */

static void test_seek_levels(void)
{
	/* RISC-V Sv57 holds leaves at all five levels. */
	const struct vpte_format *f = &vpte_format_riscv_sv57;
	fresh(f);
	MAP(0x1000, 0x80001000, 0x1000);                      /* level 0 */
	MAP(0x200000, 0x80200000, 0x200000);                  /* level 1 */
	MAP(0x40000000, 0xc0000000, 0x40000000);              /* level 2 */
	MAP(1ull << 39, 1ull << 40, 1ull << 39);              /* level 3 */
	MAP(1ull << 48, 1ull << 49, 1ull << 48);              /* level 4 */
	EXPECT_LEAF(0x1fff, 0, 12, 0x1000, 0x80001000, false);
	EXPECT_LEAF(0x3fffff, 1, 21, 0x200000, 0x80200000, false);
	EXPECT_LEAF(0x40abcdef, 2, 30, 0x40000000, 0xc0000000, false);
	EXPECT_LEAF((1ull << 39) + 12345, 3, 39, 1ull << 39, 1ull << 40, false);
	EXPECT_LEAF((2ull << 48) - 1, 4, 48, 1ull << 48, 1ull << 49, false);
	/* The PA of an address inside a leaf is pa + (va - w.va). */
	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x40abcdef)), 0);
	CHECK_EQ(w.pa.addr + (0x40abcdef - w.va.addr), 0xc0abcdef);
	/* Holes at every level: the level and span of the empty entry. */
	EXPECT_HOLE(0x2000, 0, 12, 0x2000);
	EXPECT_HOLE(0x400000, 1, 21, 0x400000);
	EXPECT_HOLE(0x80000000, 2, 30, 0x80000000);
	EXPECT_HOLE(2ull << 39, 3, 39, 2ull << 39);
	EXPECT_HOLE(3ull << 48, 4, 48, 3ull << 48);
	EXPECT_HOLE(0xff00000000000000ull, 4, 48, 0xff00000000000000ull);
	/* Seek reports holes with pa 0, no attributes. */
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x2000)), 0);
	CHECK_EQ(w.pa.addr, 0);
	CHECK_EQ(w.prot.flags, 0);
	CHECK(!w.cont);
	done();
}

static void test_seek_runs(void)
{
	/* arm64 4K: runs at all three leaf levels. */
	fresh(&vpte_format_arm64_4k_48);
	MAP(0x10000, 0x80010000, 0x10000);            /* 16 x 4K */
	MAP(0x2000000, 0x82000000, 0x2000000);        /* 16 x 2M */
	MAP(0x400000000, 0x800000000, 0x400000000);   /* 16 x 1G */
	for (uint64_t off = 0; off < 0x10000; off += 0x1000)
		EXPECT_LEAF(0x10000 + off + 0x123, 0, 16, 0x10000, 0x80010000, true);
	EXPECT_LEAF(0x3abcdef, 1, 25, 0x2000000, 0x82000000, true);
	EXPECT_LEAF(0x7ffffffff, 2, 34, 0x400000000, 0x800000000, true);
	EXPECT_HOLE(0x20000, 0, 12, 0x20000);
	/* w.entry is the member the walk read (vpte.h): its own output
	 * address, while va/pa/shift describe the whole run. */
	struct vpte_walk w0, w5;
	CHECK_EQ(vpte_seek(&w0, &tbl, vpte_va(0x10000)), 0);
	CHECK_EQ(vpte_seek(&w5, &tbl, vpte_va(0x15000)), 0);
	CHECK_EQ(w0.entry, 0x0070000080010703ull);
	CHECK_EQ(w5.entry, 0x0070000080015703ull);
	CHECK_EQ(w5.pa.addr, 0x80010000);
	/* An iteration that starts inside the run reads the member there. */
	CHECK_EQ(vpte_iter_start(&w5, &tbl, vpte_va(0x15000), 0x1000, VPTE_ITER_LEAVES), 1);
	CHECK_EQ(w5.va.addr, 0x10000);
	CHECK_EQ(w5.entry, 0x0070000080015703ull);
	done();

	/* RISC-V Svnapot. */
	fresh(&vpte_format_riscv_sv48);
	MAP(0x7fff0000, 0x123450000, 0x10000);
	EXPECT_LEAF(0x7fff8765, 0, 16, 0x7fff0000, 0x123450000, true);
	done();
}

/* ------------------------------------------------------------------------
 * leaf iteration
 * ------------------------------------------------------------------------ */

static void test_iter_leaves(void)
{
	const struct vpte_format *f = &vpte_format_arm64_4k_48;
	fresh(f);
	MAP(0x1000, 0x80001000, 0x1000);              /* 4K */
	MAP(0x10000, 0x80010000, 0x10000);            /* 64K run */
	MAP(0x21000, 0x80021000, 0x3000);             /* 3 x 4K */
	MAP(0x200000, 0x80200000, 0x200000);          /* 2M */
	MAP(0x2000000, 0x82000000, 0x2000000);        /* 32M run */
	MAP(0x40000000, 0xc0000000, 0x40000000);      /* 1G */
	/* Everything, once, in order. */
	CHECK_EQ(collect(&tbl, 0, 1ull << 48, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 8);
	EXPECT_SEEN(0, VPTE_LEAF, 0, 12, 0x1000, 0x80001000);
	EXPECT_SEEN(1, VPTE_LEAF, 0, 16, 0x10000, 0x80010000);
	CHECK(vis.e[1].cont);
	EXPECT_SEEN(2, VPTE_LEAF, 0, 12, 0x21000, 0x80021000);
	EXPECT_SEEN(3, VPTE_LEAF, 0, 12, 0x22000, 0x80022000);
	EXPECT_SEEN(4, VPTE_LEAF, 0, 12, 0x23000, 0x80023000);
	EXPECT_SEEN(5, VPTE_LEAF, 1, 21, 0x200000, 0x80200000);
	EXPECT_SEEN(6, VPTE_LEAF, 1, 25, 0x2000000, 0x82000000);
	CHECK(vis.e[6].cont);
	EXPECT_SEEN(7, VPTE_LEAF, 2, 30, 0x40000000, 0xc0000000);
	CHECK(!vis.e[7].cont);
	check_order(f, 0, 1ull << 48, false);

	/* A range starting inside a huge leaf and ending inside another: both
	 * are reported whole. */
	CHECK_EQ(collect(&tbl, 0x300000, 0x40001000 - 0x300000, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 3);
	EXPECT_SEEN(0, VPTE_LEAF, 1, 21, 0x200000, 0x80200000);
	EXPECT_SEEN(1, VPTE_LEAF, 1, 25, 0x2000000, 0x82000000);
	EXPECT_SEEN(2, VPTE_LEAF, 2, 30, 0x40000000, 0xc0000000);
	/* Inside one run only: the run, once, whole. */
	CHECK_EQ(collect(&tbl, 0x15000, 0x1000, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 1);
	EXPECT_SEEN(0, VPTE_LEAF, 0, 16, 0x10000, 0x80010000);
	CHECK_EQ(collect(&tbl, 0x3000000, 1, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 1);
	EXPECT_SEEN(0, VPTE_LEAF, 1, 25, 0x2000000, 0x82000000);
	/* One byte of a 1G leaf; the last byte of the 1G leaf. */
	CHECK_EQ(collect(&tbl, 0x7fffffff, 1, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 1);
	EXPECT_SEEN(0, VPTE_LEAF, 2, 30, 0x40000000, 0xc0000000);
	/* A range of holes only: nothing, no error. */
	CHECK_EQ(collect(&tbl, 0x80000000, 0x40000000, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 0);
	/* The loop macro. */
	struct vpte_walk w;
	unsigned count = 0;
	uint64_t bytes = 0;
	vpte_for_each_leaf(&w, &tbl, vpte_va(0), 1ull << 31)
	{
		count++;
		bytes += 1ull << w.shift;
	}
	CHECK_EQ(w.error, 0);
	CHECK_EQ(count, 8);
	CHECK_EQ(bytes, 0x1000 + 0x10000 + 0x3000 + 0x200000 + 0x2000000 + 0x40000000);
	/* Bad ranges and modes. */
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(0), 0, VPTE_ITER_LEAVES), -VPTE_EINVAL);
	CHECK_EQ(w.error, -VPTE_EINVAL);
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(0), 0x1000, 4u), -VPTE_EINVAL);
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(1ull << 48), 0x1000, 0), -VPTE_ERANGE);
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va((1ull << 48) - 0x1000), 0x2000, 0),
		 -VPTE_ERANGE);
	/* Ranges need no alignment for walks. */
	CHECK_EQ(collect(&tbl, 0x1fff, 2, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 1);
	EXPECT_SEEN(0, VPTE_LEAF, 0, 12, 0x1000, 0x80001000);
	done();
}

/*
 * Neighbouring leaves of one table (the iteration steps from one to the
 * next without describing it anew when only the PA differs) against
 * vpte_seek(), which describes each from scratch: every field the same.
 */
static void test_iter_neighbours(const struct vpte_format *f)
{
	const uint64_t page = 1ull << f->granule_shift, per = 1ull << f->level_bits[0];
	const uint64_t base = 1ull << vpte_level_shift(f, 1), pages = 2 * per + 8;
	uint64_t *accessed = calloc((size_t)(pages / 64 + 1), sizeof(uint64_t));
	fresh(f);
	for (uint64_t i = 0; i < pages; i++) {
		if (i % 11 == 10)
			continue; /* a hole */
		uint32_t flags = VPTE_R | (i % 5 ? VPTE_W : 0u) | (i % 3 ? 0u : VPTE_D);
		uint64_t pa = i % 7 == 6 ? (i + 4 * pages) * page : (i + pages) * page;
		CHECK_EQ(map_max(base + i * page, pa, page, prot(flags, VPTE_MT_WB), f->granule_shift),
			 0);
	}
	/* Accessed cleared on a stretch that crosses the table boundary. */
	struct vpte_harvest_opts h = { VPTE_A, f->granule_shift, VPTE_HARVEST_CLEAR, NULL };
	CHECK_EQ(vpte_harvest(&tbl, vpte_va(base + (per - 20) * page), 40 * page, accessed, &h),
		 0);
	/* Ranges that begin and end at each of a dozen pages inside a table. */
	for (uint64_t cut = 0; cut < 12; cut++) {
		uint64_t first = cut, last = pages - 1 - cut, seen = 0, expected = 0;
		for (uint64_t i = first; i <= last; i++)
			expected += i % 11 != 10;
		struct vpte_walk w, s;
		vpte_for_each_leaf(&w, &tbl, vpte_va(base + first * page), (last - first + 1) * page)
		{
			seen++;
			CHECK_EQ(vpte_seek(&s, &tbl, w.va), 0);
			if (w.kind != s.kind || w.level != s.level || w.shift != s.shift ||
			    w.va.addr != s.va.addr || w.pa.addr != s.pa.addr || w.cont != s.cont ||
			    w.entry != s.entry || w.prot.flags != s.prot.flags ||
			    w.prot.memtype != s.prot.memtype || w.prot.raw != s.prot.raw) {
				CHECK(!"iteration and seek disagree");
				fprintf(stderr,
					"  %s at 0x%" PRIx64 ": iter pa 0x%" PRIx64 " flags 0x%x entry 0x%" PRIx64
					", seek pa 0x%" PRIx64 " flags 0x%x entry 0x%" PRIx64 "\n",
					f->name, w.va.addr, w.pa.addr, w.prot.flags, w.entry, s.pa.addr,
					s.prot.flags, s.entry);
				break;
			}
		}
		CHECK_EQ(w.error, 0);
		CHECK_EQ(seen, expected);
	}
	free(accessed);
	done();
}

/* ------------------------------------------------------------------------
 * detailed iteration
 * ------------------------------------------------------------------------ */

static void test_iter_detailed(void)
{
	const struct vpte_format *f = &vpte_format_x86_64;
	fresh(f);
	/* Empty table: the lower half is 256 empty top-level entries. */
	CHECK_EQ(collect(&tbl, 0, 1ull << 47, VPTE_ITER_HOLES), 0);
	CHECK_EQ(vis.n, 256);
	EXPECT_SEEN(0, VPTE_HOLE, 3, 39, 0, 0);
	EXPECT_SEEN(255, VPTE_HOLE, 3, 39, 255ull << 39, 0);
	check_order(f, 0, 1ull << 47, true);

	MAP(0x1000, 0x5000, 0x1000);
	MAP(0x40200000, 0x200000, 0x200000);
	/* Holes + leaves: one leaf, holes as large as the empty entries. */
	CHECK_EQ(collect(&tbl, 0, 1ull << 47, VPTE_ITER_HOLES), 0);
	/* level 0: 1 hole, 1 leaf, 510 holes; level 1 (PD of 0..1G): 511
	 * holes; PD of 1G..2G: 1 hole, leaf, 510 holes; level 2: 510 holes;
	 * level 3: 255 holes. */
	CHECK_EQ(vis.n, 512 + 511 + 512 + 510 + 255);
	EXPECT_SEEN(0, VPTE_HOLE, 0, 12, 0, 0);
	EXPECT_SEEN(1, VPTE_LEAF, 0, 12, 0x1000, 0x5000);
	EXPECT_SEEN(2, VPTE_HOLE, 0, 12, 0x2000, 0);
	EXPECT_SEEN(512, VPTE_HOLE, 1, 21, 0x200000, 0);
	EXPECT_SEEN(vis.n - 1, VPTE_HOLE, 3, 39, 255ull << 39, 0);
	check_order(f, 0, 1ull << 47, true);
	/* A partial range: holes reaching outside it are reported whole. */
	CHECK_EQ(collect(&tbl, 0x1800, 0x40201000 - 0x1800, VPTE_ITER_HOLES), 0);
	EXPECT_SEEN(0, VPTE_LEAF, 0, 12, 0x1000, 0x5000);
	check_order(f, 0x1800, 0x40201000 - 0x1800, true);
	EXPECT_SEEN(vis.n - 1, VPTE_LEAF, 1, 21, 0x40200000, 0x200000);

	/* Table entries before their contents. */
	CHECK_EQ(collect(&tbl, 0, 1ull << 47, VPTE_ITER_ALL), 0);
	/* 3 table entries down to the PT (PML4[0], PDPT[0], PD[0]), and PD
	 * of the 1G region: PDPT[1]. */
	CHECK_EQ(vis.n, 512 + 511 + 512 + 510 + 255 + 4);
	EXPECT_SEEN(0, VPTE_TABLE, 3, 39, 0, 0);
	EXPECT_SEEN(1, VPTE_TABLE, 2, 30, 0, 0);
	EXPECT_SEEN(2, VPTE_TABLE, 1, 21, 0, 0);
	EXPECT_SEEN(3, VPTE_HOLE, 0, 12, 0, 0);
	EXPECT_SEEN(4, VPTE_LEAF, 0, 12, 0x1000, 0x5000);
	check_order(f, 0, 1ull << 47, true);
	/* The table entry's pa is the lower table: PML4[0] -> PDPT = root of
	 * the next level, whose entry 0 is the next table entry seen. */
	uint64_t *pml4 = (uint64_t *)(uintptr_t)tbl.root.addr;
	CHECK_EQ(vis.e[0].pa, pml4[0] & 0x000ffffffffff000ull);
	uint64_t *pdpt = (uint64_t *)(uintptr_t)vis.e[0].pa;
	CHECK_EQ(vis.e[1].pa, pdpt[0] & 0x000ffffffffff000ull);
	/* Tables only (no holes): the table entries and the leaves. */
	CHECK_EQ(collect(&tbl, 0, 1ull << 47, VPTE_ITER_TABLES), 0);
	CHECK_EQ(vis.n, 6);
	EXPECT_SEEN(0, VPTE_TABLE, 3, 39, 0, 0);
	EXPECT_SEEN(1, VPTE_TABLE, 2, 30, 0, 0);
	EXPECT_SEEN(2, VPTE_TABLE, 1, 21, 0, 0);
	EXPECT_SEEN(3, VPTE_LEAF, 0, 12, 0x1000, 0x5000);
	EXPECT_SEEN(4, VPTE_TABLE, 2, 30, 0x40000000, 0);
	EXPECT_SEEN(5, VPTE_LEAF, 1, 21, 0x40200000, 0x200000);
	check_order(f, 0, 1ull << 47, false);
	/* Starting deep inside: the covering table entries come first, each
	 * reported whole. */
	CHECK_EQ(collect(&tbl, 0x40300000, 0x1000, VPTE_ITER_ALL), 0);
	CHECK_EQ(vis.n, 3);
	EXPECT_SEEN(0, VPTE_TABLE, 3, 39, 0, 0);
	EXPECT_SEEN(1, VPTE_TABLE, 2, 30, 0x40000000, 0);
	EXPECT_SEEN(2, VPTE_LEAF, 1, 21, 0x40200000, 0x200000);
	done();

	/* Runs in a detailed walk: one entry per run. */
	f = &vpte_format_arm64_16k_47;
	fresh(f);
	MAP(0x200000, 0x80200000, 0x200000); /* 128 x 16K */
	MAP(0x404000, 0x80404000, 0x4000);
	CHECK_EQ(collect(&tbl, 0, 0x2000000, VPTE_ITER_ALL), 0);
	/* table entries (top, level 1) then: level-0 holes 0..127, the run,
	 * holes 256, the page, holes 258..2047. */
	CHECK_EQ(vis.n, 2 + 128 + 1 + 1 + 1 + 2047 - 257);
	EXPECT_SEEN(130, VPTE_LEAF, 0, 21, 0x200000, 0x80200000);
	EXPECT_SEEN(131, VPTE_HOLE, 0, 14, 0x400000, 0);
	EXPECT_SEEN(132, VPTE_LEAF, 0, 14, 0x404000, 0x80404000);
	check_order(f, 0, 0x2000000, true);
	done();
}

/* ------------------------------------------------------------------------
 * halves, the end of the VA space
 * ------------------------------------------------------------------------ */

static void test_halves(const struct vpte_format *f)
{
	fresh(f);
	uint64_t half = 1ull << (f->va_bits - 1u), upper = 0ull - half;
	uint64_t last = 0xfffffffffffff000ull;
	vpte_va_t start[2];
	uint64_t size[2];
	CHECK_EQ(vpte_va_space(f, start, size), 2);
	CHECK_EQ(start[0].addr, 0);
	CHECK_EQ(size[0], half);
	CHECK_EQ(start[1].addr, upper);
	CHECK_EQ(size[1], half);

	MAP(half - 0x1000, 0x1000, 0x1000); /* last page of the lower half */
	MAP(upper, 0x2000, 0x1000);         /* first page of the upper half */
	MAP(upper + 0x200000, 0x200000, 0x200000);
	MAP(last, 0x3000, 0x1000);          /* last page of the VA space */
	EXPECT_LEAF(half - 1, 0, 12, half - 0x1000, 0x1000, false);
	EXPECT_LEAF(upper + 0xfff, 0, 12, upper, 0x2000, false);
	EXPECT_LEAF(upper + 0x3fffff, 1, 21, upper + 0x200000, 0x200000, false);
	EXPECT_LEAF(0xffffffffffffffffull, 0, 12, last, 0x3000, false);
	EXPECT_HOLE(upper + 0x400000, 1, 21, upper + 0x400000);
	/* Non-canonical VAs. */
	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(half)), -VPTE_EINVAL);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(upper - 1)), -VPTE_EINVAL);
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(half), 0x1000, 0), -VPTE_EINVAL);

	/* The upper half, iterated: canonical (sign-extended) VAs, in order,
	 * up to and including the last page: the range reaches exactly 2^64. */
	CHECK_EQ(collect(&tbl, upper, half, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 3);
	EXPECT_SEEN(0, VPTE_LEAF, 0, 12, upper, 0x2000);
	EXPECT_SEEN(1, VPTE_LEAF, 1, 21, upper + 0x200000, 0x200000);
	EXPECT_SEEN(2, VPTE_LEAF, 0, 12, last, 0x3000);
	check_order(f, upper, half, false);
	CHECK_EQ(collect(&tbl, upper, half, VPTE_ITER_ALL), 0);
	check_order(f, upper, half, true);
	EXPECT_SEEN(vis.n - 1, VPTE_LEAF, 0, 12, last, 0x3000);
	CHECK_EQ(collect(&tbl, last, 0x1000, VPTE_ITER_ALL), 0);
	EXPECT_SEEN(vis.n - 1, VPTE_LEAF, 0, 12, last, 0x3000);
	CHECK_EQ(vis.e[0].kind, VPTE_TABLE);
	CHECK_EQ(vis.e[0].level, vpte_top_level(f));
	CHECK_EQ(vis.e[0].va, 0ull - (1ull << vpte_level_shift(f, vpte_top_level(f))));
	CHECK_EQ(collect(&tbl, 0xffffffffffffffffull, 1, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 1);
	/* The lower half, up to its last page. */
	CHECK_EQ(collect(&tbl, 0, half, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 1);
	EXPECT_SEEN(0, VPTE_LEAF, 0, 12, half - 0x1000, 0x1000);

	/* Across the halves: rejected. */
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(half - 0x1000), 0x2000, 0), -VPTE_ERANGE);
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(0), 0ull - 0x1000, 0), -VPTE_ERANGE);
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(half - 0x1000), upper - half + 0x2000, 0),
		 -VPTE_ERANGE);
	/* Past 2^64: wraps. */
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(last), 0x2000, 0), -VPTE_EINVAL);
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(upper), half + 1, 0), -VPTE_EINVAL);
	CHECK_EQ(vpte_map(&tbl, vpte_va(half - 0x1000), vpte_pa(0), 0x2000,
			  prot(VPTE_R, VPTE_MT_WB), NULL),
		 -VPTE_ERANGE);

	/* Unmap the last page: the tables that held only it go too. */
	uint64_t before = mem.live;
	CHECK_EQ(vpte_unmap(&tbl, vpte_va(last), 0x1000, NULL), 0);
	/* `upper` lies under top-level entry 256, the last page under 511:
	 * every table below the top that held only the last page is freed,
	 * and the seek now stops on the empty top-level entry. */
	unsigned top = vpte_top_level(f), top_shift = vpte_level_shift(f, top);
	EXPECT_HOLE(last, top, top_shift, 0ull - (1ull << top_shift));
	CHECK_EQ(mem.live, before - top);
	CHECK_EQ(collect(&tbl, upper, half, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 2);
	done();
}

/* ------------------------------------------------------------------------
 * stats
 * ------------------------------------------------------------------------ */

static void test_stats(void)
{
	struct vpte_stats st;
	fresh(&vpte_format_x86_64);
	MAP(0x1000, 0x1000, 0x3000);             /* 3 x 4K */
	MAP(0x200000, 0x200000, 0x400000);       /* 2 x 2M */
	MAP(0x40000000, 0x40000000, 0x80000000); /* 2 x 1G */
	MAP(0xffff800000000000ull, 0x1000, 0x1000);
	CHECK_EQ(vpte_stats(&tbl, vpte_va(0), 1ull << 47, &st), 0);
	CHECK_EQ(st.table_pages[3], 1);
	CHECK_EQ(st.table_pages[2], 1);
	CHECK_EQ(st.table_pages[1], 1);
	CHECK_EQ(st.table_pages[0], 1);
	CHECK_EQ(st.table_bytes[0], 4096);
	CHECK_EQ(st.leaves[12], 3);
	CHECK_EQ(st.leaves[21], 2);
	CHECK_EQ(st.leaves[30], 2);
	CHECK_EQ(st.runs[12] + st.runs[21] + st.runs[30], 0);
	CHECK_EQ(st.tlb_entries, 7);
	CHECK_EQ(st.mapped_bytes, 0x3000 + 0x400000 + 0x80000000);
	/* The upper half alone: its own three lower tables. */
	CHECK_EQ(vpte_stats(&tbl, vpte_va(0xffff800000000000ull), 1ull << 47, &st), 0);
	CHECK_EQ(st.table_pages[3], 1);
	CHECK_EQ(st.table_pages[2] + st.table_pages[1] + st.table_pages[0], 3);
	CHECK_EQ(st.tlb_entries, 1);
	/* The whole table: both halves, the root once, every page once. */
	CHECK_EQ(vpte_stats_table(&tbl, &st), 0);
	CHECK_EQ(st.table_pages[3], 1);
	CHECK_EQ(st.table_pages[2] + st.table_pages[1] + st.table_pages[0], 6);
	CHECK_EQ(mem.live, 1 + 6);
	CHECK_EQ(st.tlb_entries, 8);
	CHECK_EQ(st.mapped_bytes, 0x3000 + 0x400000 + 0x80000000 + 0x1000);
	done();

	fresh(&vpte_format_arm64_4k_39);
	MAP(0x10000, 0x10000, 0x20000);           /* 2 runs of 16 x 4K */
	MAP(0x31000, 0x31000, 0x1000);            /* 4K */
	MAP(0x2000000, 0x2000000, 0x2200000);     /* 32M run + 2M */
	MAP(0x400000000, 0x400000000, 0x400000000); /* 16G run */
	CHECK_EQ(vpte_stats(&tbl, vpte_va(0), 1ull << 39, &st), 0);
	CHECK_EQ(st.table_pages[2], 1);
	CHECK_EQ(st.table_pages[1], 1);
	CHECK_EQ(st.table_pages[0], 1);
	CHECK_EQ(st.leaves[12], 1);
	CHECK_EQ(st.leaves[16], 2);
	CHECK_EQ(st.runs[16], 2);
	CHECK_EQ(st.leaves[21], 1);
	CHECK_EQ(st.leaves[25], 1);
	CHECK_EQ(st.runs[25], 1);
	CHECK_EQ(st.leaves[34], 1);
	CHECK_EQ(st.runs[34], 1);
	CHECK_EQ(st.tlb_entries, 6);
	CHECK_EQ(st.mapped_bytes, 0x21000 + 0x2200000 + 0x400000000ull);
	/* A range inside the 16G run counts the run whole. */
	CHECK_EQ(vpte_stats(&tbl, vpte_va(0x500000000), 0x1000, &st), 0);
	CHECK_EQ(st.leaves[34], 1);
	CHECK_EQ(st.tlb_entries, 1);
	CHECK_EQ(vpte_stats(&tbl, vpte_va(1ull << 39), 0x1000, &st), -VPTE_ERANGE);
	done();
}

/* ------------------------------------------------------------------------
 * hostile images
 * ------------------------------------------------------------------------ */

struct img {
	uint64_t *words;
	uint64_t base, size;
	struct vpte_image image;
};

static uint64_t *img_new(struct img *m, const struct vpte_format *f, uint64_t base,
			 unsigned pages)
{
	uint64_t page = 1ull << f->granule_shift;
	m->size = pages * page;
	m->base = base;
	m->words = aligned_alloc(page, m->size);
	memset(m->words, 0, m->size);
	vpte_image_view(&m->image, m->words, m->size, vpte_pa(base));
	return m->words;
}

static void img_attach(struct img *m, const struct vpte_format *f)
{
	CHECK_EQ(vpte_table_attach(&tbl, f, vpte_image_mem(&m->image), vpte_pa(m->base),
				   VPTE_TABLE_READONLY),
		 0);
}

/* Iterate every translatable address; count entries and leaves. */
static int walk_all(unsigned mode, uint64_t *entries, uint64_t *leaves)
{
	vpte_va_t start[2];
	uint64_t size[2];
	unsigned halves = vpte_va_space(tbl.fmt, start, size);
	*entries = *leaves = 0;
	for (unsigned h = 0; h < halves; h++) {
		struct vpte_walk w;
		vpte_for_each_entry(&w, &tbl, start[h], size[h], mode)
		{
			++*entries;
			*leaves += w.kind == VPTE_LEAF;
			CHECK(w.level < tbl.fmt->levels);
			if (*entries > 1000000)
				return -1; /* runaway */
		}
		if (w.error)
			return w.error;
	}
	return 0;
}

static void test_recursive(void)
{
	struct img m;
	uint64_t entries, leaves;
	struct vpte_walk w;

	/* x86-64: PML4[0] and PML4[511] point back at the PML4.  The hardware
	 * accepts it (the self-map trick); walks must stay bounded by the level
	 * count.  At level 0 a self entry is a 4K leaf mapping the root. */
	uint64_t *root = img_new(&m, &vpte_format_x86_64, 0x100000, 1);
	root[0] = 0x100000 | 0x27;
	root[511] = 0x100000 | 0x27;
	img_attach(&m, &vpte_format_x86_64);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0)), 0);
	CHECK_EQ(w.kind, VPTE_LEAF);
	CHECK_EQ(w.level, 0);
	CHECK_EQ(w.pa.addr, 0x100000);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0xfffffffffffff000ull)), 0);
	CHECK_EQ(w.kind, VPTE_LEAF);
	CHECK_EQ(w.level, 0);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0xffffffffffffe000ull)), 0); /* PT index 510 */
	CHECK_EQ(w.kind, VPTE_HOLE);
	/* Leaves: two self entries per level below the top, two halves:
	 * 2 x 2^3 = 16.  All entries: per half 256 top entries, then per
	 * table reached 512 entries: 1 + 2 + 4 tables. */
	CHECK_EQ(walk_all(VPTE_ITER_LEAVES, &entries, &leaves), 0);
	CHECK_EQ(leaves, 16);
	CHECK_EQ(entries, 16);
	CHECK_EQ(walk_all(VPTE_ITER_ALL, &entries, &leaves), 0);
	CHECK_EQ(leaves, 16);
	CHECK_EQ(entries, 2 * (256 + 512 * (1 + 2 + 4)));
	struct vpte_stats st;
	CHECK_EQ(vpte_stats(&tbl, vpte_va(0), 1ull << 47, &st), 0);
	CHECK_EQ(st.tlb_entries, 8);
	CHECK_EQ(st.table_pages[0], 4);
	free(m.words);

	/* arm64 4K-48: a self-pointing table descriptor is a page at level 3. */
	root = img_new(&m, &vpte_format_arm64_4k_48, 0x40000000, 1);
	root[5] = 0x40000000 | 3;
	img_attach(&m, &vpte_format_arm64_4k_48);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x0000028140a05000ull)), 0);
	CHECK_EQ(w.kind, VPTE_LEAF);
	CHECK_EQ(w.level, 0);
	CHECK_EQ(w.pa.addr, 0x40000000);
	CHECK_EQ(walk_all(VPTE_ITER_ALL, &entries, &leaves), 0);
	CHECK_EQ(leaves, 1);
	CHECK_EQ(entries, 4 * 512);
	free(m.words);

	/* RISC-V: a pointer at level 0 is a page fault (4.3.2 step 4): both
	 * walks stop with -EFAULT instead of looping. */
	root = img_new(&m, &vpte_format_riscv_sv48, 0x80000000, 1);
	root[0] = ((0x80000000ull >> 12) << 10) | 1;
	img_attach(&m, &vpte_format_riscv_sv48);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0)), -VPTE_EFAULT);
	CHECK_EQ(walk_all(VPTE_ITER_ALL, &entries, &leaves), -VPTE_EFAULT);
	CHECK(entries <= 4);
	free(m.words);
}

static void test_outside(void)
{
	struct img m;
	struct vpte_walk w;
	uint64_t entries, leaves;
	/* x86-64 root + one PDPT; PML4[1] points past the image, PML4[2] just
	 * below it, PDPT[1] to a page that straddles its end. */
	uint64_t *pml4 = img_new(&m, &vpte_format_x86_64, 0x200000, 3);
	uint64_t *pdpt = pml4 + 512;
	/* The image ends half way through its third page. */
	vpte_image_view(&m.image, m.words, 0x2800, vpte_pa(0x200000));
	pml4[0] = 0x201000 | 0x27;
	pdpt[0] = 0x40000000 | 0x83 | 0x20;     /* 1G leaf */
	pdpt[1] = 0x202000 | 0x27;               /* a page straddling the end */
	pml4[1] = 0x7000000000ull | 0x27;        /* far beyond */
	pml4[2] = 0x1ff000 | 0x27;               /* just below the base */
	img_attach(&m, &vpte_format_x86_64);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x1234)), 0);
	CHECK_EQ(w.kind, VPTE_LEAF);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0x40000000)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(1ull << 39)), -VPTE_EFAULT);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(2ull << 39)), -VPTE_EFAULT);
	/* Iteration: the leaf before the bad entry, then the error. */
	CHECK_EQ(collect(&tbl, 0, 1ull << 47, VPTE_ITER_LEAVES), -VPTE_EFAULT);
	CHECK_EQ(vis.n, 1);
	CHECK_EQ(vis.error, -VPTE_EFAULT);
	/* Starting at the bad entry: iter_start itself fails. */
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(1ull << 39), 0x1000, VPTE_ITER_LEAVES),
		 -VPTE_EFAULT);
	CHECK_EQ(w.error, -VPTE_EFAULT);
	CHECK_EQ(vpte_iter_next(&w), -VPTE_EFAULT); /* stays stopped */
	unsigned n = 0;
	vpte_for_each_leaf(&w, &tbl, vpte_va(2ull << 39), 0x1000) n++;
	CHECK_EQ(n, 0);
	CHECK_EQ(w.error, -VPTE_EFAULT);
	CHECK_EQ(walk_all(VPTE_ITER_ALL, &entries, &leaves), -VPTE_EFAULT);
	struct vpte_stats st;
	CHECK_EQ(vpte_stats(&tbl, vpte_va(0), 1ull << 47, &st), -VPTE_EFAULT);
	/* A root outside the image. */
	CHECK_EQ(vpte_table_attach(&tbl, &vpte_format_x86_64, vpte_image_mem(&m.image),
				   vpte_pa(0x300000), VPTE_TABLE_READONLY),
		 0);
	CHECK_EQ(vpte_seek(&w, &tbl, vpte_va(0)), -VPTE_EFAULT);
	CHECK_EQ(vpte_iter_start(&w, &tbl, vpte_va(0), 0x1000, 0), -VPTE_EFAULT);
	free(m.words);
}

/* Misprogrammed contiguous runs (DDI 0487 D8.6.1, Svnapot): iteration must
 * report -EFAULT rather than a translation the TLB may not give. */
static void test_bad_runs(void)
{
	struct img m;
	const struct vpte_format *f = &vpte_format_arm64_4k_48;
	/* Pages: 0 root (L0), 1 L1, 2 L2, 3 L3. */
	uint64_t *w = img_new(&m, f, 0x100000, 4);
	uint64_t *l0 = w, *l1 = w + 512, *l2 = w + 1024, *l3 = w + 1536;
	const uint64_t attrs = 0x3 | 0x300 | 0x400 | (3ull << 53); /* page, SH, AF, PXN|UXN */
	const uint64_t cont = 1ull << 52;
	l0[0] = 0x101000 | 3;
	l1[0] = 0x102000 | 3;
	l2[0] = 0x103000 | 3;
	for (unsigned i = 0; i < 16; i++) {
		uint64_t pa = 0x80000000 + i * 0x1000ull;
		l3[16 + i] = pa | attrs | cont;                           /* good */
		l3[32 + i] = pa | attrs | (i == 7 ? 0 : cont);            /* flag missing */
		l3[48 + i] = (pa + (i == 3 ? 0x1000 : 0)) | attrs | cont; /* PA skips */
		l3[64 + i] = pa | attrs | cont | (i == 9 ? 0x80 : 0);     /* one read-only */
		l3[80 + i] = i == 15 ? 0 : (pa | attrs | cont);           /* one missing */
		l3[96 + i] = pa | attrs | cont | (i == 2 ? 0x4 : 0);      /* AttrIndx 1 */
	}
	/* A run differing only in AF / dirty: the hardware sets those itself
	 * per entry, so the run stays consistent. */
	for (unsigned i = 0; i < 16; i++)
		l3[112 + i] = ((0x80000000 + i * 0x1000ull) | attrs | cont) &
			      ~(i & 1 ? 0x400ull : 0);
	img_attach(&m, f);
	CHECK_EQ(collect(&tbl, 0x10000, 0x10000, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 1);
	EXPECT_SEEN(0, VPTE_LEAF, 0, 16, 0x10000, 0x80000000);
	for (uint64_t run = 0x20000; run <= 0x60000; run += 0x10000) {
		CHECK_EQ(collect(&tbl, run, 0x10000, VPTE_ITER_LEAVES), -VPTE_EFAULT);
		CHECK_EQ(collect(&tbl, run + 0xe000, 0x1000, VPTE_ITER_ALL), -VPTE_EFAULT);
		struct vpte_stats st;
		CHECK_EQ(vpte_stats(&tbl, vpte_va(run), 0x10000, &st), -VPTE_EFAULT);
	}
	CHECK_EQ(collect(&tbl, 0x70000, 0x10000, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 1);
	EXPECT_SEEN(0, VPTE_LEAF, 0, 16, 0x70000, 0x80000000);
	/* The whole table: stops at the first bad run, after the good one. */
	CHECK_EQ(collect(&tbl, 0, 1ull << 48, VPTE_ITER_LEAVES), -VPTE_EFAULT);
	CHECK_EQ(vis.n, 1);
	free(m.words);

	/* RISC-V NAPOT whose members name different 64K regions. */
	f = &vpte_format_riscv_sv39;
	w = img_new(&m, f, 0x100000, 3);
	uint64_t *r2 = w, *r1 = w + 512, *r0 = w + 1024;
	r2[0] = ((0x101000ull >> 12) << 10) | 1;
	r1[0] = ((0x102000ull >> 12) << 10) | 1;
	for (unsigned i = 0; i < 16; i++) {
		uint64_t ppn = (0x80000000ull >> 12) | 8;
		r0[16 + i] = (ppn << 10) | 0x47 | (1ull << 63);
		r0[32 + i] = ((ppn + (i == 4 ? 0x10 : 0)) << 10) | 0x47 | (1ull << 63);
	}
	img_attach(&m, f);
	CHECK_EQ(collect(&tbl, 0x10000, 0x10000, VPTE_ITER_LEAVES), 0);
	CHECK_EQ(vis.n, 1);
	EXPECT_SEEN(0, VPTE_LEAF, 0, 16, 0x10000, 0x80000000);
	CHECK_EQ(collect(&tbl, 0x20000, 0x10000, VPTE_ITER_LEAVES), -VPTE_EFAULT);
	free(m.words);
}

int main(void)
{
	test_seek_levels();
	test_seek_runs();
	test_iter_leaves();
	size_t nformats;
	const struct vpte_format *const *formats = vpte_formats(&nformats);
	for (size_t i = 0; i < nformats; i++)
		test_iter_neighbours(formats[i]);
	test_iter_detailed();
	test_halves(&vpte_format_x86_64);
	test_halves(&vpte_format_x86_64_la57);
	test_halves(&vpte_format_riscv_sv39);
	test_halves(&vpte_format_riscv_sv48);
	test_halves(&vpte_format_riscv_sv57);
	test_stats();
	test_recursive();
	test_outside();
	test_bad_runs();
	return test_summary("test_walk");
}
