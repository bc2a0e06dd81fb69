/* SPDX-License-Identifier: MIT */
/*
 * test_faults.c - allocation failure injected at every allocation point.
 *
 * For random operations of several shapes (maps that need tables at many
 * levels, into empty and populated tables, insert-mode maps, unmaps and
 * protects that split huge leaves and contiguous runs at both edges, splits
 * of huge leaves and runs, at the ends of the address space; collapses,
 * which must allocate nothing) in every format: count the operation's
 * allocations k on one build of its starting table, then for each i in
 * 1..k rebuild the same table, make the i-th allocation fail, and check
 * that the operation returns -VPTE_ENOMEM, that the table is exactly as
 * before (snapshot) and that no page leaked.  The same operation, retried without the failure,
 * must then succeed with the result of the counting run.  Copies too
 * (vpte_copy into a target of the same or another format, write-protecting
 * or not): the target and the source are both as before.  Every table
 * carries a leaf observer: a failed edit calls no hook, and the retry calls
 * as many as the counting run.  Harvesting (test and clear) allocates
 * nothing, so it can never fail for memory.
 *
 * usage: test_faults [--seed N] [--rounds N] [--format NAME | --shard K/N]
 */
#include <stdbool.h>

#include "testlib.h"

#include "engine/internal.h" /* POOL_FIRST */

#define DEFAULT_SEED 0xfa17u
#define DEFAULT_ROUNDS 12 /* scenarios of each shape per format */
#define MAX_SETUP 4

enum op_kind { OP_MAP, OP_UNMAP, OP_PROTECT, OP_SPLIT, OP_COLLAPSE, OP_HARVEST };
static const char *const op_names[] = { "map", "unmap", "protect", "split", "collapse", "harvest" };

/* Calls of the observer hooks, on every table the test builds. */
static unsigned long hook_calls;

static void hook_leaf(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift)
{
	(void)va, (void)pa, (void)shift;
	++*(unsigned long *)ctx;
}

static void hook_split(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift, unsigned new_shift)
{
	(void)new_shift;
	hook_leaf(ctx, va, pa, shift);
}

static void hook_merge(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift, uint64_t parts)
{
	(void)parts;
	hook_leaf(ctx, va, pa, shift);
}

static const struct vpte_observer counting = { hook_leaf, hook_leaf, hook_split, hook_merge,
					       &hook_calls };

struct op {
	enum op_kind kind;
	bool gather;
	uint64_t va, size, pa;
	struct vpte_prot prot;
	struct vpte_map_opts opts;
	unsigned shift; /* split, collapse */
};

struct scenario {
	const char *shape;
	unsigned nsetup;
	struct op setup[MAX_SETUP];
	struct op op;
};

struct fmt {
	const struct vpte_format *f;
	unsigned gshift;
	uint64_t gran, space, half;
	unsigned nshifts;
	unsigned shifts[2 * VPTE_MAX_LEVELS]; /* leaf and run shifts, ascending */
	uint64_t rng;
	unsigned long scenarios, failures_injected;
};

static uint64_t rnd(struct fmt *x, uint64_t n)
{
	return n ? test_rand(&x->rng) % n : 0;
}

static uint64_t ia_to_va(const struct fmt *x, uint64_t ia)
{
	return x->f->sign_extend && ia >= x->half ? ia | ~(x->space - 1) : ia;
}

static void fmt_setup(struct fmt *x, const struct vpte_format *f, uint64_t seed)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	x->gshift = f->granule_shift;
	x->gran = 1ull << f->granule_shift;
	x->space = 1ull << f->va_bits;
	x->half = f->sign_extend ? x->space / 2 : x->space;
	x->rng = seed;
	for (const char *s = f->name; *s; s++)
		x->rng = (x->rng ^ (uint8_t)*s) * 1099511628211ull;
	x->nshifts = test_piece_shifts(f, x->shifts);
}

/* A random leaf or run shift above the granule (the granule if none). */
static unsigned big_shift(struct fmt *x)
{
	return x->nshifts > 1 ? x->shifts[1 + rnd(x, x->nshifts - 1)] : x->gshift;
}

/* A run shift of the format, or a huge leaf shift if it has no runs. */
static unsigned run_shift(struct fmt *x)
{
	unsigned found[VPTE_MAX_LEVELS], n = 0;
	for (unsigned l = 0; l < x->f->levels; l++)
		if (x->f->cont_bits[l])
			found[n++] = vpte_level_shift(x->f, l) + x->f->cont_bits[l];
	return n ? found[rnd(x, n)] : big_shift(x);
}

/* A few granules and a few pieces of some shift below @shift. */
static uint64_t ragged(struct fmt *x, unsigned shift)
{
	uint64_t off = (1 + rnd(x, 7)) << x->gshift;
	unsigned below = 0;
	while (below < x->nshifts && x->shifts[below] < shift)
		below++;
	if (below > 1) {
		unsigned s = x->shifts[1 + rnd(x, below - 1)];
		off += rnd(x, 3) << s;
	}
	return off;
}

/* Where a scenario lives: aligned to @unit, with room for a few units on
 * both sides: low in the space, at the start of the upper half, or at its
 * very end. */
static uint64_t base_for(struct fmt *x, unsigned shift, unsigned where)
{
	uint64_t unit = 1ull << shift;
	switch (where % 3) {
	case 0: return 4 * unit;
	case 1: return x->f->sign_extend ? x->half + 4 * unit : x->space / 2;
	default: return x->space - 4 * unit;
	}
}

static uint64_t pa_for(struct fmt *x, unsigned shift)
{
	uint64_t slots = (1ull << x->f->pa_bits) >> shift;
	return (1 + rnd(x, slots / 2)) << shift;
}

static struct vpte_prot some_prot(struct fmt *x)
{
	struct vpte_prot p = { VPTE_R | VPTE_W, (uint32_t)rnd(x, 3), 0 };
	if (rnd(x, 2))
		p.flags |= VPTE_X | VPTE_G;
	return p;
}

static struct op map_op(uint64_t ia, uint64_t size, uint64_t pa, struct vpte_prot prot)
{
	struct op o = { OP_MAP, false, ia, size, pa, prot, { 0, 0 }, 0 };
	return o;
}

/* An edit of a range alone: unmap, protect (write-protect, set dirty),
 * split (to @shift), collapse (up to @shift). */
static struct op range_op(enum op_kind kind, uint64_t ia, uint64_t size, bool gather,
			  unsigned shift)
{
	struct op o = { kind, gather, ia, size, 0, { 0, 0, 0 }, { 0, 0 }, shift };
	return o;
}

static struct op unmap_op(uint64_t ia, uint64_t size, bool gather)
{
	return range_op(OP_UNMAP, ia, size, gather, 0);
}

/*
 * Two contiguous runs (huge leaves, for a format without runs) back to
 * back as the setup of @s; returns a page a little below the boundary
 * between them, where an edit of two pages cuts both.
 */
static uint64_t setup_two_runs(struct fmt *x, struct scenario *s, struct vpte_prot prot)
{
	unsigned rs = run_shift(x);
	uint64_t run = 1ull << rs, b = base_for(x, rs, (unsigned)rnd(x, 3));
	s->setup[s->nsetup++] = map_op(b, 2 * run, pa_for(x, rs), prot);
	s->setup[s->nsetup - 1].opts.max_shift = rs;
	return b + run - ragged(x, rs);
}

#define SHAPES 14

/* Build scenario number @n of shape n % SHAPES. */
static void make_scenario(struct fmt *x, unsigned n, struct scenario *s)
{
	unsigned shift = big_shift(x);
	uint64_t unit = 1ull << shift, b = base_for(x, shift, (unsigned)rnd(x, 3));
	uint64_t pa = pa_for(x, shift);
	struct vpte_prot prot = some_prot(x);
	uint64_t lo = ragged(x, shift), hi = ragged(x, shift);

	memset(s, 0, sizeof(*s));
	switch (n % SHAPES) {
	case 0: /* a ragged map into an empty table: tables at every level */
		s->shape = "map into empty";
		s->op = map_op(b - lo, unit + lo + hi, pa - lo, prot);
		break;
	case 1: /* a ragged map next to a huge mapping: some tables exist */
		s->shape = "map next to huge";
		s->setup[s->nsetup++] = map_op(b - unit, unit, pa - unit, prot);
		s->setup[s->nsetup++] = map_op(b + 2 * unit - x->gran, x->gran, pa + 2 * unit, prot);
		s->op = map_op(b + lo, unit - lo + hi, pa + lo, prot);
		break;
	case 2: /* insert over a mapped piece, spilling into holes */
		s->shape = "insert over mapping";
		s->setup[s->nsetup++] = map_op(b, unit, pa, prot);
		s->op = map_op(b - lo, unit + lo + hi, pa - lo, prot);
		s->op.opts.flags = VPTE_MAP_INSERT;
		s->op.opts.max_shift = rnd(x, 2) ? shift : 0;
		break;
	case 3: /* unmap inside a huge leaf: both edges split */
		s->shape = "unmap inside huge";
		s->setup[s->nsetup++] = map_op(b, unit, pa, prot);
		s->op = unmap_op(b + lo, lo + hi < unit ? unit - lo - hi : x->gran, rnd(x, 2));
		break;
	case 4: /* unmap across two huge leaves: an edge in each */
		s->shape = "unmap across huge";
		s->setup[s->nsetup++] = map_op(b, 2 * unit, pa, prot);
		s->op = unmap_op(b + unit - lo, lo + hi, rnd(x, 2));
		break;
	case 5: /* unmap inside contiguous runs */
		s->shape = "unmap inside run";
		b = setup_two_runs(x, s, prot); /* drawn apart: argument order is unspecified */
		s->op = unmap_op(b, 2 * x->gran, rnd(x, 2));
		break;
	case 6: /* the last page of the space, inside a huge leaf */
		s->shape = "unmap last page";
		b = x->space - unit;
		s->setup[s->nsetup++] = map_op(b, unit, pa, prot);
		s->op = unmap_op(x->space - lo, lo, rnd(x, 2));
		break;
	case 8: /* protect inside a huge leaf: both edges split */
		s->shape = "protect inside huge";
		s->setup[s->nsetup++] = map_op(b, unit, pa, prot);
		s->op = range_op(OP_PROTECT, b + lo, lo + hi < unit ? unit - lo - hi : x->gran,
				 rnd(x, 2), 0);
		break;
	case 9: /* protect across two runs or huge leaves: an edge in each */
		s->shape = "protect across runs";
		b = setup_two_runs(x, s, prot);
		s->op = range_op(OP_PROTECT, b, 2 * x->gran, rnd(x, 2), 0);
		break;
	case 10: { /* split a huge leaf, in part, to a smaller piece: at most
		    * a thousand or so of them in the range */
		unsigned to = x->shifts[rnd(x, x->nshifts)];
		while (((lo + hi) >> to) > 1024)
			to++;
		s->shape = "split huge";
		s->setup[s->nsetup++] = map_op(b, 2 * unit, pa, prot);
		s->setup[s->nsetup - 1].opts.max_shift = shift;
		s->op = range_op(OP_SPLIT, b + unit - lo, lo + hi, rnd(x, 2), to);
		break;
	}
	case 11: /* split inside contiguous runs, to pages */
		s->shape = "split inside run";
		b = setup_two_runs(x, s, prot);
		s->op = range_op(OP_SPLIT, b, 2 * x->gran, rnd(x, 2), x->gshift);
		break;
	case 12: { /* collapse pages into huge leaves and runs: nothing to allocate */
		unsigned cs = x->gshift; /* a piece of at most 1024 pages */
		for (unsigned i = 0; i < x->nshifts; i++)
			if (x->shifts[i] <= x->gshift + 10 && rnd(x, 2))
				cs = x->shifts[i];
		unit = 1ull << cs;
		b = base_for(x, cs, (unsigned)rnd(x, 3));
		pa = pa_for(x, cs);
		lo = ragged(x, cs);
		hi = ragged(x, cs);
		s->shape = "collapse";
		s->setup[s->nsetup++] = map_op(b - lo, unit + lo + hi, pa - lo, prot);
		s->setup[s->nsetup - 1].opts.max_shift = x->gshift;
		bool gathered = rnd(x, 2);
		unsigned max_shift = rnd(x, 2) ? 0 : x->shifts[rnd(x, x->nshifts)];
		s->op = range_op(OP_COLLAPSE, b - lo, unit + lo + hi, gathered, max_shift);
		break;
	}
	case 13: /* test and clear dirty over huge leaves and runs, some cut */
		s->shape = "harvest";
		b = setup_two_runs(x, s, prot);
		s->setup[s->nsetup++] = range_op(OP_PROTECT, b, 2 * x->gran, false, 0);
		s->op = range_op(OP_HARVEST, b - lo, lo + hi + x->gran, rnd(x, 2), 0);
		break;
	default: /* the last pages of the space, or the first of the upper half */
		s->shape = "map edges of the space";
		if (x->f->sign_extend && rnd(x, 2))
			s->op = map_op(x->half, unit - lo, pa, prot);
		else
			s->op = map_op(x->space - unit + lo, unit - lo, pa + lo, prot);
		break;
	}
}

static int run_op(struct fmt *x, struct vpte_table *t, const struct op *o)
{
	static const struct vpte_prot set_dirty = { VPTE_D, 0, 0 }, clear_w = { VPTE_W, 0, 0 };
	vpte_va_t va = vpte_va(ia_to_va(x, o->va));
	struct vpte_harvest_opts harvest = { VPTE_D, 0, VPTE_HARVEST_CLEAR, NULL };
	struct vpte_gather g, *gp = o->gather ? &g : NULL;
	int err = 0;
	if (gp)
		vpte_gather_init(gp, t, NULL, NULL);
	switch (o->kind) {
	case OP_MAP: err = vpte_map(t, va, vpte_pa(o->pa), o->size, o->prot, &o->opts); break;
	case OP_UNMAP: err = vpte_unmap(t, va, o->size, gp); break;
	case OP_PROTECT: err = vpte_protect(t, va, o->size, set_dirty, clear_w, gp); break;
	case OP_SPLIT: err = vpte_split(t, va, o->size, o->shift, gp); break;
	case OP_COLLAPSE: err = vpte_collapse(t, va, o->size, o->shift, gp); break;
	case OP_HARVEST:
		harvest.gather = gp;
		err = vpte_harvest(t, va, o->size, NULL, &harvest);
		break;
	}
	/* A failed edit gathers nothing. */
	if (gp && err && (g.nr_pages || g.leaves_changed || g.tables_changed)) {
		fprintf(stderr, "  gather not empty after a failed %s\n", op_names[o->kind]);
		test_failures++;
	}
	if (gp)
		vpte_gather_finish(gp);
	return err;
}

/* Every leaf: place, size and entry (holes and table entries follow). */
static uint64_t leaf_digest(const struct vpte_table *t)
{
	vpte_va_t start[2];
	uint64_t size[2], h = 0x9e3779b97f4a7c15ull;
	unsigned halves = vpte_va_space(t->fmt, start, size);
	for (unsigned i = 0; i < halves; i++) {
		struct vpte_walk w;
		vpte_for_each_leaf(&w, t, start[i], size[i])
		{
			h = (h ^ w.va.addr) * 0x100000001b3ull;
			h = (h ^ w.entry) * 0x100000001b3ull;
			h = (h ^ w.shift) * 0x100000001b3ull;
		}
		h ^= (uint64_t)w.error;
	}
	return h;
}

/* A fresh table with the scenario's setup applied; false if that failed. */
static bool build(struct fmt *x, const struct scenario *s, struct test_mem *mem,
		  struct vpte_table *t)
{
	memset(mem, 0, sizeof(*mem));
	if (vpte_table_init(t, x->f, test_mem(mem)))
		return false;
	vpte_table_set_observer(t, &counting);
	for (unsigned i = 0; i < s->nsetup; i++)
		if (run_op(x, t, &s->setup[i])) {
			vpte_table_destroy(t);
			return false;
		}
	return true;
}

static void report(struct fmt *x, const struct scenario *s, unsigned n, const char *what,
		   uint64_t i, uint64_t k)
{
	const struct op *o = &s->op;
	fprintf(stderr,
		"test_faults: %s, scenario %u (%s), allocation %" PRIu64 " of %" PRIu64 ": %s va 0x%" PRIx64
		" size 0x%" PRIx64 " pa 0x%" PRIx64 ": %s\n",
		x->f->name, n, s->shape, i, k, op_names[o->kind], ia_to_va(x, o->va), o->size,
		o->pa, what);
	test_failures++;
}

/* Returns false when the scenario does not apply (its ops are refused). */
static bool run_scenario(struct fmt *x, unsigned n, const struct scenario *s)
{
	struct test_mem mem;
	struct vpte_table t;

	/* Count the operation's allocations; keep the result to compare. */
	if (!build(x, s, &mem, &t))
		return false;
	uint64_t attempts = mem.attempts, live = mem.live;
	unsigned long calls = hook_calls;
	int err = run_op(x, &t, &s->op);
	uint64_t k = mem.attempts - attempts, want = leaf_digest(&t);
	unsigned long want_calls = hook_calls - calls;
	/* A map, protect or split allocates exactly the tables it keeps; a
	 * collapse or a harvest, nothing. */
	if (!err && (s->op.kind == OP_COLLAPSE || s->op.kind == OP_HARVEST) && k)
		report(x, s, n, "a collapse or harvest allocated", 0, k);
	if (!err && s->op.kind != OP_UNMAP && s->op.kind != OP_COLLAPSE && s->op.kind != OP_HARVEST &&
	    mem.live - live != k)
		report(x, s, n, "allocated other than the tables it kept", 0, k);
	vpte_table_destroy(&t);
	if (mem.live)
		report(x, s, n, "pages live after destroy", 0, k);
	if (err)
		return false;

	for (uint64_t i = 1; i <= k; i++) {
		struct test_snapshot before, after;
		if (!build(x, s, &mem, &t)) {
			report(x, s, n, "setup failed on rebuild", i, k);
			return true;
		}
		snapshot_take(&before, &t);
		live = mem.live;
		mem.fail_at = mem.attempts + i;
		calls = hook_calls;
		err = run_op(x, &t, &s->op);
		mem.fail_at = 0;
		snapshot_take(&after, &t);
		if (err != -VPTE_ENOMEM)
			report(x, s, n, vpte_strerror(err), i, k);
		if (hook_calls != calls)
			report(x, s, n, "a failed edit called an observer hook", i, k);
		if (!snapshot_equal(&before, &after))
			report(x, s, n, "the table changed", i, k);
		if (mem.live != live)
			report(x, s, n, "pages leaked", i, k);
		snapshot_free(&before);
		snapshot_free(&after);
		x->failures_injected++;
		/* The same operation now succeeds, with the same result. */
		calls = hook_calls;
		err = run_op(x, &t, &s->op);
		if (err || leaf_digest(&t) != want || hook_calls - calls != want_calls)
			report(x, s, n, "retry differs from the first run", i, k);
		if (vpte_table_destroy(&t) || mem.live)
			report(x, s, n, "destroy left pages live", i, k);
	}
	return true;
}

/* ------------------------------------------------------------------------
 * vpte_copy: the same, into a target of the same or another format; the
 * source must not change either, also when write-protecting.
 * ------------------------------------------------------------------------ */
#define COPY_MAX_ALLOCS 64

struct copy_case {
	const struct vpte_format *to;
	struct op src_map;    /* what the source maps */
	uint64_t dst_va;      /* a page the target maps already, near the range */
	uint64_t va, size;    /* the copy (VAs valid in both formats) */
	unsigned flags;
};

/* A ragged mapping of 2^shift pieces in the source, a page next to it in a
 * target of a random format, and a copy of some or all of it; PAs below
 * 2^47, which every format can reach. */
static void make_copy_case(struct fmt *x, struct copy_case *c)
{
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	unsigned shift = big_shift(x);
	uint64_t unit = 1ull << shift, b = 4 * unit;
	uint64_t lo = ragged(x, shift), hi = ragged(x, shift);
	uint64_t pa = (1 + rnd(x, ((1ull << 47) >> shift) / 2)) << shift;

	memset(c, 0, sizeof(*c));
	c->to = rnd(x, 2) ? x->f : formats[rnd(x, count)];
	c->src_map = map_op(b - lo, 2 * unit + lo + hi, pa - lo, some_prot(x));
	c->dst_va = b - 2 * unit;
	c->va = rnd(x, 2) ? b - lo : b;
	c->size = rnd(x, 2) ? 2 * unit + lo + hi : unit;
	c->flags = rnd(x, 2) ? VPTE_COPY_WRPROTECT : 0;
}

/* Fresh source and target with the case's mappings; false if refused. */
static bool copy_build(struct fmt *x, const struct copy_case *c, struct test_mem *ms,
		       struct vpte_table *src, struct test_mem *md, struct vpte_table *dst)
{
	struct vpte_prot ro = { VPTE_R, VPTE_MT_WB, 0 };
	memset(ms, 0, sizeof(*ms));
	memset(md, 0, sizeof(*md));
	if (vpte_table_init(src, x->f, test_mem(ms)))
		return false;
	if (vpte_table_init(dst, c->to, test_mem(md))) {
		vpte_table_destroy(src);
		return false;
	}
	vpte_table_set_observer(src, &counting);
	vpte_table_set_observer(dst, &counting);
	if (run_op(x, src, &c->src_map) ||
	    vpte_map(dst, vpte_va(c->dst_va), vpte_pa(0), 1ull << c->to->granule_shift, ro, NULL)) {
		vpte_table_destroy(src);
		vpte_table_destroy(dst);
		return false;
	}
	return true;
}

static int copy_run(struct vpte_table *dst, struct vpte_table *src, const struct copy_case *c)
{
	struct vpte_gather g;
	vpte_gather_init(&g, src, NULL, NULL);
	struct vpte_copy_opts opts = { c->flags, &g };
	int err = vpte_copy(dst, src, vpte_va(c->va), c->size, &opts);
	/* A failed copy gathers nothing. */
	if (err && (g.leaves_changed || g.tables_changed)) {
		fprintf(stderr, "  gather not empty after a failed copy\n");
		test_failures++;
	}
	vpte_gather_finish(&g);
	return err;
}

static void copy_report(struct fmt *x, const struct copy_case *c, const char *what, uint64_t i,
			uint64_t k)
{
	fprintf(stderr,
		"test_faults: copy %s -> %s%s va 0x%" PRIx64 " size 0x%" PRIx64
		", allocation %" PRIu64 " of %" PRIu64 ": %s\n",
		x->f->name, c->to->name, c->flags ? " write-protecting" : "", c->va, c->size, i, k,
		what);
	test_failures++;
}

/* Returns false when the case does not apply (the copy is refused). */
static bool run_copy_case(struct fmt *x, const struct copy_case *c)
{
	struct test_mem ms, md;
	struct vpte_table src, dst;
	if (!copy_build(x, c, &ms, &src, &md, &dst))
		return false;
	uint64_t attempts = md.attempts, live = md.live;
	unsigned long calls = hook_calls;
	int err = copy_run(&dst, &src, c);
	uint64_t k = md.attempts - attempts, want_src = leaf_digest(&src), want_dst = leaf_digest(&dst);
	unsigned long want_calls = hook_calls - calls;
	if (!err && md.live - live != k)
		copy_report(x, c, "a copy allocated other than the tables it kept", 0, k);
	vpte_table_destroy(&src);
	vpte_table_destroy(&dst);
	if (ms.live || md.live)
		copy_report(x, c, "pages live after destroy", 0, k);
	/* A leaf the target must cut into many tables' worth (a 256T leaf into
	 * 1G leaves) makes a slow case and no better one: draw another. */
	if (err || k > COPY_MAX_ALLOCS)
		return false;

	for (uint64_t i = 1; i <= k; i++) {
		struct test_snapshot before[2], after[2];
		if (!copy_build(x, c, &ms, &src, &md, &dst)) {
			copy_report(x, c, "setup failed on rebuild", i, k);
			return true;
		}
		snapshot_take(&before[0], &src);
		snapshot_take(&before[1], &dst);
		live = md.live;
		uint64_t src_allocs = ms.allocs;
		md.fail_at = md.attempts + i;
		calls = hook_calls;
		err = copy_run(&dst, &src, c);
		md.fail_at = 0;
		if (hook_calls != calls)
			copy_report(x, c, "a failed copy called an observer hook", i, k);
		snapshot_take(&after[0], &src);
		snapshot_take(&after[1], &dst);
		if (err != -VPTE_ENOMEM)
			copy_report(x, c, vpte_strerror(err), i, k);
		if (!snapshot_equal(&before[0], &after[0]))
			copy_report(x, c, "the source changed", i, k);
		if (!snapshot_equal(&before[1], &after[1]))
			copy_report(x, c, "the target changed", i, k);
		if (md.live != live || ms.allocs != src_allocs)
			copy_report(x, c, "pages leaked", i, k);
		for (unsigned t = 0; t < 2; t++) {
			snapshot_free(&before[t]);
			snapshot_free(&after[t]);
		}
		x->failures_injected++;
		/* The same copy now succeeds, with the same result. */
		calls = hook_calls;
		if (copy_run(&dst, &src, c) || leaf_digest(&src) != want_src ||
		    leaf_digest(&dst) != want_dst || hook_calls - calls != want_calls)
			copy_report(x, c, "retry differs from the first run", i, k);
		if (vpte_table_destroy(&src) || vpte_table_destroy(&dst) || ms.live || md.live)
			copy_report(x, c, "destroy left pages live", i, k);
	}
	return true;
}

/* The root itself: vpte_table_init fails cleanly and leaks nothing. */
static void root_failure(const struct vpte_format *f)
{
	struct test_mem mem = { .fail_at = 1 };
	struct vpte_table t;
	memset(&t, 0x5a, sizeof(t));
	int err = vpte_table_init(&t, f, test_mem(&mem));
	CHECK_EQ(err, -VPTE_ENOMEM);
	CHECK_EQ(mem.live, 0);
	CHECK_EQ(mem.attempts, 1);
}

/*
 * Maps of 1 to POOL_FIRST + 3 leaf tables' spans in granule leaves into an
 * empty table, aligned (leaf tables written whole) or a granule short at
 * both ends (the end ones zeroed): their pools hold no more pages than the
 * pool keeps addresses of in itself (POOL_FIRST), or need an index page,
 * and each map fails at every allocation in turn.
 */
static void pool_sizes(struct fmt *x)
{
	unsigned leaf_table = x->gshift + x->f->level_bits[0];
	for (unsigned m = 1; m <= POOL_FIRST + 3u; m++) {
		for (uint64_t in = 0; in <= x->gran; in += x->gran) {
			struct scenario s;
			memset(&s, 0, sizeof(s));
			s.shape = "map of leaf tables";
			s.op = map_op(base_for(x, leaf_table, 0) + in, ((uint64_t)m << leaf_table) - 2u * in,
				      pa_for(x, leaf_table) + in, some_prot(x));
			s.op.opts.max_shift = x->gshift;
			if (run_scenario(x, m, &s))
				x->scenarios++;
			else
				report(x, &s, m, "refused", 0, 0);
		}
	}
}

int main(int argc, char **argv)
{
	uint64_t seed = DEFAULT_SEED;
	unsigned long rounds = DEFAULT_ROUNDS;
	struct test_pick pick;
	if (test_options(argc, argv, "--rounds", &seed, &rounds, &pick))
		return 2;

	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	printf("test_faults: seed 0x%" PRIx64 ", %lu scenarios of each shape per format\n", seed,
	       rounds);
	for (size_t i = 0; i < count; i++) {
		const struct vpte_format *f = formats[i];
		if (!test_picked(&pick, i, f))
			continue;
		struct fmt x;
		fmt_setup(&x, f, seed);
		root_failure(f);
		unsigned failed_before = test_failures;
		pool_sizes(&x);
		for (unsigned n = 0; n < SHAPES * rounds; n++) {
			struct scenario s;
			/* Some random shapes do not fit (e.g. PA range): draw again. */
			for (unsigned tries = 0; tries < 20; tries++) {
				make_scenario(&x, n, &s);
				if (run_scenario(&x, n, &s)) {
					x.scenarios++;
					break;
				}
			}
		}
		printf("  %-13s %lu scenarios, %lu allocation failures injected%s\n", f->name,
		       x.scenarios, x.failures_injected, test_failures != failed_before ? ": FAILED" : "");
		unsigned long copies = 0, injected = x.failures_injected;
		for (unsigned n = 0; n < 2 * rounds; n++) {
			struct copy_case c;
			for (unsigned tries = 0; tries < 20; tries++) {
				make_copy_case(&x, &c);
				if (run_copy_case(&x, &c)) {
					copies++;
					break;
				}
			}
		}
		printf("  %-13s %lu copies, %lu allocation failures injected\n", "", copies,
		       x.failures_injected - injected);
	}
	return test_summary("test_faults");
}
