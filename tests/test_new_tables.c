/* SPDX-License-Identifier: MIT */
/*
 * test_new_tables.c - a map whose range lies in one table still to be
 * created (map_new_tables() in src/engine/map.h: the tables from an empty
 * entry down are built privately and published by one store).
 *
 * Every format, every leaf level L below the top and every level above it
 * where the empty entry can be: a neighbour's page makes the tables down
 * to that level, then a few leaves of level L (partial) or a whole table
 * of them are mapped into the empty entry beside it.  The same map on a
 * concurrent table takes the general walk; both must give the same
 * leaves and tables, the new path one table a level, and tell the
 * observer of each leaf.  Each of the map's
 * allocations made to fail leaves the table as it was, with no page
 * leaked and no hook called.  A leaf where the empty entry was is found
 * (-VPTE_EEXIST).  Where the table's memory moves at each
 * allocation (an arena that grows), the map still lands where it should.
 */
#include "testlib.h"

static unsigned long installs;

static void count_install(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift)
{
	(void)va, (void)pa, (void)shift;
	++*(unsigned long *)ctx;
}

static const struct vpte_observer counting = { count_install, NULL, NULL, NULL, &installs };

static const struct vpte_prot rw = { .flags = VPTE_R | VPTE_W };

/* One map of the test: @n leaves of level @leaf at @va (to @pa), beside a
 * neighbour's page at @neighbour that makes the tables down to @hole. */
struct shape {
	unsigned leaf, hole;
	uint64_t va, pa, size, n, neighbour;
};

static unsigned shift_of(const struct vpte_format *f, unsigned level)
{
	return vpte_level_shift(f, level);
}

static struct shape make_shape(const struct vpte_format *f, unsigned leaf, unsigned hole,
			       bool whole)
{
	struct shape s = { .leaf = leaf, .hole = hole };
	uint64_t table_span = 1ull << shift_of(f, leaf + 1u);
	uint64_t entries = 1ull << f->level_bits[leaf];
	/* The third table of its size, in the lower half of the VA space. */
	s.va = 2u * table_span;
	s.n = whole ? entries : entries < 8u ? 1u : 5u;
	s.va += whole ? 0 : (entries < 8u ? 0 : 3ull << shift_of(f, leaf));
	s.size = s.n << shift_of(f, leaf);
	s.pa = 3u * table_span + (s.va & (table_span - 1u));
	/* The entry next to the range's at level @hole: the tables down to
	 * that level are shared, the entry over the range stays empty. */
	s.neighbour = (s.va & ~(table_span - 1u)) ^ (1ull << shift_of(f, hole));
	return s;
}

/* Whether [@va, @va + @size) to @pa is within @f's (lower) VA and its PA. */
static bool fits(const struct vpte_format *f, uint64_t va, uint64_t size, uint64_t pa)
{
	uint64_t half = 1ull << (f->va_bits - (f->sign_extend ? 1u : 0u));
	return va + size <= half && pa + size <= (1ull << f->pa_bits);
}

static int map_shape(struct vpte_table *t, const struct shape *s)
{
	struct vpte_map_opts opts = { shift_of(t->fmt, s->leaf), 0 };
	return vpte_map(t, vpte_va(s->va), vpte_pa(s->pa), s->size, rw, &opts);
}

/* A table with the neighbour's page mapped; concurrent when asked. */
static void build(struct vpte_table *t, struct test_mem *m, const struct vpte_format *f,
		  const struct shape *s, bool concurrent)
{
	test_table_new(t, m, f);
	if (concurrent)
		vpte_table_set_reclaim(t, &test_reclaim_now);
	CHECK_EQ(vpte_map(t, vpte_va(s->neighbour), vpte_pa(0), 1ull << f->granule_shift, rw, NULL),
		 0);
	vpte_table_set_observer(t, &counting);
}

static void check_shape(const struct vpte_format *f, const struct shape *s)
{
	struct vpte_table t[2];
	struct test_mem m[2];
	struct test_leaf got[2][8];
	struct vpte_stats st[2];
	uint64_t tables = s->hole - s->leaf;
	for (int conc = 0; conc < 2; conc++) {
		build(&t[conc], &m[conc], f, s, conc);
		uint64_t allocs = m[conc].allocs;
		installs = 0;
		CHECK_EQ(map_shape(&t[conc], s), 0);
		CHECK_EQ(installs, s->n);
		CHECK(test_maps_linear(&t[conc], s->va, s->size, s->pa));
		CHECK_EQ(test_leaves(&t[conc], s->va, s->size, got[conc], 8), (long)s->n);
		CHECK_EQ(vpte_stats_table(&t[conc], &st[conc]), 0);
		if (conc)
			continue;
		/* The general walk of a concurrent map also takes a page
		 * for its undo record: the counts are the new path's. */
		CHECK_EQ(m[conc].allocs - allocs, tables);
	}
	CHECK(test_leaves_equal(got[0], got[1], s->n < 8 ? (long)s->n : 8));
	CHECK(!memcmp(st[0].table_pages, st[1].table_pages, sizeof(st[0].table_pages)));
	for (int conc = 0; conc < 2; conc++)
		test_table_done(&t[conc], &m[conc]);

	/* Each allocation made to fail, on the table that takes the new path. */
	for (uint64_t i = 1; i <= tables; i++) {
		struct test_snapshot before, after;
		build(&t[0], &m[0], f, s, false);
		snapshot_take(&before, &t[0]);
		uint64_t live = m[0].live;
		m[0].fail_at = m[0].attempts + i;
		installs = 0;
		CHECK_EQ(map_shape(&t[0], s), -VPTE_ENOMEM);
		snapshot_take(&after, &t[0]);
		CHECK(snapshot_equal(&before, &after));
		CHECK_EQ(m[0].live, live);
		CHECK_EQ(installs, 0);
		snapshot_free(&before);
		snapshot_free(&after);
		m[0].fail_at = 0;
		test_table_done(&t[0], &m[0]);
	}
}

/* Where a leaf of level @s->hole covers the range instead of the empty
 * entry, the map finds it: -VPTE_EEXIST, nothing changed. */
static void leaf_in_the_way(const struct vpte_format *f, const struct shape *s)
{
	struct vpte_table t;
	struct test_mem m;
	struct test_snapshot before, after;
	uint64_t span = 1ull << shift_of(f, s->hole);
	struct vpte_map_opts opts = { shift_of(f, s->hole), 0 };
	build(&t, &m, f, s, false);
	CHECK_EQ(vpte_map(&t, vpte_va(s->va & ~(span - 1u)), vpte_pa(0), span, rw, &opts), 0);
	snapshot_take(&before, &t);
	CHECK_EQ(map_shape(&t, s), -VPTE_EEXIST);
	snapshot_take(&after, &t);
	CHECK(snapshot_equal(&before, &after));
	snapshot_free(&before);
	snapshot_free(&after);
	test_table_done(&t, &m);
}

/*
 * struct moving_mem - table memory that moves on every allocation, as an
 * arena's may when it grows: one buffer behind a direct window, copied to
 * a new place before each new page, and the old one poisoned and freed.
 * Pages are not reused.
 */
struct moving_mem {
	struct vpte_direct_map window;
	uint8_t *bytes;
	uint64_t used, live;
};

#define MOVING_BASE (1ull << 40) /* aligned to any page: offsets align as PAs */

static int moving_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	struct moving_mem *m = ctx;
	uint64_t start = (m->used + align - 1u) / align * align;
	uint8_t *bytes = aligned_alloc(64, start + size);
	if (!bytes)
		return -VPTE_ENOMEM;
	memset(bytes + m->used, 0, start + size - m->used);
	if (m->bytes) {
		memcpy(bytes, m->bytes, m->used);
		memset(m->bytes, 0xa5, m->used);
		free(m->bytes);
	}
	m->bytes = bytes;
	m->used = start + size;
	m->window = (struct vpte_direct_map){ MOVING_BASE, m->used, (uintptr_t)bytes };
	m->live++;
	*pa = vpte_pa(MOVING_BASE + start);
	return 0;
}

static void moving_free(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct moving_mem *m = ctx;
	memset(m->bytes + (pa.addr - MOVING_BASE), 0xa5, size);
	m->live--;
}

static void *moving_virt(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct moving_mem *m = ctx;
	uint64_t off = pa.addr - MOVING_BASE;
	return off < m->used && m->used - off >= size ? m->bytes + off : NULL;
}

static const struct vpte_mem_ops moving_ops = { moving_alloc, moving_free, moving_virt, NULL, NULL,
						NULL };

/* The map of @s where every allocation moves the table's memory: it must
 * still write where the table now is. */
static void memory_moves(const struct vpte_format *f, const struct shape *s)
{
	struct moving_mem m = { 0 };
	struct vpte_table t;
	CHECK_EQ(vpte_table_init(&t, f, (struct vpte_mem){ &moving_ops, &m, &m.window }), 0);
	CHECK_EQ(vpte_map(&t, vpte_va(s->neighbour), vpte_pa(0), 1ull << f->granule_shift, rw, NULL),
		 0);
	CHECK_EQ(map_shape(&t, s), 0);
	CHECK(test_maps_linear(&t, s->va, s->size, s->pa));
	CHECK(test_maps_linear(&t, s->neighbour, 1ull << f->granule_shift, 0));
	CHECK_EQ(vpte_table_destroy(&t), 0);
	CHECK_EQ(m.live, 0);
	free(m.bytes);
}

static void cases(const struct vpte_format *f)
{
	unsigned top = f->levels - 1u;
	for (unsigned leaf = 0; leaf < top; leaf++) {
		if (!(f->leaf_levels & (1u << leaf)))
			continue;
		for (unsigned hole = leaf + 1u; hole <= top; hole++)
			for (int whole = 0; whole < 2; whole++) {
				struct shape s = make_shape(f, leaf, hole, whole);
				if (!fits(f, s.va, s.size, s.pa) || !fits(f, s.neighbour, 1, 0))
					continue;
				check_shape(f, &s);
				memory_moves(f, &s);
				if (f->leaf_levels & (1u << hole))
					leaf_in_the_way(f, &s);
			}
	}
}

int main(void)
{
	return test_every_format("test_new_tables", cases);
}
