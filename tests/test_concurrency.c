/* SPDX-License-Identifier: MIT */
/*
 * test_concurrency.c - lockless readers and concurrent writers of disjoint
 * ranges on one table, for every format (docs/concurrency.md).
 *
 * Writer threads each own a range; the ranges are neighbours that share
 * the tables above them, and one table of the lowest level is shared by
 * two writers, so maps install it and unmaps free it under each other's
 * feet.  Each writer maps (huge leaves and contiguous runs where alignment
 * allows, or pages only), unmaps and write-protects random pieces of its
 * range, cutting huge leaves and runs.  Reader threads meanwhile seek
 * random addresses and iterate random windows.
 *
 * Every page has a version, odd while its writer edits it, and a state
 * (unmapped, or mapped to its VA plus one of two offsets, read-only or
 * writable).  A reader's answer for a page whose version did not move is
 * checked exactly against its state: the address was neither mapped nor
 * unmapped meanwhile, so anything else (a hole where a huge leaf is being
 * cut, a torn entry) is wrong.  For a page that was being edited, the
 * answer must be one the page can legitimately have (a hole, or its VA
 * plus one of the offsets with one of the attributes).  Everything runs in
 * epoch read sections, with the table's pages retired through the epoch;
 * at the end every page but the root must be freed.
 *
 * Usage: test_concurrency [--seconds N] [--seed N] [--format NAME | --shard K/N]
 *   --seconds: per format (default: 2); for long runs under a sanitizer.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <pthread.h>
#include <time.h>

#include "testlib.h"

#define WRITERS 2
#define READERS 2
#define MAX_REPORTS 10

/* The two PA offsets a page may be mapped at: far apart, aligned to every
 * leaf size, within every format's PA width. */
static const uint64_t pa_offsets[2] = { 1ull << 40, 3ull << 40 };

/* Page states: 0 unmapped, else MAPPED | offset index << 1 | writable. */
#define ST_MAPPED 4u
#define ST_OFFSET 2u
#define ST_WRITE 1u

struct shared {
	const struct vpte_format *f;
	struct vpte_table t;
	struct vpte_epoch *epoch;
	uint64_t base;  /* VA of the first writer's range */
	uint64_t range; /* bytes per writer */
	uint64_t pages; /* per writer */
	uint64_t *ver;  /* per page, all writers' pages in a row */
	uint8_t *state;
	int stop;
	unsigned failures;
	uint64_t seed;
	uint64_t reads, edits;
};

struct worker {
	struct shared *s;
	unsigned index;
	uint64_t rng;
	struct vpte_epoch_reader *reader;
};

#define FAIL(s, ...)                                                                        \
	do {                                                                                \
		if (__atomic_fetch_add(&(s)->failures, 1, __ATOMIC_RELAXED) < MAX_REPORTS) {   \
			fprintf(stderr, "%s: ", (s)->f->name);                              \
			fprintf(stderr, __VA_ARGS__);                                       \
			fputc('\n', stderr);                                                \
		}                                                                           \
	} while (0)

static unsigned page_shift(const struct shared *s)
{
	return s->f->granule_shift;
}

static uint64_t page_of(const struct shared *s, uint64_t va)
{
	return (va - s->base) >> page_shift(s);
}

/* ---- writers ---- */

static void mark(struct shared *s, uint64_t first, uint64_t n)
{
	/* Odd: visible before the edit's entry stores (they are release). */
	for (uint64_t p = first; p < first + n; p++)
		__atomic_store_n(&s->ver[p], s->ver[p] + 1u, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* The edit is over: each page's state becomes (state & @keep) | @set. */
static void unmark(struct shared *s, uint64_t first, uint64_t n, unsigned keep, unsigned set)
{
	for (uint64_t p = first; p < first + n; p++) {
		uint8_t st = (uint8_t)((s->state[p] & keep) | set);
		__atomic_store_n(&s->state[p], st, __ATOMIC_RELEASE);
		__atomic_store_n(&s->ver[p], s->ver[p] + 1u, __ATOMIC_RELEASE);
	}
}

/* A random piece of the writer's range: pages [*first, *first + *n). */
static void pick(struct worker *w, uint64_t *first, uint64_t *n)
{
	struct shared *s = w->s;
	uint64_t r = test_rand(&w->rng);
	/* Aligned to a random power of two, often large: huge leaves, runs. */
	unsigned align = (unsigned)(r % 12u);
	uint64_t unit = 1ull << align;
	while (unit > s->pages)
		unit >>= 1;
	uint64_t start = (test_rand(&w->rng) % s->pages) & ~(unit - 1u);
	uint64_t len = unit * (1u + test_rand(&w->rng) % 3u);
	if (r & (1u << 8))
		len = 1u + test_rand(&w->rng) % 40u; /* pages: cuts in huge leaves */
	if (start + len > s->pages)
		len = s->pages - start;
	*first = (uint64_t)w->index * s->pages + start;
	*n = len;
}

static void writer_step(struct worker *w)
{
	struct shared *s = w->s;
	const struct vpte_format *f = s->f;
	uint64_t first, n;
	pick(w, &first, &n);
	uint64_t va = s->base + (first << page_shift(s)), size = n << page_shift(s);
	unsigned op = (unsigned)(test_rand(&w->rng) % 3u);
	int err;

	if (op == 0) {
		for (uint64_t p = first; p < first + n; p++)
			if (s->state[p])
				return;
		unsigned off = (unsigned)(test_rand(&w->rng) & 1u);
		bool write = test_rand(&w->rng) & 1u;
		struct vpte_prot prot = { VPTE_R | (write ? VPTE_W : 0u), VPTE_MT_WB, 0 };
		struct vpte_map_opts opts = { (test_rand(&w->rng) & 3u) ? 0u : f->granule_shift, 0 };
		mark(s, first, n);
		vpte_epoch_enter(w->reader);
		err = vpte_map(&s->t, vpte_va(va), vpte_pa(va + pa_offsets[off]), size, prot, &opts);
		vpte_epoch_leave(w->reader);
		if (err)
			FAIL(s, "map %#" PRIx64 "+%#" PRIx64 ": %s", va, size, vpte_strerror(err));
		unmark(s, first, n, err ? ~0u : 0u,
		       err ? 0u : ST_MAPPED | off * ST_OFFSET | write * ST_WRITE);
	} else if (op == 1) {
		mark(s, first, n);
		vpte_epoch_enter(w->reader);
		err = vpte_unmap(&s->t, vpte_va(va), size, NULL);
		vpte_epoch_leave(w->reader);
		if (err)
			FAIL(s, "unmap %#" PRIx64 "+%#" PRIx64 ": %s", va, size, vpte_strerror(err));
		unmark(s, first, n, err ? ~0u : 0u, 0);
	} else {
		bool write = test_rand(&w->rng) & 1u;
		struct vpte_prot w_only = { VPTE_W, 0, 0 }, none = { 0, 0, 0 };
		mark(s, first, n);
		vpte_epoch_enter(w->reader);
		err = vpte_protect(&s->t, vpte_va(va), size, write ? w_only : none,
				   write ? none : w_only, NULL);
		vpte_epoch_leave(w->reader);
		if (err)
			FAIL(s, "protect %#" PRIx64 "+%#" PRIx64 ": %s", va, size, vpte_strerror(err));
		/* Only mapped pages become writable. */
		for (uint64_t p = first; p < first + n; p++)
			unmark(s, p, 1, err ? ~0u : ~ST_WRITE,
			       !err && write && s->state[p] ? ST_WRITE : 0u);
	}
	__atomic_fetch_add(&s->edits, 1, __ATOMIC_RELAXED);
}

/* ---- readers ---- */

/* Is a leaf's translation of @va (@pa, @prot) one its page may have: in
 * state @st when @stable, else any of its legitimate ones?  NULL @prot: a
 * hole. */
static bool answer_ok(uint64_t va, uint64_t pa, const struct vpte_prot *prot, uint8_t st,
		      bool stable)
{
	if (!prot)
		return !stable || !st;
	if (stable && !st)
		return false;
	uint32_t flags = prot->flags & ~(VPTE_A | VPTE_D);
	if ((flags & ~VPTE_W) != VPTE_R || prot->memtype != VPTE_MT_WB)
		return false;
	if (!stable)
		return pa == va + pa_offsets[0] || pa == va + pa_offsets[1];
	return pa == va + pa_offsets[(st & ST_OFFSET) ? 1 : 0] &&
	       !!(flags & VPTE_W) == !!(st & ST_WRITE);
}

static uint64_t version(const struct shared *s, uint64_t p)
{
	return __atomic_load_n(&s->ver[p], __ATOMIC_ACQUIRE);
}

static void reader_seek(struct worker *w)
{
	struct shared *s = w->s;
	uint64_t p = test_rand(&w->rng) % (s->pages * WRITERS);
	uint64_t va = s->base + (p << page_shift(s));
	struct vpte_walk walk;
	uint64_t v0 = version(s, p);
	vpte_epoch_enter(w->reader);
	int err = vpte_seek(&walk, &s->t, vpte_va(va));
	vpte_epoch_leave(w->reader);
	uint8_t st = __atomic_load_n(&s->state[p], __ATOMIC_ACQUIRE);
	bool stable = !(v0 & 1u) && version(s, p) == v0;
	if (err) {
		FAIL(s, "seek %#" PRIx64 ": %s", va, vpte_strerror(err));
		return;
	}
	uint64_t pa = walk.pa.addr + (va - walk.va.addr);
	if (!answer_ok(va, pa, walk.kind == VPTE_LEAF ? &walk.prot : NULL, st, stable))
		FAIL(s, "seek %#" PRIx64 ": kind %d pa %#" PRIx64 " flags %#x, state %u%s", va,
		     walk.kind, pa, walk.prot.flags, st, stable ? " (stable)" : "");
}

/* Iterate a window of at most 256 pages: every page a leaf covers is
 * checked, and every page between leaves is a hole. */
static void reader_iterate(struct worker *w)
{
	struct shared *s = w->s;
	uint64_t total = s->pages * WRITERS, first = test_rand(&w->rng) % total;
	uint64_t n = 1u + test_rand(&w->rng) % 256u, v0[256];
	if (first + n > total)
		n = total - first;
	for (uint64_t i = 0; i < n; i++)
		v0[i] = version(s, first + i);
	uint64_t va = s->base + (first << page_shift(s)), size = n << page_shift(s);
	struct { uint64_t pa; struct vpte_prot prot; bool leaf; } seen[256];
	memset(seen, 0, sizeof(seen));
	struct vpte_walk walk;
	vpte_epoch_enter(w->reader);
	vpte_for_each_leaf(&walk, &s->t, vpte_va(va), size)
	{
		uint64_t from = walk.va.addr > va ? walk.va.addr : va;
		uint64_t to = walk.va.addr + ((1ull << walk.shift) - 1u);
		for (uint64_t a = from; a <= to && a < va + size; a += 1ull << page_shift(s)) {
			uint64_t i = page_of(s, a) - first;
			seen[i].leaf = true;
			seen[i].pa = walk.pa.addr + (a - walk.va.addr);
			seen[i].prot = walk.prot;
		}
	}
	vpte_epoch_leave(w->reader);
	if (walk.error) {
		FAIL(s, "iterate %#" PRIx64 "+%#" PRIx64 ": %s", va, size, vpte_strerror(walk.error));
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t p = first + i, a = va + (i << page_shift(s));
		uint8_t st = __atomic_load_n(&s->state[p], __ATOMIC_ACQUIRE);
		bool stable = !(v0[i] & 1u) && version(s, p) == v0[i];
		if (!answer_ok(a, seen[i].pa, seen[i].leaf ? &seen[i].prot : NULL, st, stable))
			FAIL(s, "iterate: %#" PRIx64 ": leaf %d pa %#" PRIx64 " flags %#x, state %u%s",
			     a, seen[i].leaf, seen[i].pa, seen[i].prot.flags, st,
			     stable ? " (stable)" : "");
	}
}

static void *writer_main(void *arg)
{
	struct worker *w = arg;
	while (!__atomic_load_n(&w->s->stop, __ATOMIC_RELAXED))
		writer_step(w);
	return NULL;
}

static void *reader_main(void *arg)
{
	struct worker *w = arg;
	while (!__atomic_load_n(&w->s->stop, __ATOMIC_RELAXED)) {
		if (test_rand(&w->rng) % 8u)
			reader_seek(w);
		else
			reader_iterate(w);
		__atomic_fetch_add(&w->s->reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };
	nanosleep(&ts, NULL);
}

static unsigned run_ms = 2000;
static uint64_t run_seed = 1;

/*
 * One format: the writers' ranges are 1.5 times the span of a lowest-level
 * table each, from an address aligned to four such spans: writer 0 has a
 * whole span (a huge leaf) and half of the next, which writer 1 shares.
 */
static void run_format(const struct vpte_format *f)
{
	struct shared s = { .f = f, .seed = run_seed };
	struct vpte_heap heap = { 0 };
	unsigned span_shift = vpte_level_shift(f, 1);
	s.range = 3ull << (span_shift - 1u);
	s.base = 4ull << span_shift;
	s.pages = s.range >> f->granule_shift;
	s.ver = calloc(s.pages * WRITERS, sizeof(*s.ver));
	s.state = calloc(s.pages * WRITERS, 1);
	s.epoch = vpte_epoch_create();
	CHECK(s.ver && s.state && s.epoch);
	CHECK_EQ(vpte_table_init(&s.t, f, vpte_heap_mem(&heap)), 0);
	vpte_table_set_reclaim(&s.t, vpte_epoch_reclaim(s.epoch));

	pthread_t th[WRITERS + READERS];
	struct worker w[WRITERS + READERS];
	for (unsigned i = 0; i < WRITERS + READERS; i++) {
		w[i] = (struct worker){ &s, i, run_seed * 1000003u + i, vpte_epoch_register(s.epoch) };
		CHECK(w[i].reader != NULL);
		CHECK_EQ(pthread_create(&th[i], NULL, i < WRITERS ? writer_main : reader_main, &w[i]),
			 0);
	}
	sleep_ms(run_ms);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < WRITERS + READERS; i++)
		pthread_join(th[i], NULL);

	/* Still what the writers think it is, and every table page back. */
	for (unsigned i = 0; i < 64; i++) {
		w[WRITERS].rng = run_seed + i;
		reader_iterate(&w[WRITERS]);
	}
	vpte_epoch_enter(w[0].reader);
	CHECK_EQ(vpte_unmap(&s.t, vpte_va(s.base), s.range * WRITERS, NULL), 0);
	vpte_epoch_leave(w[0].reader);
	for (unsigned i = 0; i < WRITERS + READERS; i++)
		vpte_epoch_unregister(w[i].reader);
	vpte_epoch_barrier(s.epoch);
	CHECK_EQ(vpte_heap_live_pages(&heap), 1);
	CHECK_EQ(vpte_table_destroy(&s.t), 0);
	CHECK_EQ(vpte_heap_live_pages(&heap), 0);
	vpte_epoch_destroy(s.epoch);
	free(s.ver);
	free(s.state);
	test_failures += s.failures;
	printf("  %-13s %" PRIu64 " edits, %" PRIu64 " reads\n", f->name, s.edits, s.reads);
}

int main(int argc, char **argv)
{
	unsigned long seconds = 0;
	struct test_pick pick;
	if (test_options(argc, argv, "--seconds", &run_seed, &seconds, &pick))
		return 2;
	if (seconds)
		run_ms = (unsigned)seconds * 1000u;
	return test_each_picked("test_concurrency", &pick, run_format);
}
