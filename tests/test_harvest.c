/* SPDX-License-Identifier: MIT */
/*
 * test_harvest.c - vpte_harvest in every format.
 *
 *   reading       dirty and accessed of huge leaves, pages and runs into
 *                 bitmaps of the granule and of larger shifts, from an
 *                 origin that is not aligned to the bitmap's shift; bits
 *                 already set stay set;
 *   runs          a run with one dirty member is dirty in all its bits,
 *                 and clearing clears every member;
 *   clearing      cleared leaves read clean, the gather covers them, a leaf
 *                 the range cuts is reported and kept dirty;
 *   concurrency   a thread playing the hardware sets accessed and dirty
 *                 (arm64: accessed only) while harvests clear them and
 *                 protects and copy-on-write copies clear and set write
 *                 between them: every flag set is reported exactly once,
 *                 none is lost, and every page ends as asked;
 *   errors        EINVAL, ERANGE, EROFS, EFAULT (nothing cleared).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "testlib.h"

#define BITMAP_WORDS 1024

static struct vpte_prot prot_of(uint32_t flags)
{
	struct vpte_prot p = { flags, VPTE_MT_WB, 0 };
	return p;
}

/* Bits set in @bitmap among its first @bits. */
static uint64_t popcount_bits(const uint64_t *bitmap, uint64_t bits)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < bits; i++)
		n += (bitmap[i / 64] >> (i % 64)) & 1;
	return n;
}

static bool bit(const uint64_t *bitmap, uint64_t i)
{
	return (bitmap[i / 64] >> (i % 64)) & 1;
}

struct fx {
	const struct vpte_format *f;
	struct test_mem mem;
	struct vpte_table t;
	uint64_t g, s1, base, run;
	unsigned gshift;
	uint64_t a_bits, d_bits;
};

/*
 * The layout, from base (aligned to 4 * 2^s1, s1 the level-1 shift):
 *   [base, base + s1)               a dirty huge leaf
 *   [base + s1, base + s1 + 8g)     clean pages (runs where they fit)
 *   page base + s1 + 9g             dirty
 *   [base + 2 s1, + run)            a clean run (a page if no runs)
 */
static void fx_open(struct fx *x, const struct vpte_format *f)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	x->gshift = f->granule_shift;
	x->g = 1ull << f->granule_shift;
	x->s1 = 1ull << vpte_level_shift(f, 1);
	x->base = 4 * x->s1;
	x->run = x->g << f->cont_bits[0];
	test_table_new(&x->t, &x->mem, f);
	test_flag_bits(&x->t, 64 * x->s1, &x->a_bits, &x->d_bits);
	struct vpte_prot clean = prot_of(VPTE_R | VPTE_W), dirty = prot_of(VPTE_R | VPTE_W | VPTE_D);
	CHECK_EQ(vpte_map(&x->t, vpte_va(x->base), vpte_pa(x->base), x->s1, dirty, NULL), 0);
	CHECK_EQ(vpte_map(&x->t, vpte_va(x->base + x->s1), vpte_pa(0), 8 * x->g, clean, NULL), 0);
	CHECK_EQ(vpte_map(&x->t, vpte_va(x->base + x->s1 + 9 * x->g), vpte_pa(0), x->g, dirty, NULL), 0);
	CHECK_EQ(vpte_map(&x->t, vpte_va(x->base + 2 * x->s1), vpte_pa(x->base), x->run, clean, NULL), 0);
}

static int harvest(struct fx *x, uint64_t va, uint64_t size, uint64_t *bitmap, uint32_t flag,
		   unsigned shift, unsigned flags, struct vpte_gather *g)
{
	struct vpte_harvest_opts o = { flag, shift, flags, g };
	if (bitmap)
		memset(bitmap, 0, BITMAP_WORDS * sizeof(uint64_t));
	return vpte_harvest(&x->t, vpte_va(va), size, bitmap, &o);
}

/* Reading: page and larger bitmaps, unaligned origin, accumulation. */
static void reading(const struct vpte_format *f)
{
	struct fx x;
	static uint64_t bm[BITMAP_WORDS];
	fx_open(&x, f);
	uint64_t pages = x.s1 / x.g; /* bits of one huge leaf at page granule */

	/* Dirty, one bit a page over the huge leaf and the pages after it. */
	uint64_t size = x.s1 + 16 * x.g;
	if (size / x.g <= 64 * BITMAP_WORDS) {
		CHECK_EQ(harvest(&x, x.base, size, bm, VPTE_D, 0, 0, NULL), 0);
		CHECK_EQ(popcount_bits(bm, size / x.g), pages + 1);
		CHECK(bit(bm, 0) && bit(bm, pages - 1) && !bit(bm, pages) && bit(bm, pages + 9) &&
		      !bit(bm, pages + 8));
		/* Accessed: everything mapped (vpte_map sets it). */
		CHECK_EQ(harvest(&x, x.base, size, bm, VPTE_A, 0, 0, NULL), 0);
		CHECK_EQ(popcount_bits(bm, size / x.g), pages + 9);
	}
	/* One bit per huge leaf: the dirty leaf, then the pages with one dirty. */
	CHECK_EQ(harvest(&x, x.base - x.s1, 4 * x.s1, bm, VPTE_D, vpte_level_shift(f, 1), 0, NULL), 0);
	CHECK_EQ(bm[0], 0x6);
	/* An origin half a leaf in: bit i covers [base - s1/2 + i s1, ...). */
	CHECK_EQ(harvest(&x, x.base - x.s1 / 2, 3 * x.s1, bm, VPTE_D, vpte_level_shift(f, 1), 0, NULL),
		 0);
	CHECK_EQ(bm[0], 0x3);
	/* The largest shift: one bit for the range. */
	CHECK_EQ(harvest(&x, x.base + x.s1, 4 * x.s1, bm, VPTE_D, 63, 0, NULL), 0);
	CHECK_EQ(bm[0], 1);
	/* Bits already set stay set: the bitmap accumulates. */
	struct vpte_harvest_opts o = { VPTE_D, vpte_level_shift(f, 1), 0, NULL };
	bm[0] = 1ull << 40;
	CHECK_EQ(vpte_harvest(&x.t, vpte_va(x.base), 4 * x.s1, bm, &o), 0);
	CHECK_EQ(bm[0], (1ull << 40) | 0x3);
	/* Nothing mapped: nothing set. */
	CHECK_EQ(harvest(&x, 32 * x.s1, 4 * x.s1, bm, VPTE_A, 0, 0, NULL), 0);
	CHECK_EQ(popcount_bits(bm, 64 * BITMAP_WORDS), 0);
	test_table_done(&x.t, &x.mem);
}

/* Runs: a run is dirty when any member is; clearing clears them all. */
static void runs(const struct vpte_format *f)
{
	struct fx x;
	static uint64_t bm[BITMAP_WORDS];
	if (!f->cont_bits[0])
		return;
	fx_open(&x, f);
	uint64_t va = x.base + 2 * x.s1, members = x.run / x.g;
	*test_entry_at(&x.t, va + 5 * x.g) |= x.d_bits; /* the hardware, through one member */
	CHECK_EQ(harvest(&x, va, x.run, bm, VPTE_D, 0, 0, NULL), 0);
	CHECK_EQ(popcount_bits(bm, members), members);
	CHECK_EQ(harvest(&x, va, x.run, bm, VPTE_D, 0, VPTE_HARVEST_CLEAR, NULL), 0);
	CHECK_EQ(popcount_bits(bm, members), members);
	for (uint64_t i = 0; i < members; i++)
		CHECK_EQ(*test_entry_at(&x.t, va + i * x.g) & x.d_bits, 0);
	/* Still one run. */
	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, &x.t, vpte_va(va)), 0);
	CHECK_EQ(w.shift, x.gshift + f->cont_bits[0]);
	/* Part of a run: reported, not cleared. */
	*test_entry_at(&x.t, va) |= x.d_bits;
	CHECK_EQ(harvest(&x, va + x.g, x.g, bm, VPTE_D, 0, VPTE_HARVEST_CLEAR, NULL), 0);
	CHECK_EQ(bm[0], 1);
	CHECK(*test_entry_at(&x.t, va) & x.d_bits);
	test_table_done(&x.t, &x.mem);
}

/* Clearing: test and clear, the gather, leaves the range cuts. */
static void clearing(const struct vpte_format *f)
{
	struct fx x;
	static uint64_t bm[BITMAP_WORDS];
	struct vpte_gather g;
	struct test_inval n = { 0, 0, 0, 0 };
	struct vpte_walk w;
	fx_open(&x, f);
	unsigned s1 = vpte_level_shift(f, 1);

	/* A range that cuts the dirty huge leaf: reported, kept dirty. */
	vpte_gather_init(&g, &x.t, test_note_inval, &n);
	CHECK_EQ(harvest(&x, x.base + x.s1 / 2, x.s1, bm, VPTE_D, s1 - 1, VPTE_HARVEST_CLEAR, &g), 0);
	CHECK_EQ(bm[0], 0x3); /* the huge leaf's half, and the dirty page */
	vpte_gather_finish(&g);
	CHECK_EQ(n.calls, 1); /* for the dirty page, which was whole in the range */
	CHECK_EQ(n.start, x.base + x.s1 + 9 * x.g);
	CHECK_EQ(n.min_shift, x.gshift);
	CHECK_EQ(vpte_seek(&w, &x.t, vpte_va(x.base)), 0);
	CHECK(w.prot.flags & VPTE_D);
	CHECK_EQ(vpte_seek(&w, &x.t, vpte_va(x.base + x.s1 + 9 * x.g)), 0);
	CHECK(!(w.prot.flags & VPTE_D));

	/* The whole of it: the huge leaf is cleared, the gather covers it. */
	n.calls = 0;
	vpte_gather_init(&g, &x.t, test_note_inval, &n);
	CHECK_EQ(harvest(&x, x.base, 4 * x.s1, bm, VPTE_D, s1, VPTE_HARVEST_CLEAR, &g), 0);
	CHECK_EQ(bm[0], 0x1);
	vpte_gather_finish(&g);
	CHECK_EQ(n.calls, 1);
	CHECK_EQ(n.start, x.base);
	CHECK_EQ(n.last, x.base + x.s1 - 1);
	CHECK_EQ(n.min_shift, s1);
	CHECK_EQ(harvest(&x, x.base, 4 * x.s1, bm, VPTE_D, s1, 0, NULL), 0);
	CHECK_EQ(bm[0], 0);
	/* Accessed, cleared without a bitmap, then read: nothing. */
	CHECK_EQ(harvest(&x, x.base, 4 * x.s1, NULL, VPTE_A, 0, VPTE_HARVEST_CLEAR, NULL), 0);
	CHECK_EQ(harvest(&x, x.base, 4 * x.s1, bm, VPTE_A, s1, 0, NULL), 0);
	CHECK_EQ(bm[0], 0);
	/* The translations did not change. */
	CHECK_EQ(vpte_seek(&w, &x.t, vpte_va(x.base + x.s1 + 3 * x.g)), 0);
	CHECK_EQ(w.pa.addr + (x.base + x.s1 + 3 * x.g - w.va.addr), 3 * x.g);
	CHECK_EQ(w.prot.flags, VPTE_R | VPTE_W);
	test_table_done(&x.t, &x.mem);
}

static void errors(const struct vpte_format *f)
{
	struct fx x;
	static uint64_t bm[BITMAP_WORDS];
	struct test_snapshot before, after;
	fx_open(&x, f);
	struct vpte_harvest_opts o = { VPTE_D, 0, VPTE_HARVEST_CLEAR, NULL };
	CHECK_EQ(vpte_harvest(&x.t, vpte_va(x.base), x.s1, bm, NULL), -VPTE_EINVAL);
	CHECK_EQ(harvest(&x, x.base, x.s1, bm, VPTE_W, 0, 0, NULL), -VPTE_EINVAL);
	CHECK_EQ(harvest(&x, x.base, x.s1, bm, VPTE_A | VPTE_D, 0, 0, NULL), -VPTE_EINVAL);
	CHECK_EQ(harvest(&x, x.base, x.s1, bm, VPTE_D, x.gshift - 1, 0, NULL), -VPTE_EINVAL);
	CHECK_EQ(harvest(&x, x.base, x.s1, bm, VPTE_D, 64, 0, NULL), -VPTE_EINVAL);
	CHECK_EQ(harvest(&x, x.base, x.s1, bm, VPTE_D, 0, 1u << 5, NULL), -VPTE_EINVAL);
	CHECK_EQ(harvest(&x, x.base + x.g / 2, x.s1, bm, VPTE_D, 0, 0, NULL), -VPTE_EINVAL);
	CHECK_EQ(harvest(&x, x.base, 0, bm, VPTE_D, 0, 0, NULL), -VPTE_EINVAL);
	uint64_t half = 1ull << (f->va_bits - (f->sign_extend ? 1 : 0));
	CHECK_EQ(harvest(&x, half - x.g, 2 * x.g, bm, VPTE_D, 0, 0, NULL), -VPTE_ERANGE);
	struct test_mem m2;
	struct vpte_table other;
	struct vpte_gather g;
	test_table_new(&other, &m2, f);
	vpte_gather_init(&g, &other, NULL, NULL);
	CHECK_EQ(harvest(&x, x.base, x.s1, bm, VPTE_D, 0, VPTE_HARVEST_CLEAR, &g), -VPTE_EINVAL);
	test_table_done(&other, &m2);

	/* Read-only: reading works, clearing is refused. */
	struct vpte_table ro;
	CHECK_EQ(vpte_table_attach(&ro, f, test_mem(&x.mem), x.t.root, VPTE_TABLE_READONLY), 0);
	CHECK_EQ(vpte_harvest(&ro, vpte_va(x.base), x.s1, NULL, &o), -VPTE_EROFS);
	o.flags = 0;
	CHECK_EQ(vpte_harvest(&ro, vpte_va(x.base), x.s1, bm, &o), 0);

	/* A corrupt level-1 entry after the dirty leaves: clearing fails before
	 * it clears.  Every bit set is corrupt at level 1 in every format. */
	uint64_t *level1 = (uint64_t *)(uintptr_t)x.t.root.addr;
	struct vpte_walk w;
	vpte_for_each_entry(&w, &x.t, vpte_va(x.base), 1, VPTE_ITER_TABLES)
		if (w.kind == VPTE_TABLE && w.level == 2)
			level1 = (uint64_t *)(uintptr_t)w.pa.addr;
	uint64_t *e = level1 + (((x.base + 3 * x.s1) >> vpte_level_shift(f, 1)) &
				((1u << f->level_bits[1]) - 1)),
		 saved = *e;
	*e = ~0ull;
	snapshot_take(&before, &x.t);
	o.flags = VPTE_HARVEST_CLEAR;
	CHECK_EQ(vpte_harvest(&x.t, vpte_va(x.base), 4 * x.s1, NULL, &o), -VPTE_EFAULT);
	snapshot_take(&after, &x.t);
	CHECK(snapshot_equal(&before, &after));
	snapshot_free(&before);
	snapshot_free(&after);
	*e = saved;
	test_table_done(&x.t, &x.mem);
}

/* ------------------------------------------------------------------------
 * Concurrency: the hardware sets accessed and dirty meanwhile
 * ------------------------------------------------------------------------ */
#define HW_PAGES 64
#define HW_EVENTS 20000 /* flags of each kind the hardware sets, then stops */

/*
 * The hardware: sets accessed or dirty in random pages with atomic ORs and
 * counts, per flag, the ORs that found it clear.  Harvests clearing one
 * flag must keep the other: a plain store would sometimes drop a flag the
 * hardware set between its load and its store, and then fewer flags would
 * be reported than were set.  arm64 hardware sets only AF (vpte's dirty
 * flag is software bit 55, docs/harvest.md), so there @flags is 1 and a
 * page whose AF is set is left alone: harvest may clear it with a store.
 * Dirty goes only into a page that reads writable in the same atomic
 * update, as a walker that checks the entry it updates does (vpte may
 * store to a read-only page that is accessed: leaf_settled()).
 */
struct hw {
	_Atomic uint64_t *entries[HW_PAGES];
	unsigned flags;     /* how many of these the hardware sets: */
	uint64_t bits[2];   /* accessed, dirty */
	uint64_t w_mask, w_on; /* a page is writable where (e & w_mask) == w_on */
	uint64_t events[2]; /* ORs that found the flag clear */
	atomic_bool started, done;
	uint64_t rng;
};

/* May the hardware set @flag (0: accessed, 1: dirty) in the entry @e? */
static bool hw_may_set(const struct hw *h, unsigned flag, uint64_t e)
{
	return flag == 0 || (e & h->w_mask) == h->w_on;
}

static void *hardware(void *arg)
{
	struct hw *h = arg;
	atomic_store(&h->started, true);
	/* A fixed amount of work, not a time: the harvester runs until it is
	 * done, however the two threads are scheduled. */
	while (h->events[0] < HW_EVENTS || (h->flags > 1 && h->events[1] < HW_EVENTS)) {
		uint64_t r = test_rand(&h->rng);
		unsigned page = (unsigned)(r % HW_PAGES), flag = (unsigned)(r >> 63) % h->flags;
		uint64_t old = atomic_load(h->entries[page]);
		while (hw_may_set(h, flag, old) &&
		       !atomic_compare_exchange_weak(h->entries[page], &old, old | h->bits[flag]))
			;
		h->events[flag] += hw_may_set(h, flag, old) && !(old & h->bits[flag]);
	}
	atomic_store(&h->done, true);
	return NULL;
}

static void concurrency(const struct vpte_format *f)
{
	struct fx x;
	static struct hw h;
	static const uint32_t flags[2] = { VPTE_A, VPTE_D };
	uint64_t bm[HW_PAGES / 64], reported[2] = { 0, 0 };
	pthread_t thread;
	fx_open(&x, f);
	uint64_t va = 32 * x.s1;
	struct vpte_map_opts pages = { x.gshift, 0 };
	CHECK_EQ(vpte_map(&x.t, vpte_va(va), vpte_pa(0), HW_PAGES * x.g, prot_of(VPTE_R | VPTE_W),
			  &pages),
		 0);
	memset(&h, 0, sizeof(h));
	h.flags = strncmp(f->name, "arm64", 5) ? 2 : 1;
	h.bits[0] = x.a_bits;
	h.bits[1] = x.d_bits;
	/* The write permission's bits: a page's entry, writable and not. */
	uint64_t spare = va + HW_PAGES * x.g, rw[2];
	for (unsigned i = 0; i < 2; i++) {
		struct vpte_walk w;
		CHECK_EQ(vpte_map(&x.t, vpte_va(spare), vpte_pa(0), x.g,
				  prot_of(i ? VPTE_R : VPTE_R | VPTE_W), &pages),
			 0);
		CHECK_EQ(vpte_seek(&w, &x.t, vpte_va(spare)), 0);
		rw[i] = w.entry;
		CHECK_EQ(vpte_unmap(&x.t, vpte_va(spare), x.g, NULL), 0);
	}
	h.w_mask = rw[0] ^ rw[1];
	h.w_on = rw[0] & h.w_mask;
	CHECK(h.w_mask != 0);
	h.rng = f->granule_shift;
	for (unsigned i = 0; i < HW_PAGES; i++)
		h.entries[i] = (_Atomic uint64_t *)test_entry_at(&x.t, va + i * x.g);
	struct vpte_harvest_opts o = { VPTE_A, 0, VPTE_HARVEST_CLEAR, NULL };
	CHECK_EQ(vpte_harvest(&x.t, vpte_va(va), HW_PAGES * x.g, NULL, &o), 0);

	CHECK_EQ(pthread_create(&thread, NULL, hardware, &h), 0);
	while (!atomic_load(&h.started))
		;
	/* Rounds clear accessed and dirty in turn while the hardware writes,
	 * then one more of each after its last write. */
	bool writing = true;
	unsigned after = 0; /* rounds after the hardware's last write */
	for (unsigned round = 0; after < 2; round++) {
		if (writing && atomic_load(&h.done)) {
			pthread_join(thread, NULL);
			writing = false;
		}
		o.flag = flags[round % 2];
		memset(bm, 0, sizeof(bm));
		CHECK_EQ(vpte_harvest(&x.t, vpte_va(va), HW_PAGES * x.g, bm, &o), 0);
		reported[round % 2] += popcount_bits(bm, HW_PAGES);
		after += !writing;
		/* Protect, and a copy-on-write copy, must keep the flags too:
		 * they replace a leaf the hardware may change by
		 * compare-and-swap, one or two at a time (leafstore.h). */
		bool writable = round % 4 >= 2;
		struct vpte_prot none = { 0, 0, 0 }, w = { VPTE_W, 0, 0 };
		if (round % 8 == 0) {
			struct vpte_table copy;
			struct test_mem copy_mem;
			struct vpte_copy_opts cow = { VPTE_COPY_WRPROTECT, NULL };
			test_table_new(&copy, &copy_mem, f);
			CHECK_EQ(vpte_copy(&copy, &x.t, vpte_va(va), HW_PAGES * x.g, &cow), 0);
			test_table_done(&copy, &copy_mem);
		} else {
			CHECK_EQ(vpte_protect(&x.t, vpte_va(va), HW_PAGES * x.g, writable ? w : none,
					      writable ? none : w, NULL),
				 0);
		}
		struct vpte_walk walk;
		unsigned alike = 0;
		vpte_for_each_leaf(&walk, &x.t, vpte_va(va), HW_PAGES * x.g)
			alike += !(walk.prot.flags & VPTE_W) == !writable;
		CHECK_EQ(alike, HW_PAGES);
	}
	/* Every flag the hardware set was reported exactly once. */
	CHECK_EQ(reported[0], h.events[0]);
	CHECK_EQ(reported[1], h.events[1]);
	test_table_done(&x.t, &x.mem);
}

int main(void)
{
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	for (size_t i = 0; i < count; i++) {
		reading(formats[i]);
		runs(formats[i]);
		clearing(formats[i]);
		errors(formats[i]);
		concurrency(formats[i]);
	}
	return test_summary("test_harvest");
}
