/* SPDX-License-Identifier: MIT */
/*
 * test_gather.c - the gather, verified against a model TLB, every format.
 *
 * The model TLB caches what a hardware walker would: translations (a huge
 * leaf or a contiguous run as one entry) and walk-cache entries (which
 * table serves a span at a level), and it forgets them only when a gather
 * invalidates them: a translation entry when it holds an address of
 * [start, last] at the stride 2^min_shift (what a ranged invalidation
 * touches), a walk-cache entry likewise when tables_changed (all of them
 * when the gather names no range).  It misses to a walk of the table in
 * memory that starts at the lowest cached table covering the address.
 *
 * Random edits (map, insert, unmap, protect, split, collapse), sometimes
 * two under one gather, each after the TLB was warmed on the addresses
 * they touch.  After each gather is finished, every sampled address must
 * translate through the model TLB as vpte_seek() says.
 *
 * Table pages handed to a gather are poisoned until the gather is
 * finished, and nobody may read them: the allocator's phys_to_virt fails
 * the test for a page in the pending gather's list (the engine, which
 * unhooked it, reads it again) or a page already freed (kept in
 * quarantine, so a stale walk-cache entry of the model TLB reads poison,
 * never reused memory).  A table page freed while the model TLB's walk
 * cache still holds it fails the test too: it was freed before the
 * invalidation that would have dropped it (not through the gather, or
 * outside the range the gather reported).
 *
 * usage: test_gather [--seed N] [--steps N] [--format NAME | --shard K/N]
 */
#include <stdbool.h>

#include "engine/codec.h"
#include "formats/arm64.h"
#include "formats/riscv.h"
#include "formats/x86_64.h"
#include "testlib.h"

#define DEFAULT_SEED 0x6a7e3u
#define DEFAULT_STEPS 300
#define QUARANTINE 512      /* freed pages kept (poisoned) before memory is reused */
#define REGISTRY (1u << 20) /* distinct page addresses the allocator can track */
#define TLB_LEAVES 2048
#define TLB_WALKS 512
#define LEAF_BUDGET 3000
#define SAMPLES 96

static const char *current_op = "(setup)";

static void violation(const char *what, uint64_t pa)
{
	fprintf(stderr, "test_gather: %s: %s: page 0x%" PRIx64 "\n", current_op, what, pa);
	test_failures++;
}

/* ------------------------------------------------------------------------
 * The allocator: every page it ever handed out, live or freed
 * ------------------------------------------------------------------------ */
enum page_state { PAGE_NONE, PAGE_LIVE, PAGE_QUARANTINED, PAGE_FREED };

struct gmem {
	uint64_t size;                  /* the format's page size */
	uint64_t *keys;                 /* open addressing, never deleted */
	uint8_t *state;
	uint64_t quarantine[QUARANTINE]; /* FIFO of freed pages not yet returned */
	unsigned q_head, q_count;
	uint64_t live;
	const struct vpte_gather *pending; /* the gather whose pages nobody may read */
	bool (*cached)(const void *tlb, uint64_t pa); /* does the model TLB still hold the table? */
	const void *tlb;
};

static size_t slot_of(struct gmem *m, uint64_t pa)
{
	size_t i = (size_t)((pa >> 12) * 0x9e3779b97f4a7c15ull >> 44) & (REGISTRY - 1);
	while (m->keys[i] && m->keys[i] != pa)
		i = (i + 1) & (REGISTRY - 1);
	return i;
}

static int gmem_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	struct gmem *m = ctx;
	void *page = aligned_alloc(align, size);
	if (!page)
		return -VPTE_ENOMEM;
	memset(page, 0, size);
	size_t i = slot_of(m, (uintptr_t)page);
	m->keys[i] = (uintptr_t)page;
	m->state[i] = PAGE_LIVE;
	m->live++;
	*pa = vpte_pa((uintptr_t)page);
	return 0;
}

static void gmem_free(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct gmem *m = ctx;
	size_t i = slot_of(m, pa.addr);
	if (m->state[i] != PAGE_LIVE) {
		violation("freed twice, or never allocated", pa.addr);
		return;
	}
	if (m->cached && m->cached(m->tlb, pa.addr))
		violation("freed while the model TLB's walk cache holds it (before its invalidation)",
			  pa.addr);
	memset((void *)(uintptr_t)pa.addr, 0xa5, size);
	m->state[i] = PAGE_QUARANTINED;
	m->live--;
	if (m->q_count == QUARANTINE) {
		uint64_t old = m->quarantine[m->q_head];
		m->state[slot_of(m, old)] = PAGE_FREED;
		free((void *)(uintptr_t)old);
		m->quarantine[m->q_head] = pa.addr;
		m->q_head = (m->q_head + 1) % QUARANTINE;
	} else {
		m->quarantine[(m->q_head + m->q_count++) % QUARANTINE] = pa.addr;
	}
}

static void *gmem_virt(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct gmem *m = ctx;
	(void)size;
	size_t i = slot_of(m, pa.addr);
	if (m->state[i] != PAGE_LIVE) {
		violation(m->state[i] == PAGE_NONE ? "read of a page never allocated"
						   : "read of a freed table page",
			  pa.addr);
		return m->state[i] == PAGE_QUARANTINED ? (void *)(uintptr_t)pa.addr : NULL;
	}
	for (unsigned k = 0; m->pending && k < m->pending->nr_pages; k++)
		if (m->pending->pages[k].addr == pa.addr)
			violation("read of a page handed to the gather", pa.addr);
	return (void *)(uintptr_t)pa.addr;
}

static const struct vpte_mem_ops gmem_ops = { gmem_alloc, gmem_free, gmem_virt, NULL, NULL, NULL };

static void gmem_release(struct gmem *m)
{
	for (unsigned k = 0; k < m->q_count; k++)
		free((void *)(uintptr_t)m->quarantine[(m->q_head + k) % QUARANTINE]);
	free(m->keys);
	free(m->state);
}

/* ------------------------------------------------------------------------
 * The model TLB
 * ------------------------------------------------------------------------ */
struct tlb_leaf {
	uint64_t ia, pa; /* the span's first index address and the PA it maps */
	unsigned shift;
	struct vpte_prot prot;
};

struct tlb_walk {
	uint64_t ia;   /* the span the cached table serves */
	unsigned shift;
	unsigned level; /* of the table */
	uint64_t table;
};

struct tlb {
	const struct vpte_format *f;
	const struct vpte_codec *c;
	const struct vpte_table *t;
	struct tlb_leaf leaves[TLB_LEAVES];
	struct tlb_walk walks[TLB_WALKS];
	unsigned nleaves, nwalks;
	uint64_t rng;
	unsigned long hits, walks_from_cache, invalidated;
};

static const struct vpte_codec *codec_of(const struct vpte_format *f)
{
	if (!strncmp(f->name, "x86_64", 6))
		return &x86_codec;
	if (!strncmp(f->name, "arm64", 5))
		return &arm64_codec;
	return &riscv_codec;
}

static unsigned shift_of(const struct vpte_format *f, unsigned level)
{
	return f->granule_shift + f->level_bits[0] * level;
}

static uint64_t ia_mask(const struct vpte_format *f)
{
	return (1ull << f->va_bits) - 1;
}

/* Entry i of the cache, replacing a random one when it is full. */
static unsigned tlb_slot(struct tlb *b, unsigned *n, unsigned cap)
{
	if (*n < cap)
		return (*n)++;
	return (unsigned)(test_rand(&b->rng) % cap);
}

/* What translates @ia: true and *@out for a leaf, false for a hole.  Every
 * cached translation holding @ia must say the same; *@stale is set when
 * they disagree. */
static bool tlb_translate(struct tlb *b, uint64_t ia, struct tlb_leaf *out, bool *stale)
{
	const struct vpte_format *f = b->f;
	const struct vpte_codec *c = b->c;
	bool found = false;
	*stale = false;
	for (unsigned i = 0; i < b->nleaves; i++) {
		const struct tlb_leaf *l = &b->leaves[i];
		if (ia - l->ia >= (1ull << l->shift))
			continue;
		if (found && (l->pa + (ia - l->ia) != out->pa + (ia - out->ia) ||
			      memcmp(&l->prot, &out->prot, sizeof(l->prot))))
			*stale = true;
		if (!found)
			*out = *l;
		found = true;
	}
	if (found) {
		b->hits++;
		return true;
	}
	/* A miss: walk from the lowest cached table that serves @ia. */
	unsigned level = vpte_top_level(f);
	uint64_t table = b->t->root.addr;
	for (unsigned i = 0; i < b->nwalks; i++) {
		const struct tlb_walk *w = &b->walks[i];
		if (ia - w->ia < (1ull << w->shift) && w->level < level) {
			level = w->level;
			table = w->table;
		}
	}
	b->walks_from_cache += level != vpte_top_level(f);
	for (;;) {
		uint64_t *entries = b->t->mem.ops->phys_to_virt(b->t->mem.ctx, vpte_pa(table),
								1ull << f->granule_shift);
		if (!entries)
			return false;
		unsigned index = (unsigned)(ia >> shift_of(f, level)) & ((1u << f->level_bits[level]) - 1);
		uint64_t e = entries[index];
		int kind = c->kind(f, e, level);
		if (kind == VPTE_TABLE) {
			struct tlb_walk *w = &b->walks[tlb_slot(b, &b->nwalks, TLB_WALKS)];
			unsigned span = shift_of(f, level);
			*w = (struct tlb_walk){ ia & ~((1ull << span) - 1), span, level - 1, c->table_pa(f, e) };
			table = w->table;
			level--;
			continue;
		}
		if (kind != VPTE_LEAF)
			return false;
		unsigned shift = shift_of(f, level);
		if (f->cont_bits[level] && c->leaf_cont(f, e, level))
			shift += f->cont_bits[level];
		uint64_t entry_ia = ia & ~((1ull << shift_of(f, level)) - 1);
		uint64_t span_ia = ia & ~((1ull << shift) - 1);
		out->ia = span_ia;
		out->shift = shift;
		out->pa = c->leaf_pa(f, e, level, entry_ia) - (entry_ia - span_ia);
		out->prot = c->leaf_prot(f, e, level);
		b->leaves[tlb_slot(b, &b->nleaves, TLB_LEAVES)] = *out;
		return true;
	}
}

/* Does [ia, ia + 2^shift) hold an address of [start, last] at the stride? */
static bool stride_hits(uint64_t ia, unsigned shift, uint64_t start, uint64_t last,
			unsigned stride_shift)
{
	uint64_t end = ia + ((1ull << shift) - 1), lo = ia > start ? ia : start;
	uint64_t stride = 1ull << stride_shift;
	if (lo > last || end < start)
		return false;
	uint64_t p = start + ((lo - start + stride - 1) / stride) * stride;
	return p >= lo && p <= end && p <= last;
}

/* Does a walk-cache entry still point at the table page @pa? */
static bool tlb_holds_table(const void *ctx, uint64_t pa)
{
	const struct tlb *b = ctx;
	for (unsigned i = 0; i < b->nwalks; i++)
		if (b->walks[i].table == pa)
			return true;
	return false;
}

/* The invalidate callback: forget exactly what the gather reports. */
static void tlb_invalidate(void *ctx, const struct vpte_gather *g)
{
	struct tlb *b = ctx;
	uint64_t start = g->start & ia_mask(b->f), last = g->last & ia_mask(b->f);
	for (unsigned i = 0; g->leaves_changed && i < b->nleaves;) {
		if (stride_hits(b->leaves[i].ia, b->leaves[i].shift, start, last, g->min_shift)) {
			b->leaves[i] = b->leaves[--b->nleaves];
			b->invalidated++;
		} else {
			i++;
		}
	}
	for (unsigned i = 0; g->tables_changed && i < b->nwalks;) {
		if (!g->leaves_changed ||
		    stride_hits(b->walks[i].ia, b->walks[i].shift, start, last, g->min_shift))
			b->walks[i] = b->walks[--b->nwalks];
		else
			i++;
	}
}

/* ------------------------------------------------------------------------
 * Random edits
 * ------------------------------------------------------------------------ */
struct run {
	const struct vpte_format *f;
	struct gmem mem;
	struct vpte_table t;
	struct tlb tlb;
	uint64_t rng, g, space, half;
	uint64_t window[2], window_size; /* index addresses; one per half */
	unsigned nwindows;
	uint64_t pa_base; /* window k maps to pa_base + k * window_size on */
	unsigned nshifts, shifts[2 * VPTE_MAX_LEVELS];
	uint64_t samples[SAMPLES];
	unsigned nsamples;
	char op[256];
	unsigned long ops[6], edits_shared, samples_checked;
	uint64_t leaves;
};

static uint64_t rnd(struct run *r, uint64_t n)
{
	return n ? test_rand(&r->rng) % n : 0;
}

static uint64_t ia_to_va(const struct run *r, uint64_t ia)
{
	return r->f->sign_extend && ia >= r->half ? ia | ~(r->space - 1) : ia;
}

/* A piece shift no larger than the window's unit. */
static unsigned rnd_shift(struct run *r)
{
	unsigned s;
	do
		s = r->shifts[rnd(r, r->nshifts)];
	while ((1ull << s) > r->window_size / 4);
	return s;
}

/* A range in one window: a few pieces of some size, ends ragged or not. */
static void gen_range(struct run *r, uint64_t *ia, uint64_t *size)
{
	uint64_t base = r->window[rnd(r, r->nwindows)], end = base + r->window_size;
	unsigned s = rnd_shift(r);
	*ia = base + (rnd(r, r->window_size >> s) << s);
	*size = (1 + rnd(r, 3)) << s;
	if (rnd(r, 2))
		*ia += rnd(r, 8) * r->g;
	if (rnd(r, 2))
		*size += rnd(r, 8) * r->g;
	if (*ia >= end)
		*ia = end - r->g;
	if (*size > end - *ia)
		*size = end - *ia;
}

static void sample(struct run *r, uint64_t ia)
{
	if (r->nsamples < SAMPLES && ia < r->space)
		r->samples[r->nsamples++] = (ia & ~(r->g - 1)) | rnd(r, r->g);
}

/* The addresses an edit of [ia, ia + size) touches, and around them. */
static void sample_range(struct run *r, uint64_t ia, uint64_t size)
{
	sample(r, ia);
	sample(r, ia + r->g);
	sample(r, ia - r->g);
	sample(r, ia + size - r->g);
	sample(r, ia + size);
	for (unsigned i = 0; i < 12; i++)
		sample(r, ia + rnd(r, size));
}

/* One address: the model TLB must translate it as vpte_seek does. */
static void check_addr(struct run *r, uint64_t ia)
{
	struct vpte_walk w;
	struct tlb_leaf l;
	bool stale;
	int err = vpte_seek(&w, &r->t, vpte_va(ia_to_va(r, ia)));
	bool leaf = tlb_translate(&r->tlb, ia, &l, &stale);
	r->samples_checked++;
	if (err || (w.kind == VPTE_LEAF) != leaf || stale ||
	    (leaf && (l.pa + (ia - l.ia) != w.pa.addr + (ia - (w.va.addr & ia_mask(r->f))) ||
		      memcmp(&l.prot, &w.prot, sizeof(l.prot))))) {
		fprintf(stderr,
			"test_gather: %s: %s\n  va 0x%" PRIx64 ": seek %d kind %d pa 0x%" PRIx64
			" flags 0x%x; model TLB %s pa 0x%" PRIx64 " flags 0x%x (entry 0x%" PRIx64
			" shift %u)%s\n",
			r->f->name, r->op, ia_to_va(r, ia), err, w.kind,
			w.pa.addr + (ia - (w.va.addr & ia_mask(r->f))), w.prot.flags,
			leaf ? "leaf" : "hole", l.pa + (ia - l.ia), l.prot.flags, ia_to_va(r, l.ia),
			l.shift, stale ? ", and a stale entry" : "");
		test_failures++;
	}
}

static void describe_op(struct run *r, const char *what, uint64_t ia, uint64_t size,
			unsigned shift)
{
	size_t n = strlen(r->op);
	snprintf(r->op + n, sizeof(r->op) - n, "%s%s va 0x%" PRIx64 " size 0x%" PRIx64 " shift %u",
		 n ? "; " : "", what, ia_to_va(r, ia), size, shift);
}

/* A random edit of [ia, ia + size) under @g; returns its error. */
static int edit(struct run *r, struct vpte_gather *g, uint64_t ia, uint64_t size)
{
	static const uint32_t toggles[] = { VPTE_W, VPTE_D, VPTE_G, VPTE_A };
	vpte_va_t va = vpte_va(ia_to_va(r, ia));
	unsigned kind = (unsigned)rnd(r, 6), shift = rnd_shift(r);
	struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 }, none = { 0, 0, 0 };
	r->ops[kind]++;
	switch (kind) {
	case 0:
	case 1: { /* map; insert: what is there and matches stays */
		unsigned k = ia >= r->window[r->nwindows - 1] ? r->nwindows - 1 : 0;
		uint64_t pa = r->pa_base + k * r->window_size + (ia - r->window[k]);
		struct vpte_map_opts opts = { rnd(r, 2) ? shift : 0, kind ? VPTE_MAP_INSERT : 0u };
		if (!rnd(r, 4)) { /* misaligned: small leaves, so keep it short */
			pa += r->g;
			size = size < 64 * r->g ? size : 64 * r->g;
		}
		describe_op(r, kind ? "insert" : "map", ia, size, opts.max_shift);
		int err = vpte_map(&r->t, va, vpte_pa(pa), size, rw, &opts);
		return err == -VPTE_EEXIST ? 0 : err;
	}
	case 2:
		describe_op(r, "unmap", ia, size, 0);
		return vpte_unmap(&r->t, va, size, g);
	case 3: {
		struct vpte_prot flip = { toggles[rnd(r, 4)], 0, 0 };
		describe_op(r, "protect", ia, size, flip.flags);
		return rnd(r, 2) ? vpte_protect(&r->t, va, size, flip, none, g)
				 : vpte_protect(&r->t, va, size, none, flip, g);
	}
	case 4:
		while ((size >> shift) > 1024)
			shift++;
		describe_op(r, "split", ia, size, shift);
		return vpte_split(&r->t, va, size, shift, g);
	default:
		describe_op(r, "collapse", ia, size, shift);
		return vpte_collapse(&r->t, va, size, rnd(r, 2) ? shift : 0, g);
	}
}

static void step(struct run *r)
{
	uint64_t ia[2], size[2];
	unsigned n = 1 + (rnd(r, 4) == 0); /* sometimes two edits under one gather */
	struct vpte_gather g;
	r->nsamples = 0;
	if (r->leaves > LEAF_BUDGET) { /* clean up: one window goes */
		n = 1;
		ia[0] = r->window[rnd(r, r->nwindows)];
		size[0] = r->window_size;
	} else {
		for (unsigned i = 0; i < n; i++)
			gen_range(r, &ia[i], &size[i]);
	}
	for (unsigned i = 0; i < n; i++)
		sample_range(r, ia[i], size[i]);
	while (r->nsamples < SAMPLES) {
		uint64_t base = r->window[rnd(r, r->nwindows)];
		sample(r, base + rnd(r, r->window_size));
	}
	/* Warm the TLB on what the edits touch: a check of the last step's
	 * gather too (r->op still names its edits). */
	current_op = "(before the edit)";
	for (unsigned i = 0; i < r->nsamples; i++)
		check_addr(r, r->samples[i]);
	r->op[0] = '\0';

	vpte_gather_init(&g, &r->t, tlb_invalidate, &r->tlb);
	r->mem.pending = &g;
	current_op = r->op;
	for (unsigned i = 0; i < n; i++) {
		int err = r->leaves > LEAF_BUDGET ? vpte_unmap(&r->t, vpte_va(ia_to_va(r, ia[i])),
							     size[i], &g)
						  : edit(r, &g, ia[i], size[i]);
		if (err)
			fprintf(stderr, "test_gather: %s: %s: %s\n", r->f->name, r->op,
				vpte_strerror(err)),
				test_failures++;
		/* Gathered pages are dead to everyone until the gather is done. */
		for (unsigned k = 0; k < g.nr_pages; k++)
			memset((void *)(uintptr_t)g.pages[k].addr, 0x5a, r->g);
	}
	r->edits_shared += n > 1;
	vpte_gather_finish(&g);
	r->mem.pending = NULL;
	for (unsigned i = 0; i < r->nsamples; i++)
		check_addr(r, r->samples[i]);
	struct vpte_stats st;
	CHECK_EQ(vpte_stats_table(&r->t, &st), 0);
	r->leaves = st.tlb_entries;
}

static void run_format(const struct vpte_format *f, uint64_t seed, unsigned long steps)
{
	struct run *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	unsigned failed = test_failures;
	r->f = f;
	r->g = 1ull << f->granule_shift;
	r->space = 1ull << f->va_bits;
	r->half = f->sign_extend ? r->space / 2 : r->space;
	r->nshifts = test_piece_shifts(f, r->shifts);
	r->rng = seed;
	for (const char *s = f->name; *s; s++)
		r->rng = (r->rng ^ (uint8_t)*s) * 1099511628211ull;
	/* Room for a few of the largest leaves below the top (1 GiB on 4 KiB
	 * granules), in the lower half and at the start of the upper one. */
	unsigned top = vpte_top_level(f), big = shift_of(f, top < 2 ? top : 2);
	r->window_size = 4ull << big;
	r->window[0] = r->window_size;
	r->nwindows = 1;
	if (f->sign_extend)
		r->window[r->nwindows++] = r->half;
	r->pa_base = 1ull << (f->pa_bits - 4);
	r->mem.size = r->g;
	r->mem.keys = calloc(REGISTRY, sizeof(uint64_t));
	r->mem.state = calloc(REGISTRY, 1);
	if (!r->mem.keys || !r->mem.state)
		abort();
	struct vpte_mem mem = { &gmem_ops, &r->mem, NULL };
	CHECK_EQ(vpte_table_init(&r->t, f, mem), 0);
	r->tlb.f = f;
	r->tlb.c = codec_of(f);
	r->tlb.t = &r->t;
	r->tlb.rng = r->rng;
	r->mem.cached = tlb_holds_table;
	r->mem.tlb = &r->tlb;

	for (unsigned long i = 0; i < steps && test_failures == failed; i++)
		step(r);
	current_op = "(teardown)";
	r->tlb.nleaves = r->tlb.nwalks = 0; /* the caller's full flush before the table goes */
	CHECK_EQ(vpte_table_destroy(&r->t), 0);
	CHECK_EQ(r->mem.live, 0);
	printf("  %-13s map %lu insert %lu unmap %lu protect %lu split %lu collapse %lu (%lu"
	       " gathers of two); %lu addresses checked, TLB hits %lu, walks from its cache %lu,"
	       " entries invalidated %lu%s\n",
	       f->name, r->ops[0], r->ops[1], r->ops[2], r->ops[3], r->ops[4], r->ops[5],
	       r->edits_shared, r->samples_checked, r->tlb.hits, r->tlb.walks_from_cache,
	       r->tlb.invalidated, test_failures != failed ? " FAILED" : "");
	gmem_release(&r->mem);
	free(r);
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
	printf("test_gather: seed 0x%" PRIx64 ", %lu steps per format\n", seed, steps);
	for (size_t i = 0; i < count; i++)
		if (test_picked(&pick, i, formats[i]))
			run_format(formats[i], seed, steps);
	return test_summary("test_gather");
}
