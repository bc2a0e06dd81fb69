/* SPDX-License-Identifier: MIT */
/*
 * test_observers.c - leaf observers (struct vpte_observer) on every format.
 *
 * An observer rebuilds the table's leaves from the hooks alone: install
 * adds a leaf, remove takes one away, split replaces one by its pieces,
 * merge replaces the parts by one leaf; each hook must name leaves that
 * the observer has been told of.  After every edit of a random sequence
 * (map, insert, unmap, protect, split, collapse) the rebuilt leaves must be
 * exactly the table's.
 *
 * The same hooks keep HugeTLB-style map counts: each aligned 2^folio_shift
 * block of physical memory is a "folio" mapped at one VA (PA = VA + a
 * constant); it counts its pieces (+1 install, + 2^(shift - new_shift) - 1
 * split, - (parts - 1) merge, -1 remove) and is mapped while that count is
 * not zero.  After every edit, each folio's count must be the number of
 * leaves mapping into it, and a huge leaf that was split stays mapped once
 * until its last piece is unmapped (checked step by step in a fixed case).
 *
 * A failed edit calls no hook: each edit is first run with each of its
 * allocations failing in turn (-VPTE_ENOMEM, no hook, the table as it
 * was), as is the copy.  Harvesting, which changes no leaf, calls none.
 * usage: test_observers [--seed N] [--steps N] [--format NAME | --shard K/N]
 */
#include <stdbool.h>

#include "testlib.h"

#define DEFAULT_SEED 0x0b5e12u
#define DEFAULT_STEPS 400
#define FOLIOS 8

struct leaf {
	uint64_t va, pa;
	unsigned shift;
};

struct observed {
	const struct vpte_format *f;
	struct leaf *v; /* sorted by va */
	size_t n, cap;
	uint64_t window, pa_offset; /* the VA range used, PA = VA + pa_offset */
	unsigned folio_shift;
	uint64_t pieces[FOLIOS];
	bool mapped[FOLIOS];
	unsigned long calls[4];
	const char *op;
};

static void bad_hook(struct observed *o, const char *hook, struct leaf l, const char *why)
{
	fprintf(stderr, "%s: %s: %s(va 0x%" PRIx64 ", pa 0x%" PRIx64 ", shift %u): %s\n",
		o->f->name, o->op, hook, l.va, l.pa, l.shift, why);
	test_failures++;
}

/* Index of the first leaf with va >= @va. */
static size_t find(const struct observed *o, uint64_t va)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->v[mid].va < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void insert_leaf(struct observed *o, struct leaf l)
{
	size_t i = find(o, l.va);
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 256;
		o->v = realloc(o->v, o->cap * sizeof(*o->v));
		if (!o->v)
			abort();
	}
	memmove(&o->v[i + 1], &o->v[i], (o->n - i) * sizeof(*o->v));
	o->v[i] = l;
	o->n++;
}

/* Remove the leaves in [va, va + size); returns how many. */
static size_t remove_leaves(struct observed *o, uint64_t va, uint64_t size)
{
	size_t i = find(o, va), j = i;
	while (j < o->n && o->v[j].va < va + size)
		j++;
	memmove(&o->v[i], &o->v[j], (o->n - j) * sizeof(*o->v));
	o->n -= j - i;
	return j - i;
}

static bool known(const struct observed *o, struct leaf l)
{
	size_t i = find(o, l.va);
	return i < o->n && o->v[i].va == l.va && o->v[i].pa == l.pa && o->v[i].shift == l.shift;
}

/* The folio @pa belongs to, or -1 outside those the test uses. */
static int folio_of(const struct observed *o, uint64_t pa)
{
	uint64_t index = (pa - (o->window + o->pa_offset)) >> o->folio_shift;
	return pa >= o->window + o->pa_offset && index < FOLIOS ? (int)index : -1;
}

/* A leaf's pieces belong to one folio: count them there. */
static void count(struct observed *o, struct leaf l, int64_t delta)
{
	int i = folio_of(o, l.pa);
	if (i < 0 || folio_of(o, l.pa + (1ull << l.shift) - 1) != i) {
		bad_hook(o, "count", l, "leaf outside one folio");
		return;
	}
	o->pieces[i] += (uint64_t)delta;
	o->mapped[i] = o->pieces[i] != 0; /* HugeTLB: mapped until the last piece goes */
}

static void on_install(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift)
{
	struct observed *o = ctx;
	struct leaf l = { va.addr, pa.addr, shift };
	size_t i = find(o, l.va);
	o->calls[0]++;
	if ((i < o->n && o->v[i].va < l.va + (1ull << shift)) ||
	    (i > 0 && o->v[i - 1].va + (1ull << o->v[i - 1].shift) > l.va))
		bad_hook(o, "install", l, "overlaps a leaf already there");
	insert_leaf(o, l);
	count(o, l, 1);
}

static void on_remove(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift)
{
	struct observed *o = ctx;
	struct leaf l = { va.addr, pa.addr, shift };
	o->calls[1]++;
	if (!known(o, l))
		bad_hook(o, "remove", l, "no such leaf");
	remove_leaves(o, l.va, 1ull << shift);
	count(o, l, -1);
}

static void on_split(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift, unsigned new_shift)
{
	struct observed *o = ctx;
	struct leaf l = { va.addr, pa.addr, shift };
	o->calls[2]++;
	if (!known(o, l) || new_shift >= shift || new_shift < o->f->granule_shift) {
		bad_hook(o, "split", l, "no such leaf, or a bad new shift");
		return;
	}
	remove_leaves(o, l.va, 1ull << shift);
	uint64_t pieces = 1ull << (shift - new_shift);
	for (uint64_t i = 0; i < pieces; i++)
		insert_leaf(o, (struct leaf){ l.va + (i << new_shift), l.pa + (i << new_shift),
					      new_shift });
	count(o, l, (int64_t)pieces - 1);
}

static void on_merge(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift, uint64_t parts)
{
	struct observed *o = ctx;
	struct leaf l = { va.addr, pa.addr, shift };
	o->calls[3]++;
	/* The parts: leaves tiling [va, va + 2^shift), mapping on from pa. */
	uint64_t next = l.va;
	size_t found = 0;
	for (size_t i = find(o, l.va); i < o->n && o->v[i].va < l.va + (1ull << shift); i++) {
		if (o->v[i].va != next || o->v[i].pa != l.pa + (next - l.va))
			break;
		next += 1ull << o->v[i].shift;
		found++;
	}
	if (next != l.va + (1ull << shift) || found != parts || parts < 2)
		bad_hook(o, "merge", l, "the parts are not the leaves known there");
	remove_leaves(o, l.va, 1ull << shift);
	insert_leaf(o, l);
	count(o, l, 1 - (int64_t)parts);
}

static const struct vpte_observer hooks_template = { on_install, on_remove, on_split, on_merge,
						     NULL };

/* The rebuilt leaves are the table's; each folio's count is its leaves. */
static void check(struct observed *o, const struct vpte_table *t)
{
	struct vpte_walk w;
	size_t i = 0;
	uint64_t leaves[FOLIOS] = { 0 };
	vpte_for_each_leaf(&w, t, vpte_va(o->window), (uint64_t)FOLIOS << o->folio_shift)
	{
		struct leaf l = { w.va.addr, w.pa.addr, w.shift };
		if (i >= o->n || o->v[i].va != l.va || o->v[i].pa != l.pa || o->v[i].shift != l.shift) {
			bad_hook(o, "check", l, "the table's leaf differs from the observer's");
			return;
		}
		i++;
		int folio = folio_of(o, l.pa);
		if (folio >= 0)
			leaves[folio]++;
	}
	CHECK_EQ(w.error, 0);
	if (i != o->n)
		bad_hook(o, "check", o->v[i], "the observer knows more leaves than the table");
	for (unsigned k = 0; k < FOLIOS; k++)
		if (o->pieces[k] != leaves[k] || o->mapped[k] != (leaves[k] != 0)) {
			fprintf(stderr, "%s: %s: folio %u counts %" PRIu64 " pieces, mapped %d; the table has %"
					PRIu64 " leaves in it\n",
				o->f->name, o->op, k, o->pieces[k], o->mapped[k], leaves[k]);
			test_failures++;
		}
}

struct fx {
	struct observed o;
	struct vpte_observer hooks;
	struct test_mem mem;
	struct vpte_table t;
	uint64_t g, rng;
	unsigned nshifts;
	unsigned shifts[2 * VPTE_MAX_LEVELS];
};

static void fx_open(struct fx *x, const struct vpte_format *f, uint64_t seed)
{
	memset(x, 0, sizeof(*x));
	x->o.f = f;
	/* Folios of the level-1 size: 2 MiB, or 32 MiB / 512 MiB. */
	x->o.folio_shift = vpte_level_shift(f, 1);
	x->o.window = 8ull << x->o.folio_shift;
	x->o.pa_offset = 1ull << 40;
	x->g = 1ull << f->granule_shift;
	x->rng = seed;
	for (const char *s = f->name; *s; s++)
		x->rng = (x->rng ^ (uint8_t)*s) * 1099511628211ull;
	x->nshifts = test_piece_shifts(f, x->shifts);
	x->hooks = hooks_template;
	x->hooks.ctx = &x->o;
	test_table_new(&x->t, &x->mem, f);
	vpte_table_set_observer(&x->t, &x->hooks);
}

static void fx_close(struct fx *x)
{
	test_table_done(&x->t, &x->mem);
	free(x->o.v);
}

static uint64_t rnd(struct fx *x, uint64_t n)
{
	return n ? test_rand(&x->rng) % n : 0;
}

/* A random piece shift up to the folio's. */
static unsigned small_shift(struct fx *x)
{
	unsigned s;
	do
		s = x->shifts[rnd(x, x->nshifts)];
	while (s > x->o.folio_shift);
	return s;
}

/* A random range in the window: whole folios or a ragged part. */
static void gen_range(struct fx *x, uint64_t *va, uint64_t *size)
{
	uint64_t folio = 1ull << x->o.folio_shift;
	*va = x->o.window + rnd(x, FOLIOS) * folio;
	*size = (1 + rnd(x, 2)) * folio;
	if (rnd(x, 2)) {
		unsigned s = small_shift(x);
		*va += rnd(x, folio >> s) << s;
		*size = (1 + rnd(x, 4)) << s;
	}
	if (rnd(x, 2))
		*va += rnd(x, 4) * x->g;
	uint64_t end = x->o.window + FOLIOS * folio;
	if (*va >= end)
		*va = end - x->g;
	if (*size > end - *va)
		*size = end - *va;
}

struct edit {
	unsigned roll; /* map, unmap, protect, split, harvest, collapse, copy from @src */
	uint64_t va, size;
	unsigned shift, flags;
	struct vpte_prot set, clear;
	struct vpte_table *src;
};

static int run_edit(struct fx *x, const struct edit *e)
{
	struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts opts = { e->shift, e->flags };
	struct vpte_harvest_opts harvest = { VPTE_A, 0, VPTE_HARVEST_CLEAR, NULL };
	switch (e->roll) {
	case 0: return vpte_map(&x->t, vpte_va(e->va), vpte_pa(e->va + x->o.pa_offset), e->size, rw, &opts);
	case 1: return vpte_unmap(&x->t, vpte_va(e->va), e->size, NULL);
	case 2: return vpte_protect(&x->t, vpte_va(e->va), e->size, e->set, e->clear, NULL);
	case 3: return vpte_split(&x->t, vpte_va(e->va), e->size, e->shift, NULL);
	case 4: return vpte_harvest(&x->t, vpte_va(e->va), e->size, NULL, &harvest);
	case 5: return vpte_collapse(&x->t, vpte_va(e->va), e->size, e->shift, NULL);
	default: return vpte_copy(&x->t, e->src, vpte_va(e->va), e->size, NULL);
	}
}

/*
 * @e with each of its allocations failing in turn, then with none failing:
 * each failure is -VPTE_ENOMEM, calls no hook and leaves the table as it
 * was.  Returns what the edit returned without a failure.
 */
static int run_failing_each_allocation(struct fx *x, const struct edit *e)
{
	unsigned long calls = x->o.calls[0] + x->o.calls[1] + x->o.calls[2] + x->o.calls[3];
	uint64_t live = x->mem.live, span = (uint64_t)FOLIOS << x->o.folio_shift;
	uint64_t before = test_digest(&x->t, x->o.window, span);
	for (uint64_t i = 1;; i++) {
		x->mem.fail_at = x->mem.attempts + i;
		int err = run_edit(x, e);
		x->mem.fail_at = 0;
		if (err != -VPTE_ENOMEM)
			return err;
		if (x->o.calls[0] + x->o.calls[1] + x->o.calls[2] + x->o.calls[3] != calls)
			bad_hook(&x->o, "edit failing allocation", (struct leaf){ e->va, 0, 0 },
				 "called a hook");
		if (test_digest(&x->t, x->o.window, span) != before || x->mem.live != live)
			bad_hook(&x->o, "edit failing allocation", (struct leaf){ e->va, 0, 0 },
				 "changed the table or leaked");
	}
}

/* One random edit, its allocations failing in turn first; the observer
 * must then agree with the table. */
static void step(struct fx *x, char *what, size_t len)
{
	static const char *const names[] = { "map", "unmap", "protect", "split", "harvest", "collapse" };
	struct vpte_prot w = { VPTE_W, 0, 0 }, none = { 0, 0, 0 };
	struct edit e = { 0 };
	unsigned long calls = x->o.calls[0] + x->o.calls[1] + x->o.calls[2] + x->o.calls[3];
	gen_range(x, &e.va, &e.size);
	e.shift = small_shift(x);
	e.roll = (unsigned)rnd(x, 7);
	if (e.roll > 5)
		e.roll = 5; /* collapse twice as often */
	e.flags = e.roll == 0 && rnd(x, 2) ? VPTE_MAP_INSERT : 0u; /* map, or insert over what may be there */
	e.set = rnd(x, 2) ? w : none;
	e.clear = rnd(x, 2) ? none : w;
	snprintf(what, len, "%s va 0x%" PRIx64 " size 0x%" PRIx64 " shift %u flags %u", names[e.roll],
		 e.va, e.size, e.shift, e.flags);
	x->o.op = what;
	int err = run_failing_each_allocation(x, &e);
	if (err && x->o.calls[0] + x->o.calls[1] + x->o.calls[2] + x->o.calls[3] != calls)
		bad_hook(&x->o, "failed edit", (struct leaf){ e.va, 0, 0 }, "called a hook");
	if (err && !(e.roll == 0 && err == -VPTE_EEXIST))
		bad_hook(&x->o, vpte_strerror(err), (struct leaf){ e.va, 0, 0 }, "the edit failed");
	if (e.roll == 4 && x->o.calls[0] + x->o.calls[1] + x->o.calls[2] + x->o.calls[3] != calls)
		bad_hook(&x->o, "harvest", (struct leaf){ e.va, 0, 0 }, "called a hook");
	check(&x->o, &x->t);
}

/*
 * The HugeTLB rule, step by step: a folio mapped by one huge leaf, split
 * to pages, stays mapped once while any page is left; the last page's
 * unmap unmaps it.  Collapsing it back makes one leaf of it again.
 */
static void hugetlb_rule(struct fx *x)
{
	struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	uint64_t folio = 1ull << x->o.folio_shift, va = x->o.window + 2 * folio;
	x->o.op = "hugetlb rule";
	CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(va + x->o.pa_offset), folio, rw, NULL), 0);
	CHECK(x->o.mapped[2] && x->o.pieces[2] == 1);
	CHECK_EQ(vpte_split(&x->t, vpte_va(va), folio, x->o.f->granule_shift, NULL), 0);
	CHECK(x->o.mapped[2] && x->o.pieces[2] == folio / x->g);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), folio - x->g, NULL), 0);
	CHECK(x->o.mapped[2] && x->o.pieces[2] == 1);
	/* Back to one leaf: mapped once, one piece. */
	CHECK_EQ(vpte_map(&x->t, vpte_va(va), vpte_pa(va + x->o.pa_offset), folio - x->g, rw,
			  &(struct vpte_map_opts){ x->o.f->granule_shift, 0 }),
		 0);
	CHECK_EQ(vpte_collapse(&x->t, vpte_va(va), folio, 0, NULL), 0);
	CHECK(x->o.mapped[2] && x->o.pieces[2] == 1);
	/* Split by an unmap's edge, then every piece unmapped but the last. */
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va + x->g), x->g, NULL), 0);
	CHECK(x->o.mapped[2] && x->o.pieces[2] > 1);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), folio - x->g, NULL), 0);
	CHECK(x->o.mapped[2] && x->o.pieces[2] == 1);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va + folio - x->g), x->g, NULL), 0);
	CHECK(!x->o.mapped[2] && x->o.pieces[2] == 0);
	check(&x->o, &x->t);
}

/* A copy's leaves in the destination are installs too. */
static void copy_installs(struct fx *x)
{
	struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct test_mem mem;
	struct vpte_table src;
	uint64_t folio = 1ull << x->o.folio_shift, va = x->o.window + 5 * folio;
	x->o.op = "copy";
	test_table_new(&src, &mem, x->o.f);
	CHECK_EQ(vpte_map(&src, vpte_va(va + x->g), vpte_pa(va + x->g + x->o.pa_offset),
			  folio - x->g, rw, NULL),
		 0);
	CHECK_EQ(vpte_unmap(&x->t, vpte_va(va), folio, NULL), 0);
	unsigned long installs = x->o.calls[0];
	struct edit copy = { .roll = 6, .va = va, .size = folio, .src = &src };
	CHECK_EQ(run_failing_each_allocation(x, &copy), 0);
	CHECK(x->o.calls[0] > installs);
	check(&x->o, &x->t);
	test_table_done(&src, &mem);
}

int main(int argc, char **argv)
{
	uint64_t seed = DEFAULT_SEED;
	unsigned long steps = DEFAULT_STEPS;
	struct test_pick pick;
	if (test_options(argc, argv, "--steps", &seed, &steps, &pick))
		return 2;
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	printf("test_observers: seed 0x%" PRIx64 ", %lu steps per format\n", seed, steps);
	for (size_t i = 0; i < count; i++) {
		if (!test_picked(&pick, i, formats[i]))
			continue;
		unsigned failed = test_failures;
		struct fx *x = calloc(1, sizeof(*x));
		char what[160] = "";
		if (!x)
			abort();
		fx_open(x, formats[i], seed);
		hugetlb_rule(x);
		for (unsigned long n = 0; n < steps && test_failures == failed; n++)
			step(x, what, sizeof(what));
		copy_installs(x);
		printf("  %-13s install %lu remove %lu split %lu merge %lu%s\n", formats[i]->name,
		       x->o.calls[0], x->o.calls[1], x->o.calls[2], x->o.calls[3],
		       test_failures != failed ? " FAILED" : "");
		CHECK_EQ(vpte_unmap(&x->t, vpte_va(x->o.window),
				    (uint64_t)FOLIOS << x->o.folio_shift, NULL), 0);
		fx_close(x);
		free(x);
	}
	return test_summary("test_observers");
}
