/* SPDX-License-Identifier: MIT */
/*
 * test_break_wait.c - readers that meet an arm64 break-before-make wait for
 * the make (docs/concurrency.md "arm64 break-before-make"): a vpte_seek()
 * and a leaf iteration started while a split has broken a 2 MiB block
 * report the old block or the new pages, never a hole.  Both with a direct
 * window (eng_seek()'s fast path, which hands a broken entry to the slow
 * path) and without one (the slow path alone).
 *
 * The reader is started from the gather's invalidate callback, which the
 * split calls between the break and the make, and the callback lets it run
 * a while before returning.  A reader that does not wait sees the hole
 * then; one scheduled late only sees the finished split, and passes.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "testlib.h"

#define BLOCK (1ull << 21)
#define BASE (1ull << 30)
#define PA (1ull << 33)
#define PROBE 0x3000ull /* where the seek looks, inside the block */

struct reader {
	const struct vpte_table *t;
	pthread_t thread;
	atomic_bool started;
	bool running;
	/* what the seek found */
	int seek_err;
	struct vpte_walk seek;
	/* what the iteration found: leaf bytes, and whether each leaf's PA
	 * was the block's at its place */
	int iter_err;
	uint64_t iter_bytes;
	bool iter_pa_ok;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct vpte_walk w;
	atomic_store(&r->started, true);
	r->seek_err = vpte_seek(&r->seek, r->t, vpte_va(BASE + PROBE));
	r->iter_pa_ok = true;
	vpte_for_each_leaf(&w, r->t, vpte_va(BASE), BLOCK)
	{
		r->iter_bytes += 1ull << w.shift;
		r->iter_pa_ok &= w.pa.addr == PA + (w.va.addr - BASE);
	}
	r->iter_err = w.error;
	return NULL;
}

/* Mid-edit (the block is broken): start the reader, let it run. */
static void start_reader(void *ctx, const struct vpte_gather *g)
{
	struct reader *r = ctx;
	(void)g;
	if (r->running)
		return;
	r->running = true;
	CHECK_EQ(pthread_create(&r->thread, NULL, reader_main, r), 0);
	while (!atomic_load(&r->started))
		;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	nanosleep(&pause, NULL);
}

static void split_under_reader(const struct vpte_format *f, bool direct)
{
	struct test_mem m = { 0 };
	struct vpte_table t;
	struct vpte_gather g;
	struct vpte_prot p = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct reader r = { .t = &t };
	CHECK_EQ(vpte_table_init(&t, f, direct ? test_mem_direct(&m) : test_mem(&m)), 0);
	CHECK_EQ(vpte_map(&t, vpte_va(BASE), vpte_pa(PA), BLOCK, p, NULL), 0);
	vpte_gather_init(&g, &t, start_reader, &r);
	CHECK_EQ(vpte_split(&t, vpte_va(BASE), BLOCK, f->granule_shift, &g), 0);
	vpte_gather_finish(&g);
	CHECK(r.running);
	if (r.running)
		CHECK_EQ(pthread_join(r.thread, NULL), 0);
	CHECK_EQ(r.seek_err, 0);
	CHECK_EQ(r.seek.kind, VPTE_LEAF);
	CHECK_EQ(r.seek.pa.addr + (BASE + PROBE - r.seek.va.addr), PA + PROBE);
	CHECK_EQ(r.iter_err, 0);
	CHECK_EQ(r.iter_bytes, BLOCK);
	CHECK(r.iter_pa_ok);
	CHECK_EQ(vpte_unmap(&t, vpte_va(BASE), BLOCK, NULL), 0);
	test_table_done(&t, &m);
}

int main(void)
{
	const struct vpte_format *f = vpte_format_by_name("arm64-4k-48");
	CHECK(f != NULL);
	if (f) {
		split_under_reader(f, true);
		split_under_reader(f, false);
	}
	return test_summary("test_break_wait");
}
