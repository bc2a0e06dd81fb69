/* SPDX-License-Identifier: MIT */
/*
 * test_insert.c - VPTE_MAP_INSERT as a device driver uses it, every format.
 *
 * A device maps a region in 64 KiB pieces (one granule where the granule
 * is larger) in random order, as its faults arrive, always with
 * VPTE_MAP_INSERT.  Between two pieces it also:
 *   - re-inserts a piece already present, or a run of present pieces, with
 *     the same PA and attributes (accessed or dirty aside): that succeeds
 *     and the table is exactly as before;
 *   - inserts a range of present pieces and holes (a refill): the holes
 *     get mapped, the present pieces keep their entries;
 *   - inserts a range that conflicts with a present piece: another PA, or
 *     other attributes (W, X, U, SPECIAL, the memory type): -VPTE_EEXIST,
 *     and the table is exactly as before (a hole in the range stays one).
 * Once the region is full it maps every page to its PA; collapsed into the
 * largest leaves, re-inserting a piece of a large leaf still succeeds
 * without splitting it, and a conflicting piece is still refused.
 */
#include "testlib.h"

#define PIECES 48
#define SEED 0x1a5e27u

struct fx {
	const struct vpte_format *f;
	struct vpte_table t;
	struct test_mem mem;
	uint64_t va, pa, piece;
	struct vpte_prot prot;
	bool present[PIECES];
	uint64_t rng;
};

static int insert(struct fx *x, unsigned first, unsigned count, uint64_t pa_delta,
		  struct vpte_prot prot)
{
	struct vpte_map_opts opts = { 0, VPTE_MAP_INSERT };
	uint64_t off = first * x->piece;
	return vpte_map(&x->t, vpte_va(x->va + off), vpte_pa(x->pa + off + pa_delta),
			count * x->piece, prot, &opts);
}

/* The table around the region and its pages: inserts reach nothing else. */
static uint64_t table_digest(const struct fx *x)
{
	return test_digest(&x->t, x->va - x->piece, (PIECES + 2) * x->piece) ^ x->mem.live;
}

/* An insert that must fail with @err (or succeed, 0) and leave the table exactly as it was. */
static void expect_unchanged(struct fx *x, int line, unsigned first, unsigned count,
			     uint64_t pa_delta, struct vpte_prot prot, int err)
{
	uint64_t before = table_digest(x);
	int got = insert(x, first, count, pa_delta, prot);
	bool same = table_digest(x) == before;
	if (got != err || !same) {
		fprintf(stderr, "%s:%d: insert of pieces %u+%u (PA %+" PRId64 ", flags 0x%x, memtype %u)"
			" returned %d, expected %d, table %s\n", x->f->name, line, first, count,
			(int64_t)pa_delta, prot.flags, prot.memtype, got, err,
			same ? "unchanged" : "CHANGED");
		test_failures++;
	}
}
#define EXPECT_UNCHANGED(x, first, count, delta, prot, err) \
	expect_unchanged(x, __LINE__, first, count, delta, prot, err)

static unsigned rnd(struct fx *x, unsigned n)
{
	return (unsigned)(test_rand(&x->rng) % n);
}

/* A present piece, or PIECES when there is none. */
static unsigned some_present(struct fx *x)
{
	unsigned start = rnd(x, PIECES);
	for (unsigned k = 0; k < PIECES; k++)
		if (x->present[(start + k) % PIECES])
			return (start + k) % PIECES;
	return PIECES;
}

/* Every way to conflict with piece @i: another PA, or other attributes. */
static void conflicts(struct fx *x, unsigned i)
{
	static const uint32_t flips[] = { VPTE_W, VPTE_X, VPTE_U, VPTE_SPECIAL };
	EXPECT_UNCHANGED(x, i, 1, x->piece, x->prot, -VPTE_EEXIST);
	EXPECT_UNCHANGED(x, i, 1, -(int64_t)x->piece, x->prot, -VPTE_EEXIST);
	for (unsigned k = 0; k < sizeof(flips) / sizeof(flips[0]); k++) {
		struct vpte_prot other = x->prot;
		other.flags ^= flips[k];
		EXPECT_UNCHANGED(x, i, 1, 0, other, -VPTE_EEXIST);
	}
	struct vpte_prot device = x->prot;
	device.memtype = VPTE_MT_DEVICE;
	EXPECT_UNCHANGED(x, i, 1, 0, device, -VPTE_EEXIST);
	/* With a hole next to it: the hole stays a hole. */
	if (i + 1 < PIECES && !x->present[i + 1])
		EXPECT_UNCHANGED(x, i, 2, 0, device, -VPTE_EEXIST);
	if (i > 0 && !x->present[i - 1])
		EXPECT_UNCHANGED(x, i - 1, 2, x->piece, x->prot, -VPTE_EEXIST);
}

/* Insert pieces [first, first + count), some present: present pieces keep their entries. */
static void refill(struct fx *x, unsigned first, unsigned count)
{
	struct test_leaf before[PIECES][16], after[16];
	long n[PIECES];
	for (unsigned i = first; i < first + count; i++)
		if (x->present[i])
			n[i] = test_leaves(&x->t, x->va + i * x->piece, x->piece, before[i], 16);
	struct vpte_prot dirty = x->prot;
	dirty.flags |= VPTE_D; /* accessed and dirty do not make a conflict */
	CHECK_EQ(insert(x, first, count, 0, rnd(x, 2) ? dirty : x->prot), 0);
	for (unsigned i = first; i < first + count; i++) {
		if (x->present[i]) {
			long m = test_leaves(&x->t, x->va + i * x->piece, x->piece, after, 16);
			CHECK_EQ(m, n[i]);
			for (long k = 0; k < m && k < 16; k++)
				CHECK_EQ(after[k].entry, before[i][k].entry);
		}
		x->present[i] = true;
	}
	CHECK(test_maps_linear(&x->t, x->va + first * x->piece, count * x->piece,
			       x->pa + first * x->piece));
}

static void cases(const struct vpte_format *f)
{
	struct fx x = { .f = f, .rng = SEED };
	unsigned order[PIECES];
	x.piece = f->granule_shift > 16 ? 1ull << f->granule_shift : 64u << 10;
	/* Aligned for the largest leaves a collapse can make from the region. */
	x.va = 1ull << 36;
	x.pa = 1ull << 37;
	x.prot = (struct vpte_prot){ VPTE_R | VPTE_W | VPTE_G, VPTE_MT_WB, 0 };
	test_table_new(&x.t, &x.mem, f);

	for (unsigned i = 0; i < PIECES; i++)
		order[i] = i;
	for (unsigned i = PIECES; i > 1; i--) {
		unsigned j = rnd(&x, i), o = order[i - 1];
		order[i - 1] = order[j];
		order[j] = o;
	}
	for (unsigned k = 0; k < PIECES; k++) {
		unsigned i = order[k];
		if (x.present[i])
			continue; /* a refill got here first */
		CHECK_EQ(insert(&x, i, 1, 0, x.prot), 0);
		x.present[i] = true;
		CHECK(test_maps_linear(&x.t, x.va + i * x.piece, x.piece, x.pa + i * x.piece));

		/* The same fault again, or a run of present pieces. */
		unsigned p = some_present(&x), len = 1;
		while (p + len < PIECES && x.present[p + len] && len < 4)
			len++;
		struct vpte_prot dirty = x.prot;
		dirty.flags |= VPTE_D;
		EXPECT_UNCHANGED(&x, p, len, 0, rnd(&x, 2) ? dirty : x.prot, 0);
		conflicts(&x, some_present(&x));
		if (rnd(&x, 4) == 0) { /* a refill over present pieces and holes */
			unsigned first = rnd(&x, PIECES - 3);
			refill(&x, first, 1 + rnd(&x, 3));
		}
	}
	CHECK(test_maps_linear(&x.t, x.va, PIECES * x.piece, x.pa));

	/* Collapsed into the largest leaves: inserts inside them. */
	CHECK_EQ(vpte_collapse(&x.t, vpte_va(x.va), PIECES * x.piece, 0, NULL), 0);
	struct vpte_walk w;
	unsigned big = 0;
	for (unsigned i = 0; i < PIECES; i++) {
		CHECK_EQ(vpte_seek(&w, &x.t, vpte_va(x.va + i * x.piece)), 0);
		big += w.shift > 16;
	}
	CHECK(big > 0); /* the region holds a leaf or run larger than a piece */
	for (unsigned k = 0; k < 8; k++) {
		unsigned i = rnd(&x, PIECES);
		EXPECT_UNCHANGED(&x, i, 1, 0, x.prot, 0);
		conflicts(&x, i);
	}
	test_table_done(&x.t, &x.mem);
}

int main(void)
{
	return test_every_format("test_insert", cases);
}
