/* SPDX-License-Identifier: MIT */
/*
 * test_map_replan.c - a concurrent vpte_map that has to plan again and
 * then cannot get its pages, forced deterministically, every format.
 *
 * The table is concurrent (a reclaim hook that frees at once: no reader
 * runs).  A neighbour's page N shares the lowest table A with the start of
 * the map's range; a leaf already in the range, in the next table B, is
 * re-inserted (VPTE_MAP_INSERT); the range ends in a table C still to be
 * created.  The map plans one page (for C); its first allocation unmaps
 * N, which empties A and frees it (the concurrent unmap).  The apply
 * recreates A from the pool, writes its leaves there and in B, finds the
 * pool empty at C and plans again; that plan's allocation fails.  The
 * map must return -VPTE_ENOMEM with its range exactly as before: the leaf
 * that was there before stays, what the map wrote goes, and nothing leaks.
 */
#include "testlib.h"

struct replan_mem {
	struct test_mem m; /* first: test_mem_free and _virt take the context as one */
	struct vpte_table *t;
	uint64_t neighbour, probe, page;
	bool armed, unmapped, failed;
};

/* The map's first allocation unmaps the neighbour; any allocation once the
 * map has written its first leaf (the second plan's) fails. */
static int replan_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	struct replan_mem *r = ctx;
	struct vpte_walk w;
	if (r->armed && !r->unmapped)
		r->unmapped = vpte_unmap(r->t, vpte_va(r->neighbour), r->page, NULL) == 0;
	else if (r->armed && vpte_seek(&w, r->t, vpte_va(r->probe)) == 0 && w.kind == VPTE_LEAF) {
		r->m.attempts++;
		r->failed = true;
		return -VPTE_ENOMEM;
	}
	return test_mem_alloc(ctx, size, align, pa);
}

static const struct vpte_mem_ops replan_ops = { replan_alloc, test_mem_free, test_mem_virt, NULL, NULL, NULL };

/* A hash of the leaves in [va, va + size): the tables above them may differ
 * (the neighbour's unmap frees one). */
static uint64_t leaf_digest(const struct vpte_table *t, uint64_t va, uint64_t size)
{
	struct vpte_walk w;
	uint64_t h = 0x9e3779b97f4a7c15ull;
	vpte_for_each_entry(&w, t, vpte_va(va), size, VPTE_ITER_LEAVES)
	{
		h = (h ^ w.va.addr) * 0x100000001b3ull;
		h = (h ^ w.entry) * 0x100000001b3ull;
		h = (h ^ w.shift) * 0x100000001b3ull;
	}
	return h ^ (uint64_t)w.error;
}

/*
 * One case: the leaves already in the range are the first page of table B
 * (@every 0), or every @every-th page of it, which needs more stretches
 * than one page of struct map_gaps holds.
 */
static void one_case(const struct vpte_format *f, uint64_t every)
{
	struct replan_mem r;
	struct vpte_table t;
	memset(&r, 0, sizeof(r));
	r.t = &t;
	r.page = 1ull << f->granule_shift;
	/* The span of a lowest-level table: a page of 8-byte entries. */
	uint64_t span = r.page << (f->granule_shift - 3u);
	uint64_t base = 4u * span, pa_off = 1ull << 32;
	struct vpte_prot prot = { VPTE_R | VPTE_W, 0, 0 };
	struct vpte_map_opts opts = { f->granule_shift, VPTE_MAP_INSERT };
	struct vpte_mem mem = { &replan_ops, &r, NULL };
	CHECK_EQ(vpte_table_init(&t, f, mem), 0);
	vpte_table_set_reclaim(&t, &test_reclaim_now);

	uint64_t first = base + r.page, size = 2u * span;
	r.neighbour = base;
	r.probe = first;
	CHECK_EQ(vpte_map(&t, vpte_va(base), vpte_pa(base + pa_off), r.page, prot, NULL), 0);
	for (uint64_t va = base + span; va < base + 2u * span; va += every ? every * r.page : span)
		CHECK_EQ(vpte_map(&t, vpte_va(va), vpte_pa(va + pa_off), r.page, prot, NULL), 0);
	uint64_t before = leaf_digest(&t, first, size);

	r.armed = true;
	CHECK_EQ(vpte_map(&t, vpte_va(first), vpte_pa(first + pa_off), size, prot, &opts),
		 -VPTE_ENOMEM);
	r.armed = false;
	CHECK(r.unmapped);
	CHECK(r.failed);
	CHECK_EQ(leaf_digest(&t, first, size), before);

	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, &t, vpte_va(base + span)), 0);
	CHECK_EQ(w.kind, VPTE_LEAF);
	CHECK_EQ(w.pa.addr, base + span + pa_off);
	CHECK_EQ(vpte_seek(&w, &t, vpte_va(first)), 0);
	CHECK(w.kind != VPTE_LEAF);

	CHECK_EQ(vpte_table_destroy(&t), 0);
	CHECK_EQ(r.m.live, 0);
}

static void cases(const struct vpte_format *f)
{
	one_case(f, 0);
	one_case(f, 2);
}

int main(void)
{
	return test_every_format("test_map_replan", cases);
}
