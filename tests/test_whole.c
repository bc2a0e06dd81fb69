/* SPDX-License-Identifier: MIT */
/*
 * test_whole.c - tables written whole (struct vpte_mem_ops.alloc_uninit),
 * every format.
 *
 * A map takes an unzeroed page for exactly the new tables whose whole span
 * lies in its range, and a zeroed one for every other; a backend with
 * alloc_batch gives every page unzeroed, and the engine zeroes those of the
 * other tables itself.  The allocator here hands out unzeroed pages full
 * of 0xa5 bytes (tests/testlib.h), so an entry the map forgot to write, or
 * a page it forgot to zero, would differ from the same map built with a
 * backend that has no alloc_uninit (every page zeroed).  Two maps per
 * format: granule leaves over two whole leaf tables and one entry of a
 * leaf table at each end; the largest leaves (and contiguous runs) over a
 * whole level-1 table and one granule at each end; a third, granule leaves
 * over more whole leaf tables than one alloc_batch call brings.  Each map
 * runs with all its pages in batches (alloc_batch, whose batch count is
 * checked) and with the unzeroed ones one at a time (alloc_uninit).  Each allocation of each map
 * (of the large one, those about the batches' ends) fails in turn,
 * part-way through a batch too: -VPTE_ENOMEM, the table as before, nothing
 * leaked.  A
 * concurrent table (reclaim hook) builds the same tables from the same
 * pages (publishing a table written whole by compare-and-swap).  A copy of the
 * granule-leaf map, with a hole cut in each whole leaf table, writes those
 * tables whole, holes as zero entries, and zeroes the pages of the others.
 */
#include "testlib.h"

static const struct vpte_mem_ops zeroed_ops = { test_mem_alloc, test_mem_free, test_mem_virt,
						NULL, NULL, NULL };
/* Unzeroed pages one at a time: no alloc_batch. */
static const struct vpte_mem_ops single_ops = { test_mem_alloc, test_mem_free, test_mem_virt,
						test_mem_alloc_uninit, NULL, NULL };

/* The most pages the engine asks of alloc_batch at once (vpte.h). */
#define BATCH_PAGES 64u

struct scene {
	const struct vpte_format *f;
	uint64_t va, pa, size;
	unsigned max_shift;
	uint64_t around;    /* bytes each side compared too */
};

static int scene_map(const struct scene *s, struct vpte_table *t)
{
	struct vpte_prot prot = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts opts = { s->max_shift, 0 };
	return vpte_map(t, vpte_va(s->va), vpte_pa(s->pa), s->size, prot, &opts);
}

/* Every entry around the range, a table entry by where it is only (two
 * tables of the same layout have their tables at other addresses). */
static uint64_t scene_digest(const struct scene *s, const struct vpte_table *t)
{
	struct vpte_walk w;
	uint64_t h = 0x9e3779b97f4a7c15ull;
	vpte_for_each_entry(&w, t, vpte_va(s->va - s->around), s->size + 2 * s->around,
			    VPTE_ITER_ALL)
	{
		h = (h ^ w.va.addr) * 0x100000001b3ull;
		h = (h ^ (w.kind == VPTE_TABLE ? 0 : w.entry)) * 0x100000001b3ull;
		h = (h ^ (w.shift | (uint64_t)w.level << 8 | (uint64_t)w.kind << 16)) * 0x100000001b3ull;
	}
	return h ^ (uint64_t)w.error;
}

/* The tables in @t whose span lies in the scene's range. */
static uint64_t whole_tables(const struct scene *s, const struct vpte_table *t)
{
	struct vpte_walk w;
	uint64_t n = 0;
	vpte_for_each_entry(&w, t, vpte_va(s->va), s->size, VPTE_ITER_TABLES)
	{
		uint64_t end = w.va.addr + (1ull << w.shift);
		n += w.kind == VPTE_TABLE && w.va.addr >= s->va && end <= s->va + s->size;
	}
	return n;
}

/* Does the failure of allocation @i of @n make a case?  Every one of a
 * small map; of a large one those at either end and on either side of each
 * batch's end (alloc_batch), where a batch comes back short. */
static bool fail_point(uint64_t i, uint64_t n)
{
	uint64_t in_batch = i % BATCH_PAGES;
	return n <= 16u || i <= 2u || i + 2u >= n || in_batch <= 2u ||
	       in_batch + 2u >= BATCH_PAGES;
}

/* Map the scene into tables of @ops (@mem counting) and compare. */
static void check_scene_with(const struct scene *s, const struct vpte_mem_ops *ops)
{
	struct test_mem mem = { 0 }, ref_mem = { 0 };
	struct vpte_mem ref_backend = { &zeroed_ops, &ref_mem, NULL };
	struct vpte_mem backend = { ops, &mem, NULL };
	struct vpte_table t, ref;
	const char *name = s->f->name;

	/* The map against the same map with zeroed pages only. */
	CHECK_EQ(vpte_table_init(&t, s->f, backend), 0);
	CHECK_EQ(vpte_table_init(&ref, s->f, ref_backend), 0);
	uint64_t empty = scene_digest(s, &t);
	CHECK_EQ(scene_map(s, &t), 0);
	CHECK_EQ(scene_map(s, &ref), 0);
	uint64_t whole = whole_tables(s, &t), fresh = mem.allocs - 1u; /* the root aside */
	uint64_t unzeroed = ops->alloc_batch ? fresh : whole;
	if (mem.uninit != unzeroed || !whole || scene_digest(s, &t) != scene_digest(s, &ref) ||
	    mem.allocs != ref_mem.allocs || ref_mem.uninit) {
		fprintf(stderr,
			"%s: map of 0x%" PRIx64 "+0x%" PRIx64 ": %" PRIu64 " unzeroed pages for %" PRIu64
			" whole tables, %" PRIu64 " pages against %" PRIu64 ", tables %s\n",
			name, s->va, s->size, mem.uninit, whole, mem.allocs, ref_mem.allocs,
			scene_digest(s, &t) == scene_digest(s, &ref) ? "alike" : "DIFFER");
		test_failures++;
	}
	/* Every page of the map comes in full batches where the backend has
	 * alloc_batch (one request for both kinds); where it has not, the
	 * whole tables' pages come one at a time. */
	if (ops->alloc_batch) {
		CHECK_EQ(mem.batched, fresh);
		CHECK_EQ(mem.batches, (fresh + BATCH_PAGES - 1u) / BATCH_PAGES);
	} else {
		CHECK_EQ(mem.batches, 0);
	}
	uint64_t done = scene_digest(s, &t), allocs = fresh;
	CHECK_EQ(vpte_table_destroy(&t), 0);
	CHECK_EQ(vpte_table_destroy(&ref), 0);
	CHECK_EQ(mem.live, 0);

	/* Each allocation fails in turn: nothing changes, nothing leaks. */
	for (uint64_t i = 1; i <= allocs; i++) {
		if (!fail_point(i, allocs))
			continue;
		mem = (struct test_mem){ 0 };
		CHECK_EQ(vpte_table_init(&t, s->f, backend), 0);
		mem.fail_at = mem.attempts + i;
		int err = scene_map(s, &t);
		if (err != -VPTE_ENOMEM || scene_digest(s, &t) != empty || mem.live != 1) {
			fprintf(stderr, "%s: allocation %" PRIu64 " of %" PRIu64 " failed: map returned %d,"
				" %" PRIu64 " pages live, table %s\n", name, i, allocs, err, mem.live,
				scene_digest(s, &t) == empty ? "unchanged" : "CHANGED");
			test_failures++;
		}
		mem.fail_at = 0;
		CHECK_EQ(scene_map(s, &t), 0);
		CHECK_EQ(scene_digest(s, &t), done);
		CHECK_EQ(vpte_table_destroy(&t), 0);
		CHECK_EQ(mem.live, 0);
	}

	/* A concurrent table builds the same tables from the same pages. */
	mem = (struct test_mem){ 0 };
	CHECK_EQ(vpte_table_init(&t, s->f, backend), 0);
	vpte_table_set_reclaim(&t, &test_reclaim_now);
	CHECK_EQ(scene_map(s, &t), 0);
	CHECK_EQ(mem.allocs - 1u, allocs);
	CHECK_EQ(mem.uninit, unzeroed);
	CHECK_EQ(scene_digest(s, &t), done);
	CHECK_EQ(vpte_table_destroy(&t), 0);
	CHECK_EQ(mem.live, 0);
}

/* The scene with unzeroed pages in batches and one at a time. */
static void check_scene(const struct scene *s)
{
	check_scene_with(s, &test_mem_ops);
	check_scene_with(s, &single_ops);
}

/* vpte_copy of the scene's map, less one granule in each leaf table, into
 * a table of the same format: against the same copy with zeroed pages. */
static void check_copy(const struct scene *s, uint64_t hole_every)
{
	struct test_mem src_mem = { 0 }, mem = { 0 }, ref_mem = { 0 };
	struct vpte_mem ref_backend = { &zeroed_ops, &ref_mem, NULL };
	struct vpte_table src, t, ref;
	uint64_t g = 1ull << s->f->granule_shift;
	CHECK_EQ(vpte_table_init(&src, s->f, test_mem(&src_mem)), 0);
	CHECK_EQ(scene_map(s, &src), 0);
	for (uint64_t va = s->va + hole_every / 2; va < s->va + s->size; va += hole_every)
		CHECK_EQ(vpte_unmap(&src, vpte_va(va), g, NULL), 0);
	CHECK_EQ(vpte_table_init(&t, s->f, test_mem(&mem)), 0);
	CHECK_EQ(vpte_table_init(&ref, s->f, ref_backend), 0);
	CHECK_EQ(vpte_copy(&t, &src, vpte_va(s->va), s->size, NULL), 0);
	CHECK_EQ(vpte_copy(&ref, &src, vpte_va(s->va), s->size, NULL), 0);
	uint64_t whole = whole_tables(s, &t);
	/* alloc_batch (test_mem) gives every page, the root's aside. */
	if (mem.uninit != mem.allocs - 1u || !whole ||
	    scene_digest(s, &t) != scene_digest(s, &ref) ||
	    scene_digest(s, &t) != scene_digest(s, &src) || mem.allocs != ref_mem.allocs) {
		fprintf(stderr,
			"%s: copy of 0x%" PRIx64 "+0x%" PRIx64 ": %" PRIu64 " unzeroed pages for %" PRIu64
			" whole tables, %" PRIu64 " pages against %" PRIu64 ", tables %s\n",
			s->f->name, s->va, s->size, mem.uninit, whole, mem.allocs, ref_mem.allocs,
			scene_digest(s, &t) == scene_digest(s, &ref) ? "alike" : "DIFFER");
		test_failures++;
	}
	CHECK_EQ(vpte_table_destroy(&t), 0);
	CHECK_EQ(vpte_table_destroy(&ref), 0);
	CHECK_EQ(vpte_table_destroy(&src), 0);
	CHECK_EQ(mem.live + ref_mem.live + src_mem.live, 0);
}

int main(void)
{
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	for (size_t i = 0; i < count; i++) {
		const struct vpte_format *f = formats[i];
		uint64_t g = 1ull << f->granule_shift, s1 = 1ull << vpte_level_shift(f, 1);
		uint64_t base = 1ull << (f->va_bits - 2u), pa = 1ull << (f->pa_bits - 2u);
		/* Granule leaves: two whole leaf tables, one entry of a leaf table
		 * at each end. */
		struct scene leaves = { f, base + s1 - g, pa + s1 - g, 2 * s1 + 2 * g, f->granule_shift,
					s1 };
		check_scene(&leaves);
		check_copy(&leaves, s1);
		/* Granule leaves over more whole leaf tables than a batch holds. */
		struct scene many = { f, base, pa, (BATCH_PAGES + 3u) * s1, f->granule_shift, g };
		check_scene(&many);
		/* The largest leaves below a level-2 entry's size (runs too): a
		 * whole level-1 table, one granule at each end. */
		if (f->levels >= 3) {
			unsigned shift2 = vpte_level_shift(f, 2);
			uint64_t s2 = 1ull << shift2;
			struct scene large = { f, base + s2 - g, pa + s2 - g, s2 + 2 * g, shift2 - 1u, s2 };
			check_scene(&large);
		}
		printf("  %s\n", f->name);
	}
	return test_summary("test_whole");
}
