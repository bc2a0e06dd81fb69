/* SPDX-License-Identifier: MIT */
/*
 * test_pool.c - the page pool of all-or-nothing edits (struct vpte_pool,
 * src/engine/internal.h): it keeps the first POOL_FIRST pages' addresses
 * in itself and the rest in index pages of its own, so the counts here
 * cross several index pages (511 addresses each with 4 KiB pages), and
 * small pools every count around POOL_FIRST.  Every page taken is one
 * that was given, once, at the pointer its address translates to (in an
 * arena whose buffer moves as it grows, too); a zeroed pool's pages come
 * out all zero, the index pages included; a failed fill, wherever it
 * fails, leaves nothing allocated.
 */
#include "testlib.h"

#include "engine/internal.h"

#define MANY 1300u /* three index pages and more */

static int cmp_pa(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Take every page of @pool into @pa (from @got on); @zeroed: check each is
 * all zero.  Returns the new count. */
static uint64_t take_all(struct vpte_pool *pool, const struct vpte_table *t, bool zeroed,
			 uint64_t *pa, uint64_t got)
{
	uint64_t page_size = 1ull << t->fmt->granule_shift;
	while (pool->count) {
		vpte_pa_t at;
		void *page = vpte_pool_take_page(pool, t, zeroed, &at);
		CHECK(page == vpte_mem_ptr(&t->mem, at, page_size));
		if (zeroed)
			CHECK(vpte_page_is_zero(page, page_size));
		pa[got++] = at.addr;
	}
	return got;
}

/* Every address once: none lost, none handed out twice. */
static void check_distinct(uint64_t *pa, uint64_t n)
{
	qsort(pa, n, sizeof(*pa), cmp_pa);
	for (uint64_t i = 1; i < n; i++)
		CHECK(pa[i] != pa[i - 1]);
}

static void free_all(struct test_mem *m, const struct vpte_table *t, const uint64_t *pa,
		     uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		t->mem.ops->free(m, vpte_pa(pa[i]), 1ull << t->fmt->granule_shift);
}

/* Both pools filled at once (alloc_batch), taken empty, given back, taken
 * again. */
static void fill_take_put(const struct vpte_format *f, struct vpte_mem mem, struct test_mem *m)
{
	struct vpte_table t;
	CHECK_EQ(vpte_table_init(&t, f, mem), 0);
	uint64_t base = m->live, n = 0;
	uint64_t *pa = calloc(2u * MANY + 7u, sizeof(*pa));
	struct vpte_pool zeroed = { 0 }, whole = { 0 };
	CHECK_EQ(vpte_pools_fill(&zeroed, MANY, &whole, MANY + 7u, &t), 0);
	CHECK_EQ(zeroed.count, MANY);
	CHECK_EQ(whole.count, MANY + 7u);
	CHECK_EQ(m->live - base, 2u * MANY + 7u);
	/* Topping up adds only what is missing. */
	CHECK_EQ(vpte_pools_fill(&zeroed, MANY, &whole, MANY + 7u, &t), 0);
	CHECK_EQ(m->live - base, 2u * MANY + 7u);

	n = take_all(&zeroed, &t, true, pa, n);
	n = take_all(&whole, &t, false, pa, n);
	CHECK_EQ(n, 2u * MANY + 7u);
	check_distinct(pa, n);

	/* Zeroed pages given back (vpte_pool_put()) come out zeroed again,
	 * though some of them held the pool's index meanwhile. */
	struct vpte_pool back = { 0 };
	for (uint64_t i = 0; i < MANY; i++) {
		memset((void *)(uintptr_t)pa[i], 0, 1ull << f->granule_shift);
		vpte_pool_put(&back, &t, vpte_pa(pa[i]));
	}
	CHECK_EQ(back.count, MANY);
	uint64_t again = take_all(&back, &t, true, pa, 0);
	CHECK_EQ(again, MANY);
	free_all(m, &t, pa, n);
	CHECK_EQ(m->live, base);

	/* What drain frees is exactly what the pool holds. */
	CHECK_EQ(vpte_pool_fill(&zeroed, &t, MANY), 0);
	vpte_pool_drain(&zeroed, &t);
	CHECK_EQ(zeroed.count, 0);
	CHECK_EQ(m->live, base);
	free(pa);
	vpte_table_destroy(&t);
}

/* A fill that fails at allocation @at frees everything it had. */
static void fill_fails(const struct vpte_format *f, struct vpte_mem mem, struct test_mem *m,
		       uint64_t at)
{
	struct vpte_table t;
	CHECK_EQ(vpte_table_init(&t, f, mem), 0);
	uint64_t base = m->live;
	struct vpte_pool zeroed = { 0 }, whole = { 0 };
	m->attempts = 0;
	m->fail_at = at;
	CHECK_EQ(vpte_pools_fill(&zeroed, 600, &whole, 600, &t), -VPTE_ENOMEM);
	m->fail_at = 0;
	CHECK_EQ(zeroed.count, 0);
	CHECK_EQ(whole.count, 0);
	CHECK_EQ(m->live, base);
	vpte_table_destroy(&t);
}

/* An arena's buffer moves as the pool's fill grows it: the pool must
 * reach its index pages anew. */
static void arena_moves(const struct vpte_format *f)
{
	struct vpte_arena arena;
	struct vpte_table t;
	CHECK_EQ(vpte_arena_init(&arena, vpte_pa(0x40000000), 64ull << 20), 0);
	CHECK_EQ(vpte_table_init(&t, f, vpte_arena_mem(&arena)), 0);
	uint64_t *pa = calloc(2u * MANY, sizeof(*pa));
	struct vpte_pool zeroed = { 0 }, whole = { 0 };
	CHECK_EQ(vpte_pools_fill(&zeroed, MANY, &whole, MANY, &t), 0);
	uint64_t n = take_all(&zeroed, &t, true, pa, 0);
	n = take_all(&whole, &t, false, pa, n);
	CHECK_EQ(n, 2u * MANY);
	check_distinct(pa, n);
	vpte_table_destroy(&t);
	free(pa);
	vpte_arena_release(&arena);
}

/* Pools of every size around POOL_FIRST, the pages whose addresses the
 * pool keeps in itself, up to one index page past it: each fill failing at
 * every allocation, then the pages taken, given back, taken in part and
 * given back across the boundary, and taken again. */
static void small_pools(const struct vpte_format *f, struct vpte_mem mem, struct test_mem *m)
{
	enum { MOST = POOL_FIRST + 3u };
	struct vpte_table t;
	CHECK_EQ(vpte_table_init(&t, f, mem), 0);
	uint64_t base = m->live, page_size = 1ull << f->granule_shift;
	for (uint64_t nz = 0; nz <= MOST; nz++) {
		for (uint64_t nw = 0; nw <= MOST; nw++) {
			struct vpte_pool zeroed = { 0 }, whole = { 0 };
			for (uint64_t at = 1; at <= nz + nw; at++) {
				m->attempts = 0;
				m->fail_at = at;
				CHECK_EQ(vpte_pools_fill(&zeroed, nz, &whole, nw, &t), -VPTE_ENOMEM);
				m->fail_at = 0;
				CHECK_EQ(zeroed.count + whole.count, 0);
				CHECK_EQ(m->live, base);
			}
			uint64_t pa[2u * MOST], n;
			CHECK_EQ(vpte_pools_fill(&zeroed, nz, &whole, nw, &t), 0);
			CHECK_EQ(m->live - base, nz + nw);
			n = take_all(&zeroed, &t, true, pa, 0);
			n = take_all(&whole, &t, false, pa, n);
			CHECK_EQ(n, nz + nw);
			check_distinct(pa, n);

			/* Back into one pool, zeroed, then the newer half taken
			 * and given back, so that an index page goes and comes
			 * again: every page, an index page too, comes out
			 * zeroed. */
			struct vpte_pool back = { 0 };
			uint64_t out[2u * MOST], taken = 0;
			for (uint64_t i = 0; i < n; i++) {
				memset((void *)(uintptr_t)pa[i], 0, page_size);
				vpte_pool_put(&back, &t, vpte_pa(pa[i]));
			}
			for (; taken < (n + 1u) / 2u; taken++) {
				vpte_pa_t at;
				void *page = vpte_pool_take_page(&back, &t, true, &at);
				CHECK(page == vpte_mem_ptr(&t.mem, at, page_size));
				CHECK(vpte_page_is_zero(page, page_size));
				out[taken] = at.addr;
			}
			for (uint64_t i = 0; i < taken; i++)
				vpte_pool_put(&back, &t, vpte_pa(out[i]));
			CHECK_EQ(back.count, n);
			taken = take_all(&back, &t, true, out, 0);
			CHECK_EQ(taken, n);
			check_distinct(out, taken);
			free_all(m, &t, out, taken);
			CHECK_EQ(m->live, base);
		}
	}
	vpte_table_destroy(&t);
}

int main(void)
{
	arena_moves(&vpte_format_x86_64);
	/* With alloc_batch (the pool zeroes), and with alloc alone. */
	static const struct vpte_mem_ops single_ops = { test_mem_alloc, test_mem_free,
							test_mem_virt, NULL, NULL, NULL };
	const struct vpte_format *formats[] = { &vpte_format_x86_64, &vpte_format_arm64_16k_47 };
	for (unsigned i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct test_mem m = { 0 };
		fill_take_put(formats[i], test_mem(&m), &m);
		fill_take_put(formats[i], test_mem_direct(&m), &m);
		struct vpte_mem single = { &single_ops, &m, NULL };
		fill_take_put(formats[i], single, &m);
		small_pools(formats[i], test_mem(&m), &m);
		small_pools(formats[i], single, &m);
		/* The first page, the first index page, at an index page's
		 * end, in a later batch, the last. */
		const uint64_t fail_at[] = { 1, 2, 4, 5, 6, 64, 65, 515, 516, 517, 600, 601, 1200 };
		for (unsigned k = 0; k < sizeof(fail_at) / sizeof(fail_at[0]); k++) {
			fill_fails(formats[i], test_mem(&m), &m, fail_at[k]);
			fill_fails(formats[i], single, &m, fail_at[k]);
		}
		CHECK_EQ(m.live, 0);
	}
	return test_summary("test_pool");
}
