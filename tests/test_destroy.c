/* SPDX-License-Identifier: MIT */
/*
 * test_destroy.c - vpte_table_destroy() frees every table page, the root
 * included, and nothing else, on every format:
 *
 * - a tree of leaf tables, level-1 leaves and tables at every level
 *   leaves no page behind;
 * - leaf tables go unread: with every leaf table's page made inaccessible
 *   (PROT_NONE until the backend frees it) the teardown still returns 0
 *   and frees every page, so a teardown costs a visit per table, not a
 *   read of every entry (docs/performance-log.md item 59);
 * - leaves are not the table's memory: leaf tables full of entries that
 *   no format accepts are freed all the same, and destroy returns 0;
 * - a read-only attachment frees nothing.
 */
#include <sys/mman.h>

#include "testlib.h"

/* The pages made inaccessible, so that the backend's free can open them
 * again before it hands them to free() (which writes into them). */
#define MAX_HIDDEN 16u

struct hiding_mem {
	struct test_mem counts;
	uint64_t hidden[MAX_HIDDEN];
	unsigned nhidden;
};

static void hiding_free(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct hiding_mem *m = ctx;
	for (unsigned i = 0; i < m->nhidden; i++)
		if (m->hidden[i] == pa.addr)
			CHECK_EQ(mprotect((void *)(uintptr_t)pa.addr, size, PROT_READ | PROT_WRITE), 0);
	test_mem_free(&m->counts, pa, size);
}

static int hiding_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	return test_mem_alloc(&((struct hiding_mem *)ctx)->counts, size, align, pa);
}

static int hiding_alloc_uninit(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	return test_mem_alloc_uninit(&((struct hiding_mem *)ctx)->counts, size, align, pa);
}

static uint64_t hiding_alloc_batch(void *ctx, uint64_t size, uint64_t align, uint64_t n,
				   vpte_pa_t *pa)
{
	return test_mem_alloc_batch(&((struct hiding_mem *)ctx)->counts, size, align, n, pa);
}

static const struct vpte_mem_ops hiding_ops = { hiding_alloc,	     hiding_free,
						test_mem_virt,	     hiding_alloc_uninit,
						hiding_alloc_batch, NULL };

/* The leaf table holding @va's entry (a level-0 leaf maps @va). */
static uint64_t *leaf_table_of(const struct vpte_table *t, uint64_t va)
{
	uint64_t page = 1ull << t->fmt->granule_shift;
	return (uint64_t *)((uintptr_t)test_entry_at(t, va) & ~(uintptr_t)(page - 1u));
}

/* Map pages into three leaf tables (two side by side, one far away: under
 * the root's second entry, with tables of its own at every level between)
 * and a level-1 leaf; return the VAs of one page in each leaf table. */
static void build(struct vpte_table *t, uint64_t va_of_leaf_table[3])
{
	const struct vpte_format *f = t->fmt;
	uint64_t g = 1ull << f->granule_shift, s1 = 1ull << vpte_level_shift(f, 1);
	unsigned top = vpte_top_level(f);
	uint64_t far = top >= 2 ? 1ull << vpte_level_shift(f, top) : 2 * s1;
	struct vpte_prot p = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts pages = { f->granule_shift, 0 }, huge = { vpte_level_shift(f, 1), 0 };

	va_of_leaf_table[0] = 0;
	va_of_leaf_table[1] = s1 + 3 * g;
	va_of_leaf_table[2] = far + s1 - g;
	CHECK_EQ(vpte_map(t, vpte_va(0), vpte_pa(1ull << 30), s1 + 4 * g, p, &pages), 0);
	CHECK_EQ(vpte_map(t, vpte_va(far + s1 - g), vpte_pa(1ull << 31), g, p, &pages), 0);
	CHECK_EQ(vpte_map(t, vpte_va(4 * s1), vpte_pa(1ull << 32), s1, p, &huge), 0);
}

static void check_unread(const struct vpte_format *f)
{
	struct hiding_mem m = { 0 };
	struct vpte_table t;
	uint64_t va[3];
	uint64_t page = 1ull << f->granule_shift;

	CHECK_EQ(vpte_table_init(&t, f, (struct vpte_mem){ &hiding_ops, &m, NULL }), 0);
	build(&t, va);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t *table = leaf_table_of(&t, va[i]);
		CHECK_EQ(mprotect(table, page, PROT_NONE), 0);
		m.hidden[m.nhidden++] = (uintptr_t)table;
	}
	CHECK_EQ(vpte_table_destroy(&t), 0);
	CHECK_EQ(m.counts.live, 0);
}

static void check_garbage_leaves(const struct vpte_format *f)
{
	struct test_mem m;
	struct vpte_table t;
	uint64_t va[3];
	uint64_t entries = 1ull << f->level_bits[0];

	test_table_new(&t, &m, f);
	build(&t, va);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t *table = leaf_table_of(&t, va[i]);
		for (uint64_t k = 0; k < entries; k++)
			table[k] = ~0ull;
	}
	test_table_done(&t, &m);
}

static void check_readonly(const struct vpte_format *f)
{
	struct test_mem m;
	struct vpte_table t, ro;
	uint64_t va[3];

	test_table_new(&t, &m, f);
	build(&t, va);
	uint64_t live = m.live;
	CHECK_EQ(vpte_table_attach(&ro, f, test_mem(&m), t.root, VPTE_TABLE_READONLY), 0);
	CHECK_EQ(vpte_table_destroy(&ro), 0);
	CHECK_EQ(m.live, live);
	test_table_done(&t, &m);
}

static void cases(const struct vpte_format *f)
{
	check_unread(f);
	check_garbage_leaves(f);
	check_readonly(f);
}

int main(void)
{
	return test_every_format("test_destroy", cases);
}
