/* SPDX-License-Identifier: MIT */
/*
 * testlib.h - what every vpte test shares: checks that name the failing
 * line, a heap allocator that counts pages and can be told to fail, and a
 * snapshot of a table's translations for "nothing changed" checks.
 */
#ifndef VPTE_TESTLIB_H
#define VPTE_TESTLIB_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpte/hosted.h"
#include "vpte/vpte.h"

static unsigned test_failures;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			test_failures++;                                                   \
		}                                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                                     \
	do {                                                                               \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                           \
		if (a_ != b_) {                                                            \
			fprintf(stderr, "%s:%d: %s == %s: 0x%" PRIx64 " != 0x%" PRIx64 "\n",   \
				__FILE__, __LINE__, #a, #b, a_, b_);                       \
			test_failures++;                                                   \
		}                                                                          \
	} while (0)

/* End of main(): prints the verdict and gives the exit code. */
static inline int test_summary(const char *name)
{
	if (test_failures)
		fprintf(stderr, "%s: %u check(s) failed\n", name, test_failures);
	else
		printf("%s: ok\n", name);
	return test_failures ? 1 : 0;
}

/*
 * struct test_mem - heap pages with a failure switch.
 * @live:       pages allocated and not freed.
 * @allocs:     successful allocations so far.
 * @fail_at:    the allocation with this number (1-based, counted over
 *              successes and failures) fails; 0 never.
 * @attempts:   allocations attempted.
 * @uninit:     successful allocations of unzeroed pages (alloc_uninit or
 *              alloc_batch).
 * @batches:    calls of alloc_batch; @batched: the pages they returned.
 */
struct test_mem {
	uint64_t live, allocs, attempts, fail_at, uninit, batches, batched;
};

/* One page filled with @fill, counted, or the injected failure. */
static int test_mem_page(struct test_mem *m, uint64_t size, uint64_t align, int fill, vpte_pa_t *pa)
{
	m->attempts++;
	if (m->fail_at && m->attempts == m->fail_at)
		return -VPTE_ENOMEM;
	void *page = aligned_alloc(align, size);
	if (!page)
		return -VPTE_ENOMEM;
	memset(page, fill, size);
	m->live++;
	m->allocs++;
	m->uninit += fill != 0;
	*pa = vpte_pa((uintptr_t)page);
	return 0;
}

static int test_mem_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	return test_mem_page(ctx, size, align, 0, pa);
}

/* The unzeroed allocation (alloc_uninit) hands out garbage, 0xa5 bytes, so
 * that an entry the engine forgot to write shows in every test: the word
 * has bit 0, the valid bit of every format, set, so it reads as a stray
 * leaf, a table entry or a corrupt entry, never as a hole.  It fails like
 * alloc, counted in the same sequence, so test_faults injects failures
 * into both. */
static int test_mem_alloc_uninit(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	return test_mem_page(ctx, size, align, 0xa5, pa);
}

/* Up to @n unzeroed pages (alloc_batch), each counted and failing like a
 * single one, so a failure injected in the middle of a batch leaves it
 * short, with the pages before it handed out. */
static uint64_t test_mem_alloc_batch(void *ctx, uint64_t size, uint64_t align, uint64_t n,
				     vpte_pa_t *pa)
{
	struct test_mem *m = ctx;
	uint64_t got = 0;
	m->batches++;
	while (got < n && !test_mem_page(m, size, align, 0xa5, &pa[got]))
		got++;
	m->batched += got;
	return got;
}

static void test_mem_free(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct test_mem *m = ctx;
	/* Poison before freeing: a use after free then reads garbage. */
	memset((void *)(uintptr_t)pa.addr, 0xa5, size);
	m->live--;
	free((void *)(uintptr_t)pa.addr);
}

static void *test_mem_virt(void *ctx, vpte_pa_t pa, uint64_t size)
{
	(void)ctx;
	(void)size;
	return (void *)(uintptr_t)pa.addr;
}

static const struct vpte_mem_ops test_mem_ops = { test_mem_alloc, test_mem_free, test_mem_virt,
						   test_mem_alloc_uninit, test_mem_alloc_batch, NULL };

static inline struct vpte_mem test_mem(struct test_mem *m)
{
	struct vpte_mem mem = { &test_mem_ops, m, NULL };
	return mem;
}

/* The same pages reached through a direct window over all of memory (the
 * PA is the host address), as the heap backend does: the paths that need
 * a window (the single-page map's, map_page()) are taken then. */
static inline struct vpte_mem test_mem_direct(struct test_mem *m)
{
	static const struct vpte_direct_map identity = { 0, UINT64_MAX, 0 };
	struct vpte_mem mem = { &test_mem_ops, m, &identity };
	return mem;
}

/*
 * Snapshot: every entry (leaves, holes and table entries) of the whole
 * address space, so two snapshots are equal exactly when the tables are.
 */
struct test_snapshot {
	size_t count, cap;
	struct vpte_walk *items;
	int error;
};

static inline void snapshot_take(struct test_snapshot *s, const struct vpte_table *t)
{
	vpte_va_t start[2];
	uint64_t size[2];
	unsigned halves = vpte_va_space(t->fmt, start, size);
	memset(s, 0, sizeof(*s));
	for (unsigned h = 0; h < halves; h++) {
		struct vpte_walk w;
		vpte_for_each_entry(&w, t, start[h], size[h], VPTE_ITER_ALL)
		{
			if (s->count == s->cap) {
				s->cap = s->cap ? 2 * s->cap : 256;
				s->items = realloc(s->items, s->cap * sizeof(*s->items));
			}
			s->items[s->count++] = w;
		}
		if (w.error)
			s->error = w.error;
	}
}

static inline int snapshot_equal(const struct test_snapshot *a, const struct test_snapshot *b)
{
	if (a->count != b->count || a->error != b->error)
		return 0;
	for (size_t i = 0; i < a->count; i++) {
		const struct vpte_walk *x = &a->items[i], *y = &b->items[i];
		if (x->kind != y->kind || x->level != y->level || x->va.addr != y->va.addr ||
		    x->entry != y->entry || x->shift != y->shift)
			return 0;
	}
	return 1;
}

static inline void snapshot_free(struct test_snapshot *s)
{
	free(s->items);
	memset(s, 0, sizeof(*s));
}

/*
 * test_digest - a hash of every entry (leaves, holes, table entries) in
 * [va, va + size), for edits confined to that range: equal digests mean
 * the tables there are alike.  Cheaper than a snapshot: nothing allocated.
 */
static inline uint64_t test_digest(const struct vpte_table *t, uint64_t va, uint64_t size)
{
	struct vpte_walk w;
	uint64_t h = 0x9e3779b97f4a7c15ull;
	vpte_for_each_entry(&w, t, vpte_va(va), size, VPTE_ITER_ALL)
	{
		h = (h ^ w.va.addr) * 0x100000001b3ull;
		h = (h ^ w.entry) * 0x100000001b3ull;
		h = (h ^ (w.shift | (uint64_t)w.level << 8 | (uint64_t)w.kind << 16)) * 0x100000001b3ull;
	}
	return h ^ (uint64_t)w.error;
}

/*
 * test_piece_shifts - every leaf shift and contiguous-run shift of @f,
 * ascending: the piece sizes vpte_map may choose.  Returns the count.
 */
static inline unsigned test_piece_shifts(const struct vpte_format *f,
					 unsigned shifts[2 * VPTE_MAX_LEVELS])
{
	unsigned count = 0;
	for (unsigned l = 0; l < f->levels; l++) {
		if (!(f->leaf_levels & (1u << l)))
			continue;
		shifts[count++] = vpte_level_shift(f, l);
		if (f->cont_bits[l])
			shifts[count++] = vpte_level_shift(f, l) + f->cont_bits[l];
	}
	for (unsigned i = 1; i < count; i++)
		for (unsigned j = i; j > 0 && shifts[j - 1] > shifts[j]; j--) {
			unsigned s = shifts[j];
			shifts[j] = shifts[j - 1];
			shifts[j - 1] = s;
		}
	return count;
}

/* test_table_new / test_table_done - a fresh table on a counting
 * allocator, and its teardown checking that no page is left. */
static inline void test_table_new(struct vpte_table *t, struct test_mem *m,
				  const struct vpte_format *f)
{
	memset(m, 0, sizeof(*m));
	CHECK_EQ(vpte_table_init(t, f, test_mem(m)), 0);
}

static inline void test_table_done(struct vpte_table *t, struct test_mem *m)
{
	CHECK_EQ(vpte_table_destroy(t), 0);
	CHECK_EQ(m->live, 0);
}

/* test_reclaim_now - a reclaim hook (vpte_table_set_reclaim()) that frees
 * each page at once: a concurrent table, for the concurrent paths of its
 * edits, where no reader runs. */
static inline void test_retire_now(void *ctx, const struct vpte_mem *mem, vpte_pa_t pa,
				   uint64_t size)
{
	(void)ctx;
	mem->ops->free(mem->ctx, pa, size);
}

static const struct vpte_reclaim test_reclaim_now = { test_retire_now, NULL };

/* One leaf as iteration reports it. */
struct test_leaf {
	uint64_t va, pa;
	unsigned level, shift;
	bool cont;
	struct vpte_prot prot;
	uint64_t entry;
};

/*
 * test_leaves - the leaves meeting [va, va + size), in address order: the
 * first @max into @out.  Returns how many there are, or an iteration error.
 */
static inline long test_leaves(const struct vpte_table *t, uint64_t va, uint64_t size,
			       struct test_leaf *out, long max)
{
	struct vpte_walk w;
	long n = 0;
	vpte_for_each_leaf(&w, t, vpte_va(va), size)
	{
		if (n < max)
			out[n] = (struct test_leaf){ w.va.addr, w.pa.addr, w.level, w.shift, w.cont,
						     w.prot, w.entry };
		n++;
	}
	return w.error ? w.error : n;
}

/* test_edge_next - the place after @i among the first and last 64 of @n
 * (all of them when @n <= 128): where passes that test many entries a
 * step meet an odd entry at every place of their steps, at both ends. */
static inline uint64_t test_edge_next(uint64_t i, uint64_t n)
{
	return i == 63 && n > 128 ? n - 64 : i + 1;
}

/* test_leaves_equal - the @n leaves of @a and @b alike, field for field
 * but the attributes, which the raw @entry already holds. */
static inline bool test_leaves_equal(const struct test_leaf *a, const struct test_leaf *b, long n)
{
	for (long i = 0; i < n; i++)
		if (a[i].va != b[i].va || a[i].pa != b[i].pa || a[i].level != b[i].level ||
		    a[i].shift != b[i].shift || a[i].cont != b[i].cont || a[i].entry != b[i].entry)
			return false;
	return true;
}

/*
 * test_maps_linear - [va, va + size) is mapped without a hole, each page to
 * pa + its offset (what an edit that keeps translations must leave).
 */
static inline bool test_maps_linear(const struct vpte_table *t, uint64_t va, uint64_t size,
				    uint64_t pa)
{
	struct vpte_walk w;
	uint64_t next = va;
	bool ok = true;
	vpte_for_each_leaf(&w, t, vpte_va(va), size)
	{
		uint64_t from = w.va.addr > va ? w.va.addr : va;
		ok &= from == next && w.pa.addr + (from - w.va.addr) == pa + (from - va);
		next = w.va.addr + (1ull << w.shift);
	}
	return ok && !w.error && next - va >= size;
}

/*
 * test_entry_at - the level-0 entry that maps @va in a table on the test
 * allocator (where a PA is the host address), for tests that play the
 * hardware and set bits in it.  @va must be mapped by a level-0 leaf.
 */
static inline uint64_t *test_entry_at(const struct vpte_table *t, uint64_t va)
{
	struct vpte_walk w;
	uint64_t *table = NULL;
	vpte_for_each_entry(&w, t, vpte_va(va), 1, VPTE_ITER_TABLES)
		if (w.kind == VPTE_TABLE && w.level == 1)
			table = (uint64_t *)(uintptr_t)w.pa.addr;
	return table + ((va >> t->fmt->granule_shift) & ((1u << t->fmt->level_bits[0]) - 1));
}

/*
 * test_flag_bits - the bits that encode accessed (*@a) and dirty (*@d) in
 * a level-0 entry of @t's format, so that tests need no encodings: a
 * page's entry as mapped at @va (a free spot), then as harvesting clears
 * each flag.
 */
static inline void test_flag_bits(struct vpte_table *t, uint64_t va, uint64_t *a, uint64_t *d)
{
	struct vpte_walk w;
	struct vpte_prot p = { VPTE_R | VPTE_D, VPTE_MT_WB, 0 };
	struct vpte_harvest_opts h = { VPTE_A, 0, VPTE_HARVEST_CLEAR, NULL };
	struct vpte_map_opts page = { t->fmt->granule_shift, 0 };
	uint64_t e[3];
	CHECK_EQ(vpte_map(t, vpte_va(va), vpte_pa(0), 1ull << t->fmt->granule_shift, p, &page), 0);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(vpte_seek(&w, t, vpte_va(va)), 0);
		e[i] = w.entry;
		CHECK_EQ(vpte_harvest(t, vpte_va(va), 1ull << t->fmt->granule_shift, NULL, &h), 0);
		h.flag = VPTE_D;
	}
	CHECK_EQ(vpte_unmap(t, vpte_va(va), 1ull << t->fmt->granule_shift, NULL), 0);
	*a = e[0] ^ e[1];
	*d = e[1] ^ e[2];
}

/* What a gather's invalidate callback was last called with, and how often
 * (vpte_gather_init(&g, t, test_note_inval, &inval)). */
struct test_inval {
	unsigned calls;
	uint64_t start, last;
	unsigned min_shift;
};

static inline void test_note_inval(void *ctx, const struct vpte_gather *g)
{
	struct test_inval *n = ctx;
	n->calls++;
	n->start = g->start;
	n->last = g->last;
	n->min_shift = g->min_shift;
}

/*
 * struct test_pick - the formats a random test runs: --format NAME (that
 * one), --shard K/N (every Nth of the registry from the Kth: CTest runs a
 * long test as N tests side by side), else every one.
 */
struct test_pick {
	const char *only;
	unsigned long shard, shards; /* shard counts from 1; shards 0: no sharding */
};

/* test_picked - does @pick include @f, the registry's format number @index? */
static inline bool test_picked(const struct test_pick *pick, size_t index,
			       const struct vpte_format *f)
{
	if (pick->only)
		return !strcmp(pick->only, f->name);
	return !pick->shards || index % pick->shards == pick->shard - 1;
}

/* test_shard - parse "K/N" (1 <= K <= N) into @pick; false if it is not that. */
static inline bool test_shard(const char *text, struct test_pick *pick)
{
	char *end;
	pick->shard = strtoul(text, &end, 10);
	if (*end != '/')
		return false;
	pick->shards = strtoul(end + 1, &end, 10);
	return !*end && pick->shard >= 1 && pick->shard <= pick->shards;
}

/*
 * test_options - the options of the random tests: --seed N, @count_option
 * N (how many steps or rounds), and the formats (struct test_pick).
 * Returns 0, or 2 after a message for anything else.
 */
static inline int test_options(int argc, char **argv, const char *count_option, uint64_t *seed,
			       unsigned long *count, struct test_pick *pick)
{
	*pick = (struct test_pick){ 0 };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			*seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], count_option) && i + 1 < argc) {
			*count = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			pick->only = argv[++i];
		} else if (!strcmp(argv[i], "--shard") && i + 1 < argc &&
			   test_shard(argv[i + 1], pick)) {
			i++;
		} else {
			fprintf(stderr, "usage: %s [--seed N] [%s N] [--format NAME | --shard K/N]\n",
				argv[0], count_option);
			return 2;
		}
	}
	if (pick->only && !vpte_format_by_name(pick->only)) {
		fprintf(stderr, "%s: no format named %s\n", argv[0], pick->only);
		return 2;
	}
	return 0;
}

/*
 * test_each_picked - run @cases on each format of @pick, a line each ("ok"
 * or "FAILED"), then the verdict of the test called @name (test_summary()).
 */
static inline int test_each_picked(const char *name, const struct test_pick *pick,
				   void (*cases)(const struct vpte_format *f))
{
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	for (size_t i = 0; i < count; i++) {
		if (!test_picked(pick, i, formats[i]))
			continue;
		unsigned failed = test_failures;
		cases(formats[i]);
		printf("  %-13s%s\n", formats[i]->name, test_failures != failed ? " FAILED" : " ok");
	}
	return test_summary(name);
}

/* test_every_format - test_each_picked() on every format. */
static inline int test_every_format(const char *name, void (*cases)(const struct vpte_format *f))
{
	return test_each_picked(name, &(struct test_pick){ 0 }, cases);
}

/* A small, fast, seedable generator (splitmix64). */
static inline uint64_t test_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif
