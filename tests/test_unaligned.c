/* SPDX-License-Identifier: MIT */
/*
 * test_unaligned.c - table pages at host addresses aligned to 8 bytes only.
 *
 * An arena whose base is 8 modulo 16 puts every table page there (its
 * buffer is 16-byte aligned, a page's offset in it is PA - base), and an
 * image's segment may start at any 8-byte offset of its file.  The engine
 * reads and writes whole tables 16 bytes at a time (entry_pair, walk.h),
 * which must not assume more.  Per format, the same edits in such an arena
 * and on the heap: map of whole leaf tables and of level-1 leaves,
 * protect, split, collapse, a copy into a second table of each backend,
 * and an unmap of everything, leave the same leaves after each step, and
 * the unmap leaves none.
 */
#include "testlib.h"

#define LEAVES_MAX (1 << 16) /* 64 KiB granules: 32,771 after the split */

struct side {
	struct vpte_table t, copy;
	long count;
	struct test_leaf leaves[LEAVES_MAX];
};

static struct side in_arena, on_heap;

static void record(struct side *s, const struct vpte_table *t, uint64_t va, uint64_t size)
{
	s->count = test_leaves(t, va, size, s->leaves, LEAVES_MAX);
}

static bool same(const struct side *a, const struct side *b)
{
	return a->count == b->count && a->count >= 0 && a->count <= LEAVES_MAX &&
	       test_leaves_equal(a->leaves, b->leaves, a->count);
}

/* Each edit on both sides, then their leaves compared. */
enum step { MAP_PAGES, MAP_LEVEL1, PROTECT, SPLIT, COLLAPSE, COPY, UNMAP, STEPS };
static const char *const step_names[STEPS] = { "map pages", "map level-1 leaves", "protect",
					      "split", "collapse", "copy", "unmap" };

static int edit(struct side *s, const struct vpte_format *f, enum step step, uint64_t va,
		uint64_t size)
{
	struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 }, none = { 0, 0, 0 };
	struct vpte_prot w = { VPTE_W, 0, 0 };
	struct vpte_map_opts pages = { f->granule_shift, 0 };
	struct vpte_map_opts level1 = { vpte_level_shift(f, 1), 0 };
	switch (step) {
	case MAP_PAGES:
		return vpte_map(&s->t, vpte_va(va), vpte_pa(va), size, rw, &pages);
	case MAP_LEVEL1:
		return vpte_map(&s->t, vpte_va(va), vpte_pa(va), size, rw, &level1);
	case PROTECT:
		return vpte_protect(&s->t, vpte_va(va), size, none, w, NULL);
	case SPLIT:
		return vpte_split(&s->t, vpte_va(va), size, f->granule_shift, NULL);
	case COLLAPSE:
		return vpte_collapse(&s->t, vpte_va(va), size, vpte_level_shift(f, 1), NULL);
	case COPY:
		return vpte_copy(&s->copy, &s->t, vpte_va(va), size, NULL);
	case UNMAP:
		return vpte_unmap(&s->t, vpte_va(va), size, NULL);
	default:
		return -VPTE_EINVAL;
	}
}

static void check_format(const struct vpte_format *f)
{
	uint64_t g = 1ull << f->granule_shift, span = 1ull << vpte_level_shift(f, 1);
	bool level1 = f->leaf_levels & 2u;
	/* Pages over two whole leaf tables and three pages of a third; level-1
	 * leaves (where the format has them) over two spans after those. */
	uint64_t pages_va = 4 * span, pages_size = 2 * span + 3 * g;
	uint64_t huge_va = 8 * span, huge_size = 2 * span, all = 12 * span;
	struct vpte_arena arena, arena_copy;
	struct vpte_heap heap = { 0 };
	CHECK_EQ(vpte_arena_init(&arena, vpte_pa((1ull << 20) + 8), 1ull << 30), 0);
	CHECK_EQ(vpte_arena_init(&arena_copy, vpte_pa((1ull << 20) + 8), 1ull << 30), 0);
	CHECK_EQ(vpte_table_init(&in_arena.t, f, vpte_arena_mem(&arena)), 0);
	CHECK_EQ(vpte_table_init(&in_arena.copy, f, vpte_arena_mem(&arena_copy)), 0);
	CHECK_EQ(vpte_table_init(&on_heap.t, f, vpte_heap_mem(&heap)), 0);
	CHECK_EQ(vpte_table_init(&on_heap.copy, f, vpte_heap_mem(&heap)), 0);
	/* Otherwise this test proves nothing. */
	CHECK_EQ((uintptr_t)(arena.bytes + (in_arena.t.root.addr - arena.base)) & 15u, 8);

	for (enum step step = 0; step < STEPS; step++) {
		bool on_huge = step == MAP_LEVEL1 || step == SPLIT || step == COLLAPSE;
		uint64_t va = on_huge ? huge_va : pages_va, size = on_huge ? huge_size : pages_size;
		const struct vpte_table *shown = step == COPY ? &in_arena.copy : &in_arena.t;
		if (on_huge && !level1)
			continue;
		if (step == UNMAP) {
			va = 0;
			size = all;
		}
		unsigned failed = test_failures;
		CHECK_EQ(edit(&in_arena, f, step, va, size), 0);
		CHECK_EQ(edit(&on_heap, f, step, va, size), 0);
		record(&in_arena, shown, 0, all);
		record(&on_heap, step == COPY ? &on_heap.copy : &on_heap.t, 0, all);
		CHECK(same(&in_arena, &on_heap));
		CHECK(step == UNMAP ? in_arena.count == 0 : in_arena.count > 0);
		if (test_failures != failed)
			printf("    after %s: %ld leaves in the arena, %ld on the heap\n", step_names[step],
			       in_arena.count, on_heap.count);
	}
	CHECK_EQ(vpte_table_destroy(&in_arena.t), 0);
	CHECK_EQ(vpte_table_destroy(&in_arena.copy), 0);
	CHECK_EQ(vpte_table_destroy(&on_heap.t), 0);
	CHECK_EQ(vpte_table_destroy(&on_heap.copy), 0);
	CHECK_EQ(vpte_heap_live_pages(&heap), 0);
	vpte_arena_release(&arena);
	vpte_arena_release(&arena_copy);
}

int main(void)
{
	return test_every_format("test_unaligned", check_format);
}
