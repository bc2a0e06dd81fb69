/* SPDX-License-Identifier: MIT */
/*
 * test_fill.c - a backend's table fill (struct vpte_mem_ops @fill).
 *
 * - The hosted backends' fill, where this CPU has one (AVX2 on x86-64):
 *   every length from 0 to 600 entries at each of the eight alignments in
 *   a cache line, with steps 0, 1, a page, 2 MiB and one that wraps, writes
 *   exactly the entries asked for and not a byte beside them.  The heap and
 *   the arena make the same choice.
 * - The engine hands the fill its long runs: per format, a map of whole
 *   leaf tables, a map of level-1 leaves, a split and a copy (into a table
 *   with an observer: without one, a table of leaves alike is copied as it
 *   is, not filled, copy.h), each done on
 *   a backend without a fill and on one whose fill checks what it is given
 *   (at least 64 entries, 8-byte aligned, inside one table page) before
 *   writing: the same leaves on both, and the fill wrote at least every
 *   entry of the whole tables.
 * - The same four operations on the heap backend, with its own fill, give
 *   those leaves too, and leave no page behind.
 */
#include "testlib.h"

#define MAX_RUN 600u
#define LEAVES_MAX (1 << 15) /* two 64 KiB-granule leaf tables and more */

/* ---- the hosted fill itself ---- */

static void check_hosted_fill(void)
{
	struct vpte_heap heap = { 0 };
	struct vpte_arena arena;
	struct vpte_mem heap_mem = vpte_heap_mem(&heap);
	CHECK_EQ(vpte_arena_init(&arena, vpte_pa(1ull << 30), 1ull << 20), 0);
	struct vpte_mem arena_mem = vpte_arena_mem(&arena);
	/* Both backends give the same fill, or both none. */
	CHECK(heap_mem.ops->fill == arena_mem.ops->fill);
	vpte_arena_release(&arena);
	void (*fill)(void *, uint64_t *, uint64_t, uint64_t, uint64_t) = heap_mem.ops->fill;
	if (!fill) {
		printf("  no wider fill on this CPU: the engine's own stores serve\n");
		return;
	}
	static const uint64_t steps[] = { 0, 1, 4096, 1ull << 21, 0xfff0000000000001ull };
	/* A line of guard entries before and after the run. */
	uint64_t *buf = aligned_alloc(64, (MAX_RUN + 24) * sizeof(uint64_t));
	const uint64_t guard = 0xa5a5a5a5a5a5a5a5ull;
	unsigned bad = 0;
	for (unsigned s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
		for (unsigned align = 0; align < 8; align++)
			for (uint64_t n = 0; n <= MAX_RUN; n++) {
				uint64_t first = 0x8000000000000063ull + n * 4096u;
				uint64_t *run = buf + 8 + align;
				for (unsigned i = 0; i < MAX_RUN + 24; i++)
					buf[i] = guard;
				fill(NULL, run, n, first, steps[s]);
				for (uint64_t i = 0; i < MAX_RUN + 24; i++) {
					uint64_t *at = buf + i;
					bool inside = at >= run && at < run + n;
					uint64_t want = inside ? first + (uint64_t)(at - run) * steps[s]
							       : guard;
					bad += *at != want;
				}
			}
	CHECK_EQ(bad, 0);
	free(buf);
}

/* ---- the engine's use of it ---- */

/* A test allocator (its struct first, for test_mem_ops' callbacks) whose
 * fill checks its arguments, counts, and writes the entries. */
struct fill_mem {
	struct test_mem m;
	uint64_t page;  /* the table page size */
	uint64_t calls, entries, misuse;
};

static void checking_fill(void *ctx, uint64_t *entries, uint64_t n, uint64_t first,
			  uint64_t step)
{
	struct fill_mem *fm = ctx;
	uintptr_t start = (uintptr_t)entries, last = (uintptr_t)(entries + n) - 1u;
	fm->misuse += n < 64u || (start & 7u) ||
		      (start & ~(fm->page - 1u)) != (last & ~(fm->page - 1u));
	fm->calls++;
	fm->entries += n;
	for (uint64_t i = 0; i < n; i++)
		entries[i] = first + i * step;
}

static const struct vpte_mem_ops checking_ops = { test_mem_alloc, test_mem_free, test_mem_virt,
						   test_mem_alloc_uninit, test_mem_alloc_batch,
						   checking_fill };

/* What one operation leaves: the leaves of [va, va + size), and how many
 * installs an observer heard of (copy only). */
struct outcome {
	long count, installs;
	struct test_leaf leaves[LEAVES_MAX];
};

static void count_install(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift)
{
	(void)va;
	(void)pa;
	(void)shift;
	++*(long *)ctx;
}

static bool outcome_equal(const struct outcome *a, const struct outcome *b)
{
	return a->count == b->count && a->count >= 0 && a->count <= LEAVES_MAX &&
	       a->installs == b->installs && test_leaves_equal(a->leaves, b->leaves, a->count);
}

enum op { OP_MAP_LEAVES, OP_MAP_LEVEL1, OP_SPLIT, OP_COPY, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "map of whole leaf tables",
						 "map of level-1 leaves", "split", "copy" };

struct plan {
	uint64_t va, pa, size;
	uint64_t whole_entries; /* entries of the tables the operation writes whole */
};

/* @op on a fresh table of @mem; the leaves to @out.  Returns the result of
 * the last call.  For a copy the source is on a test allocator. */
static int run_op(const struct vpte_format *f, enum op op, const struct plan *p,
		  struct vpte_mem mem, struct outcome *out)
{
	struct vpte_table t, src;
	struct test_mem src_mem = { 0 };
	struct vpte_prot prot = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts leaves = { f->granule_shift, 0 };
	struct vpte_map_opts level1 = { vpte_level_shift(f, 1), 0 };
	int err = vpte_table_init(&t, f, mem);
	out->installs = 0;
	if (err)
		return err;
	switch (op) {
	case OP_MAP_LEAVES:
		err = vpte_map(&t, vpte_va(p->va), vpte_pa(p->pa), p->size, prot, &leaves);
		break;
	case OP_MAP_LEVEL1:
		err = vpte_map(&t, vpte_va(p->va), vpte_pa(p->pa), p->size, prot, &level1);
		break;
	case OP_SPLIT:
		err = vpte_map(&t, vpte_va(p->va), vpte_pa(p->pa), p->size, prot, &level1);
		if (!err)
			err = vpte_split(&t, vpte_va(p->va), p->size, f->granule_shift, NULL);
		break;
	case OP_COPY:
		test_table_new(&src, &src_mem, f);
		err = vpte_map(&src, vpte_va(p->va), vpte_pa(p->pa), p->size, prot, &leaves);
		vpte_table_set_observer(&t, &(struct vpte_observer){ .install = count_install,
								      .ctx = &out->installs });
		if (!err)
			err = vpte_copy(&t, &src, vpte_va(p->va), p->size, NULL);
		vpte_table_set_observer(&t, NULL);
		test_table_done(&src, &src_mem);
		break;
	default:
		err = -VPTE_EINVAL;
	}
	out->count = test_leaves(&t, p->va, p->size, out->leaves, LEAVES_MAX);
	CHECK_EQ(vpte_table_destroy(&t), 0);
	return err;
}

/* Where @op writes tables whole, and how many entries of them the fill
 * must see; false when @f cannot hold the operation's shape. */
static bool plan_for(const struct vpte_format *f, enum op op, struct plan *p)
{
	unsigned g = f->granule_shift, l1 = vpte_level_shift(f, 1);
	uint64_t per_leaf_table = 1ull << f->level_bits[0];
	bool level1_leaves = f->leaf_levels & 2u;
	*p = (struct plan){ .va = 4ull << l1, .pa = 4ull << l1 };
	switch (op) {
	case OP_MAP_LEAVES:
	case OP_COPY:
		/* Two whole leaf tables and three pages of a third. */
		p->size = (2ull << l1) + (3ull << g);
		p->whole_entries = 2 * per_leaf_table;
		return true;
	case OP_MAP_LEVEL1:
		/* A whole table of level-1 leaves, below a level-2 entry. */
		p->va = p->pa = 1ull << vpte_level_shift(f, 2);
		p->size = 1ull << vpte_level_shift(f, 2);
		p->whole_entries = 1ull << f->level_bits[1];
		return level1_leaves && f->levels > 2;
	case OP_SPLIT:
		/* Two level-1 leaves, each split into a whole leaf table; where
		 * the format has contiguous runs, those are all it writes. */
		p->size = 2ull << l1;
		p->whole_entries = f->cont_bits[0] ? 0 : 2 * per_leaf_table;
		return level1_leaves;
	default:
		return false;
	}
}

static struct outcome ref_out, fill_out, heap_out;

static void check_engine(const struct vpte_format *f)
{
	for (enum op op = 0; op < OP_COUNT; op++) {
		struct plan p;
		if (!plan_for(f, op, &p))
			continue;
		struct test_mem ref_mem = { 0 };
		struct fill_mem fm = { .page = 1ull << f->granule_shift };
		struct vpte_heap heap = { 0 };
		struct vpte_mem checking = { &checking_ops, &fm, NULL };
		unsigned failed = test_failures;
		CHECK_EQ(run_op(f, op, &p, test_mem(&ref_mem), &ref_out), 0);
		CHECK_EQ(run_op(f, op, &p, checking, &fill_out), 0);
		CHECK_EQ(run_op(f, op, &p, vpte_heap_mem(&heap), &heap_out), 0);
		CHECK(ref_out.count > 0);
		CHECK_EQ(ref_out.installs, op == OP_COPY ? ref_out.count : 0);
		CHECK(outcome_equal(&ref_out, &fill_out));
		CHECK(outcome_equal(&ref_out, &heap_out));
		CHECK_EQ(fm.misuse, 0);
		CHECK(fm.entries >= p.whole_entries);
		CHECK_EQ(ref_mem.live, 0);
		CHECK_EQ(fm.m.live, 0);
		CHECK_EQ(vpte_heap_live_pages(&heap), 0);
		if (test_failures != failed)
			printf("    %s: %ld leaves, fill %lu calls, %lu entries (whole tables %lu)\n",
			       op_names[op], ref_out.count, (unsigned long)fm.calls,
			       (unsigned long)fm.entries, (unsigned long)p.whole_entries);
	}
}

int main(void)
{
	check_hosted_fill();
	return test_every_format("test_fill", check_engine);
}
