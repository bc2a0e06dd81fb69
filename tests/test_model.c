/* SPDX-License-Identifier: MIT */
/*
 * test_model.c - model-based random test of vpte_map, vpte_unmap,
 * vpte_protect, vpte_split and vpte_collapse, every format variant.
 *
 * A reference model, a sorted list of non-overlapping extents ("page p
 * maps to pa + (p - start) with prot"), is edited alongside the table by
 * random operations of mixed sizes and alignments.  After every step the
 * table must agree with it:
 *   (a) iterating every leaf of both halves covers exactly the model's
 *       pages, with the model's PAs and attributes;
 *   (b) vpte_seek at sampled addresses (mapped, holes, leaf edges) agrees;
 *   (c) the table holds exactly the table pages its leaves need: a table
 *       at level L is needed iff a leaf of level <= L lies in its span;
 *   (d) a map into an empty region uses the largest leaves that VA and PA
 *       alignment, the format's leaf levels, its contiguous runs and
 *       max_shift allow (also checked by a deterministic sub-test);
 *   (e) after a protect no leaf crosses the range's ends; after a split no
 *       leaf meeting the range is larger than the shift; after a collapse
 *       every leaf wholly inside the range is as large as it can be (the
 *       next larger piece holding it is too large, leaves the range, or is
 *       not mapped contiguously alike), with its parts' dirty flags ORed;
 *   (f) the gather, when one is passed, invalidated what changed;
 *   (g) a leaf observer attached to every table, counting leaves and bytes
 *       from its hooks alone (install, remove, split, merge), counts the
 *       leaves the table has and the bytes they map.
 * Each random run is made twice, the second time on a table whose entries
 * only vpte writes (VPTE_TABLE_NO_HW_UPDATES: plain stores where the first
 * uses compare-and-swap), which must pass all of the above alike.
 * Failing operations must fail as the model predicts and change nothing.
 *
 * The model works in index addresses ("ia": the VA with the bits above
 * va_bits dropped), so both halves of a sign-extended space form one
 * ordered range [0, 2^va_bits) and sums cannot overflow.
 *
 * usage: test_model [--seed N] [--steps N] [--format NAME | --shard K/N]
 */
#include <stdarg.h>
#include <stdbool.h>

#include "testlib.h"

#define DEFAULT_SEED 0x5eed2024ull
#define DEFAULT_STEPS 4000
#define MAP_PAGES_MAX 96 /* pages of one map_pages() run */
#define LEAF_BUDGET 2500   /* more leaves than this: the next step cleans up */
#define FRESH_MAX_LEAVES 4096
#define MAP_MAX_LEAVES 1500 /* random maps that would need more are not tried */
#define MAX_REPORTS 12

/* ------------------------------------------------------------------------
 * The model
 * ------------------------------------------------------------------------ */
struct ext {
	uint64_t ia, size, pa;
	struct vpte_prot prot;
};

struct model {
	struct ext *v;
	size_t n, cap;
	uint64_t bytes; /* sum of sizes */
};

static uint64_t ext_end(const struct ext *e)
{
	return e->ia + e->size;
}

/* Index of the first extent that ends after @ia. */
static size_t model_first(const struct model *m, uint64_t ia)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ext_end(&m->v[mid]) <= ia)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool model_lookup(const struct model *m, uint64_t ia, const struct ext **e)
{
	size_t i = model_first(m, ia);
	if (i < m->n && m->v[i].ia <= ia) {
		*e = &m->v[i];
		return true;
	}
	return false;
}

/* Is anything mapped in [ia, ia + size)? */
static bool model_any(const struct model *m, uint64_t ia, uint64_t size)
{
	size_t i = model_first(m, ia);
	return i < m->n && m->v[i].ia < ia + size;
}

static void model_insert_at(struct model *m, size_t i, struct ext e)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		if (!m->v)
			abort();
	}
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = e;
	m->n++;
}

static void model_erase_at(struct model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
}

static bool prot_same(struct vpte_prot a, struct vpte_prot b, uint32_t ignore)
{
	return !((a.flags ^ b.flags) & ~ignore) && a.memtype == b.memtype && a.raw == b.raw;
}

/* Remove [ia, ia + size), splitting extents at the edges. */
static void model_remove(struct model *m, uint64_t ia, uint64_t size)
{
	uint64_t end = ia + size;
	size_t i = model_first(m, ia);
	while (i < m->n && m->v[i].ia < end) {
		struct ext *e = &m->v[i];
		uint64_t eend = ext_end(e);
		if (e->ia < ia) {
			if (eend > end) {
				struct ext tail = *e;
				tail.ia = end;
				tail.pa = e->pa + (end - e->ia);
				tail.size = eend - end;
				e->size = ia - e->ia;
				m->bytes -= size;
				model_insert_at(m, i + 1, tail);
				return;
			}
			m->bytes -= eend - ia;
			e->size = ia - e->ia;
			i++;
		} else if (eend > end) {
			m->bytes -= end - e->ia;
			e->pa += end - e->ia;
			e->size = eend - end;
			e->ia = end;
			return;
		} else {
			m->bytes -= e->size;
			model_erase_at(m, i);
		}
	}
}

static bool ext_joins(const struct ext *a, uint64_t ia, uint64_t pa, struct vpte_prot prot)
{
	return ext_end(a) == ia && a->pa + a->size == pa && prot_same(a->prot, prot, 0);
}

/* Add [ia, ia + size) -> pa; the range must be empty.  Neighbours that
 * continue it are merged, which keeps the model small. */
static void model_add(struct model *m, uint64_t ia, uint64_t size, uint64_t pa,
		      struct vpte_prot prot)
{
	size_t i = model_first(m, ia);
	m->bytes += size;
	if (i > 0 && ext_joins(&m->v[i - 1], ia, pa, prot)) {
		struct ext *prev = &m->v[i - 1];
		prev->size += size;
		if (i < m->n && ext_joins(prev, m->v[i].ia, m->v[i].pa, m->v[i].prot)) {
			prev->size += m->v[i].size;
			model_erase_at(m, i);
		}
		return;
	}
	struct ext e = { ia, size, pa, prot };
	if (i < m->n && ext_joins(&e, m->v[i].ia, m->v[i].pa, m->v[i].prot)) {
		m->v[i].ia = ia;
		m->v[i].pa = pa;
		m->v[i].size += size;
		return;
	}
	model_insert_at(m, i, e);
}

/*
 * The result vpte_map must give for this request: non-insert, anything
 * mapped in the range conflicts; insert, only pages that map another PA
 * or other attributes (accessed and dirty are the hardware's, not the
 * caller's) conflict.
 */
static int model_map_expect(const struct model *m, uint64_t ia, uint64_t size, uint64_t pa,
			    struct vpte_prot prot, bool insert)
{
	for (size_t i = model_first(m, ia); i < m->n && m->v[i].ia < ia + size; i++) {
		const struct ext *e = &m->v[i];
		if (!insert || e->pa - e->ia != pa - ia || !prot_same(e->prot, prot, VPTE_A | VPTE_D))
			return -VPTE_EEXIST;
	}
	return 0;
}

/* Apply a successful map: fill the holes of the range. */
static void model_map(struct model *m, uint64_t ia, uint64_t size, uint64_t pa,
		      struct vpte_prot prot)
{
	uint64_t pos = ia, end = ia + size;
	prot.flags |= VPTE_A; /* as vpte_map does */
	while (pos < end) {
		size_t i = model_first(m, pos);
		uint64_t stop = end;
		if (i < m->n && m->v[i].ia <= pos) {
			pos = ext_end(&m->v[i]);
			continue;
		}
		if (i < m->n && m->v[i].ia < end)
			stop = m->v[i].ia;
		model_add(m, pos, stop - pos, pa + (pos - ia), prot);
		pos = stop;
	}
}

/* ------------------------------------------------------------------------
 * One format's run
 * ------------------------------------------------------------------------ */
struct leaf_ref {
	uint64_t ia, size;
};

struct run {
	const struct vpte_format *f;
	unsigned top, gshift;
	uint64_t gran;
	uint64_t space; /* 2^va_bits: the index-address range */
	uint64_t half;  /* where the upper half starts (space without sign extension) */
	bool exec_only; /* the format can map X without R (RISC-V) */
	unsigned nshifts;
	unsigned shifts[2 * VPTE_MAX_LEVELS]; /* leaf and run shifts, ascending */

	struct test_mem mem;
	struct vpte_table t;
	struct model m;
	uint64_t seed, rng;
	unsigned long step;
	char op[256];
	unsigned reports;
	bool failed;
	bool fresh; /* the deterministic fresh-map sub-test, not the random run */
	bool no_hw; /* the table is VPTE_TABLE_NO_HW_UPDATES (plain stores) */
	bool plain; /* no observer and a direct window: single-page maps take
		     * the short path and its leaf-table hint (map_page()) */

	uint64_t leaves; /* leaves at the last check */
	struct vpte_observer hooks; /* (g) */
	uint64_t observed_leaves, observed_bytes;
	struct leaf_ref edges[32];
	unsigned nedges;

	/* coverage: outcomes per kind, leaf shifts seen */
	unsigned long maps_ok, maps_eexist, fresh_checked, unmaps, unmap_splits;
	unsigned long protects, protects_einval, splits, split_tables, collapses, collapsed;
	uint64_t shifts_seen;

	/* union of what the gather reported (invalidate callback) */
	bool inval_any;
	uint64_t inval_start, inval_last;

	/* copies: two target tables (the same format, another one), each a run
	 * of its own whose failures name the @owner run */
	struct run *targets[2], *owner;
	unsigned long copies, copies_refused, harvests;
};

static uint64_t mask_of(unsigned shift)
{
	return shift >= 64 ? ~0ull : (1ull << shift) - 1;
}

static uint64_t rnd(struct run *r, uint64_t n)
{
	return n ? test_rand(&r->rng) % n : 0;
}

/* A random leaf or run shift of the format. */
static unsigned rnd_shift(struct run *r)
{
	return r->shifts[rnd(r, r->nshifts)];
}

static uint64_t ia_to_va(const struct run *r, uint64_t ia)
{
	return ia >= r->half && r->f->sign_extend ? ia | ~(r->space - 1) : ia;
}

static uint64_t va_to_ia(const struct run *r, uint64_t va)
{
	return va & (r->space - 1);
}

static void fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct run *r, const char *fmt, ...)
{
	const struct run *o = r->owner ? r->owner : r; /* whose steps reproduce it */
	test_failures++;
	if (!r->failed && r->fresh)
		fprintf(stderr,
			"test_model: FAILED deterministic case %lu, format=%s\n  op: %s\n"
			"  reproduce: test_model --format %s\n",
			r->step, r->f->name, r->op, r->f->name);
	else if (!r->failed)
		fprintf(stderr,
			"test_model: FAILED seed=0x%" PRIx64 " format=%s step=%lu\n"
			"  op: %s\n  reproduce: test_model --seed 0x%" PRIx64
			" --format %s --steps %lu\n",
			o->seed, o->f->name, o->step, r->op, o->seed, o->f->name, o->step + 1);
	r->failed = true;
	if (r->reports++ >= MAX_REPORTS)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("  ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void run_setup(struct run *r, const struct vpte_format *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->top = vpte_top_level(f);
	r->gshift = f->granule_shift;
	r->gran = 1ull << f->granule_shift;
	r->space = 1ull << f->va_bits;
	r->half = f->sign_extend ? r->space / 2 : r->space;
	r->exec_only = strncmp(f->name, "riscv", 5) == 0;
	r->nshifts = test_piece_shifts(f, r->shifts);
}

/* (g): what the observer hooks say, counted. */
static void observe_install(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift)
{
	struct run *r = ctx;
	(void)va, (void)pa;
	r->observed_leaves++;
	r->observed_bytes += 1ull << shift;
}

static void observe_remove(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift)
{
	struct run *r = ctx;
	(void)va, (void)pa;
	r->observed_leaves--;
	r->observed_bytes -= 1ull << shift;
}

static void observe_split(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift, unsigned new_shift)
{
	struct run *r = ctx;
	(void)va, (void)pa;
	r->observed_leaves += (1ull << (shift - new_shift)) - 1;
}

static void observe_merge(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift, uint64_t parts)
{
	struct run *r = ctx;
	(void)va, (void)pa, (void)shift;
	r->observed_leaves -= parts - 1;
}

static int table_open(struct run *r)
{
	memset(&r->mem, 0, sizeof(r->mem));
	struct vpte_mem mem = r->plain ? test_mem_direct(&r->mem) : test_mem(&r->mem);
	int err = vpte_table_init(&r->t, r->f, mem);
	r->hooks = (struct vpte_observer){ observe_install, observe_remove, observe_split,
					   observe_merge, r };
	r->observed_leaves = r->observed_bytes = 0;
	if (!err) {
		if (!r->plain)
			vpte_table_set_observer(&r->t, &r->hooks);
		vpte_table_set_hw_updates(&r->t, !r->no_hw);
	}
	return err;
}

static void table_close(struct run *r)
{
	int err = vpte_table_destroy(&r->t);
	if (err)
		fail(r, "vpte_table_destroy: %s", vpte_strerror(err));
	if (r->mem.live)
		fail(r, "%" PRIu64 " table pages live after destroy", r->mem.live);
}

/* The leaf a fresh map must use at @ia: the largest leaf or run shift that
 * max_shift allows, VA and PA are aligned to, and the range still holds. */
static unsigned best_shift(const struct run *r, uint64_t ia, uint64_t pa, uint64_t left,
			   unsigned max_shift)
{
	for (unsigned i = r->nshifts; i-- > 1;) {
		unsigned s = r->shifts[i];
		if (s <= max_shift && !((ia | pa) & mask_of(s)) && left >= (1ull << s))
			return s;
	}
	return r->gshift;
}

/* How many leaves the largest-leaf rule gives; stops counting past @limit. */
static uint64_t best_count(const struct run *r, uint64_t ia, uint64_t size, uint64_t pa,
			   unsigned max_shift, uint64_t limit)
{
	uint64_t n = 0;
	for (uint64_t pos = ia; pos < ia + size && n <= limit; n++)
		pos += 1ull << best_shift(r, pos, pa + (pos - ia), ia + size - pos, max_shift);
	return n;
}

/* The shift a leaf at @level reports. */
static unsigned expect_leaf_shift(const struct run *r, const struct vpte_walk *w)
{
	return vpte_level_shift(r->f, w->level) + (w->cont ? r->f->cont_bits[w->level] : 0u);
}

/*
 * (d): the leaves in [ia, ia + size), just mapped into an empty region,
 * are exactly those of the largest-leaf rule, each mapping its own part.
 */
static void check_fresh_leaves(struct run *r, uint64_t ia, uint64_t size, uint64_t pa,
			       unsigned max_shift)
{
	uint64_t pos = ia, end = ia + size;
	struct vpte_walk w;
	vpte_for_each_leaf(&w, &r->t, vpte_va(ia_to_va(r, ia)), size)
	{
		unsigned want = pos < end ? best_shift(r, pos, pa + (pos - ia), end - pos, max_shift)
					  : 0;
		uint64_t wia = va_to_ia(r, w.va.addr);
		if (pos >= end || wia != pos || w.shift != want) {
			fail(r, "fresh map: leaf at ia 0x%" PRIx64 " shift %u, expected ia 0x%" PRIx64
				" shift %u (max_shift %u)",
			     wia, w.shift, pos, want, max_shift);
			return;
		}
		if (w.pa.addr != pa + (pos - ia)) {
			fail(r, "fresh map: leaf at ia 0x%" PRIx64 " maps pa 0x%" PRIx64
				", expected 0x%" PRIx64,
			     wia, w.pa.addr, pa + (pos - ia));
			return;
		}
		pos += 1ull << w.shift;
	}
	if (w.error)
		fail(r, "fresh map: iteration: %s", vpte_strerror(w.error));
	else if (pos != end)
		fail(r, "fresh map: leaves end at ia 0x%" PRIx64 ", range at 0x%" PRIx64, pos, end);
}

/* (a) and (c): every leaf against the model; table pages against need. */
static void check_table(struct run *r)
{
	const struct model *m = &r->m;
	vpte_va_t start[2];
	uint64_t size[2];
	unsigned halves = vpte_va_space(r->f, start, size);
	uint64_t mapped = 0, needed = 0, tables = 0, prev_end = 0;
	uint64_t last_key[VPTE_MAX_LEVELS];
	bool have_key[VPTE_MAX_LEVELS] = { false };
	size_t j = 0;

	r->leaves = 0;
	r->nedges = 0;
	for (unsigned h = 0; h < halves; h++) {
		struct vpte_walk w;
		vpte_for_each_leaf(&w, &r->t, start[h], size[h])
		{
			uint64_t ia = va_to_ia(r, w.va.addr), len = 1ull << w.shift;
			uint64_t pos = ia, end = ia + len;
			r->leaves++;
			r->shifts_seen |= 1ull << w.shift;
			if (w.kind != VPTE_LEAF || !(r->f->leaf_levels & (1u << w.level)) ||
			    (w.cont && !r->f->cont_bits[w.level]) || w.shift != expect_leaf_shift(r, &w) ||
			    ((ia | w.pa.addr) & (len - 1)) || ia < prev_end) {
				fail(r, "leaf at ia 0x%" PRIx64 ": kind %d level %u shift %u cont %d pa 0x%" PRIx64
					" malformed or out of order",
				     ia, w.kind, w.level, w.shift, w.cont, w.pa.addr);
				return;
			}
			prev_end = end;
			/* Every page of the leaf is in the model with its PA and prot. */
			while (j < m->n && ext_end(&m->v[j]) <= pos)
				j++;
			while (pos < end) {
				const struct ext *e = &m->v[j];
				if (j >= m->n || e->ia > pos) {
					fail(r, "leaf 0x%" PRIx64 "+2^%u maps ia 0x%" PRIx64
						" that the model does not",
					     ia, w.shift, pos);
					return;
				}
				if (e->pa + (pos - e->ia) != w.pa.addr + (pos - ia) ||
				    !prot_same(w.prot, e->prot, VPTE_A)) {
					fail(r, "leaf 0x%" PRIx64 "+2^%u: ia 0x%" PRIx64 " -> pa 0x%" PRIx64
						" flags 0x%x mt %u raw 0x%" PRIx64 "; model pa 0x%" PRIx64
						" flags 0x%x mt %u raw 0x%" PRIx64,
					     ia, w.shift, pos, w.pa.addr + (pos - ia), w.prot.flags,
					     w.prot.memtype, w.prot.raw, e->pa + (pos - e->ia),
					     e->prot.flags, e->prot.memtype, e->prot.raw);
					return;
				}
				pos = ext_end(e) < end ? ext_end(e) : end;
				if (pos == ext_end(e))
					j++;
			}
			mapped += len;
			/* The tables this leaf needs: one per level from its own up
			 * to below the top.  Leaves come in address order, so a
			 * table's leaves are consecutive. */
			for (unsigned l = w.level; l < r->top; l++) {
				uint64_t key = ia >> vpte_level_shift(r->f, l + 1);
				if (!have_key[l] || last_key[l] != key) {
					have_key[l] = true;
					last_key[l] = key;
					needed++;
				}
			}
			/* Remember some leaves whose edges the seeks will probe. */
			unsigned slot = r->nedges < 32 ? r->nedges++ : (unsigned)rnd(r, r->leaves);
			if (slot < 32)
				r->edges[slot] = (struct leaf_ref){ ia, len };
		}
		if (w.error) {
			fail(r, "leaf iteration: %s", vpte_strerror(w.error));
			return;
		}
		vpte_for_each_entry(&w, &r->t, start[h], size[h], VPTE_ITER_TABLES)
			tables += w.kind == VPTE_TABLE;
		if (w.error) {
			fail(r, "table iteration: %s", vpte_strerror(w.error));
			return;
		}
	}
	if (mapped != m->bytes)
		fail(r, "leaves map 0x%" PRIx64 " bytes, the model 0x%" PRIx64, mapped, m->bytes);
	if (!r->plain && (r->observed_leaves != r->leaves || r->observed_bytes != mapped))
		fail(r, "the observer counts %" PRIu64 " leaves mapping 0x%" PRIx64 " bytes; the table"
			" has %" PRIu64 " mapping 0x%" PRIx64, r->observed_leaves, r->observed_bytes,
		     r->leaves, mapped);
	if (r->mem.live != 1 + needed || r->mem.live != 1 + tables)
		fail(r, "%" PRIu64 " table pages live; the leaves need 1 + %" PRIu64
			", table entries say 1 + %" PRIu64,
		     r->mem.live, needed, tables);
}

/* (b): seek one address and compare with the model. */
static void seek_one(struct run *r, uint64_t ia)
{
	struct vpte_walk w;
	const struct ext *e;
	int err = vpte_seek(&w, &r->t, vpte_va(ia_to_va(r, ia)));
	if (err) {
		fail(r, "seek ia 0x%" PRIx64 ": %s", ia, vpte_strerror(err));
		return;
	}
	uint64_t wia = va_to_ia(r, w.va.addr), len = 1ull << w.shift;
	if (wia > ia || ia - wia >= len || ia_to_va(r, wia) != w.va.addr) {
		fail(r, "seek ia 0x%" PRIx64 ": entry at va 0x%" PRIx64 " shift %u does not cover it",
		     ia, w.va.addr, w.shift);
		return;
	}
	if (model_lookup(&r->m, ia, &e)) {
		if (w.kind != VPTE_LEAF || w.shift != expect_leaf_shift(r, &w) ||
		    w.pa.addr + (ia - wia) != e->pa + (ia - e->ia) ||
		    !prot_same(w.prot, e->prot, VPTE_A))
			fail(r, "seek ia 0x%" PRIx64 ": kind %d pa 0x%" PRIx64 " flags 0x%x, model pa 0x%" PRIx64
				" flags 0x%x",
			     ia, w.kind, w.pa.addr + (ia - wia), w.prot.flags, e->pa + (ia - e->ia),
			     e->prot.flags);
	} else if (w.kind != VPTE_HOLE || w.shift != vpte_level_shift(r->f, w.level) ||
		   model_any(&r->m, wia, len)) {
		fail(r, "seek ia 0x%" PRIx64 ": kind %d level %u shift %u, but the model has a hole", ia,
		     w.kind, w.level, w.shift);
	}
}

static void check_seeks(struct run *r)
{
	for (unsigned k = 0; k < 12; k++) {
		uint64_t ia = 0;
		switch (k % 4) {
		case 0: /* mapped, if anything is */
			if (r->m.n) {
				const struct ext *e = &r->m.v[rnd(r, r->m.n)];
				ia = e->ia + (rnd(r, e->size >> r->gshift) << r->gshift);
				break;
			}
			/* fall through */
		case 1: /* near the edges of some leaf */
			if (r->nedges) {
				const struct leaf_ref *l = &r->edges[rnd(r, r->nedges)];
				switch (rnd(r, 4)) {
				case 0: ia = l->ia; break;
				case 1: ia = l->ia + l->size - r->gran; break;
				case 2: ia = l->ia - r->gran; break;
				default: ia = l->ia + l->size; break;
				}
				ia &= r->space - 1;
				break;
			}
			/* fall through */
		case 2: { /* near the places operations use */
			ia = rnd(r, 2) ? r->half : r->space;
			unsigned shift = rnd_shift(r);
			ia -= rnd(r, 64) << shift;
			ia &= r->space - 1;
			break;
		}
		default:
			ia = rnd(r, r->space);
			break;
		}
		seek_one(r, (ia & ~(r->gran - 1)) | rnd(r, r->gran));
	}
}

/* ------------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------------ */
static struct vpte_prot gen_prot(struct run *r)
{
	static const uint32_t extra[] = { VPTE_W, VPTE_X, VPTE_U, VPTE_G, VPTE_D, VPTE_SPECIAL };
	struct vpte_prot p = { VPTE_R, (uint32_t)rnd(r, 3), 0 };
	p.raw = test_rand(&r->rng) & r->f->raw_mask;
	for (unsigned i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (rnd(r, 2))
			p.flags |= extra[i];
	if (r->exec_only && !rnd(r, 8))
		p.flags = (p.flags & ~(VPTE_R | VPTE_W)) | VPTE_X;
	return p;
}

/* A few granules and a few pieces of a shift below @shift. */
static int64_t ragged(struct run *r, unsigned shift)
{
	int64_t off = (int64_t)(rnd(r, 8) << r->gshift);
	unsigned below = 0;
	while (below < r->nshifts && r->shifts[below] < shift)
		below++;
	if (below) {
		unsigned s = r->shifts[rnd(r, below)];
		off += (int64_t)(rnd(r, 3) << s);
	}
	return rnd(r, 2) ? off : -off;
}

/*
 * A range near one of the interesting places of the space: the start,
 * middle or end of a half (the end of the upper half is the last page of
 * the space).  Its middle is whole pieces of 2^*shift, its ends ragged.
 */
static bool gen_range(struct run *r, uint64_t *ia, uint64_t *size, unsigned *shift)
{
	unsigned s = rnd_shift(r);
	int64_t unit = (int64_t)1 << s, lo = 0, hi = (int64_t)r->half;
	if (r->f->sign_extend && rnd(r, 2)) {
		lo = (int64_t)r->half;
		hi = (int64_t)r->space;
	}
	int64_t n = 1 + (int64_t)rnd(r, 3), k = (int64_t)rnd(r, 4), start;
	switch (rnd(r, 3)) {
	case 0: start = lo + k * unit; break;
	case 1: start = lo + (hi - lo) / 2 + (k - 2) * unit; break;
	default: start = hi - (k + n) * unit; break;
	}
	int64_t end = start + n * unit;
	if (rnd(r, 2))
		start += ragged(r, s);
	if (rnd(r, 2))
		end += ragged(r, s);
	if (start < lo || end > hi || start >= end)
		return false;
	*ia = (uint64_t)start;
	*size = (uint64_t)(end - start);
	*shift = s;
	return true;
}

/* A PA for [ia, ia + size): congruent to ia modulo 2^shift, so the largest
 * leaves fit; sometimes only modulo a smaller shift (misaligned PA). */
static bool gen_pa(struct run *r, uint64_t ia, uint64_t size, unsigned shift, uint64_t *pa)
{
	uint64_t pa_space = 1ull << r->f->pa_bits;
	if (size > pa_space / 2)
		return false;
	uint64_t slots = (pa_space - size) >> shift;
	if (slots < 3)
		return false;
	*pa = (rnd(r, slots - 2) << shift) + (ia & mask_of(shift));
	if (!rnd(r, 4)) {
		unsigned s = rnd_shift(r);
		*pa += (1 + rnd(r, 3)) << (s < shift ? s : r->gshift);
	}
	return true;
}

static unsigned gen_max_shift(struct run *r)
{
	switch (rnd(r, 6)) {
	case 0: return r->gshift + (unsigned)rnd(r, 64 - r->gshift);
	case 1: return rnd_shift(r);
	case 2: return rnd_shift(r) + 1;
	case 3: { /* just below a piece size */
		unsigned s = rnd_shift(r);
		return s > r->gshift ? s - 1 : s;
	}
	default: return 0;
	}
}

static void op_describe(struct run *r, const char *what, uint64_t ia, uint64_t size, uint64_t pa,
			struct vpte_prot prot, unsigned max_shift, unsigned flags)
{
	snprintf(r->op, sizeof(r->op),
		 "%s va 0x%" PRIx64 " size 0x%" PRIx64 " pa 0x%" PRIx64
		 " prot {0x%x, %u, 0x%" PRIx64 "} max_shift %u flags 0x%x",
		 what, ia_to_va(r, ia), size, pa, prot.flags, prot.memtype, prot.raw, max_shift, flags);
}

/*
 * A digest of every leaf and table entry (values, levels, places).  Holes
 * are what is left, so equal digests mean equal tables; unlike a
 * snapshot_take() of every hole this costs what the mapping holds, which
 * matters for 64 KiB granules (8192 entries a table).
 */
static uint64_t table_digest(const struct run *r)
{
	vpte_va_t start[2];
	uint64_t size[2], h = 0x243f6a8885a308d3ull;
	unsigned halves = vpte_va_space(r->f, start, size);
	for (unsigned i = 0; i < halves; i++) {
		struct vpte_walk w;
		vpte_for_each_entry(&w, &r->t, start[i], size[i], VPTE_ITER_TABLES)
		{
			uint64_t x[4] = { w.va.addr, w.entry, w.kind, (uint64_t)w.level << 8 | w.shift };
			for (unsigned k = 0; k < 4; k++) {
				h ^= x[k];
				h *= 0x9e3779b97f4a7c15ull;
				h ^= h >> 29;
			}
		}
		h ^= (uint64_t)w.error;
	}
	return h;
}

static void do_map(struct run *r, const char *what, uint64_t ia, uint64_t size, uint64_t pa,
		   struct vpte_prot prot, unsigned max_shift, bool insert)
{
	struct vpte_map_opts opts = { max_shift, insert ? VPTE_MAP_INSERT : 0u };
	bool use_opts = insert || max_shift || rnd(r, 2);
	int want = model_map_expect(&r->m, ia, size, pa, prot, insert);
	bool fresh = !model_any(&r->m, ia, size);
	/* A failed map changes nothing; nor does an insert of pages that one
	 * extent maps already. */
	const struct ext *e;
	bool unchanged = want || (insert && model_lookup(&r->m, ia, &e) && ext_end(e) >= ia + size);
	uint64_t live = r->mem.live, before = 0;

	if (best_count(r, ia, size, pa, max_shift ? max_shift : 63, MAP_MAX_LEAVES) > MAP_MAX_LEAVES)
		return;
	op_describe(r, what, ia, size, pa, prot, max_shift, opts.flags);
	if (unchanged)
		before = table_digest(r);
	int err = vpte_map(&r->t, vpte_va(ia_to_va(r, ia)), vpte_pa(pa), size, prot,
			   use_opts ? &opts : NULL);
	if (err != want)
		fail(r, "vpte_map returned %d (%s), the model expects %d", err, vpte_strerror(err),
		     want);
	if (!err && !want)
		model_map(&r->m, ia, size, pa, prot);
	r->maps_ok += !err;
	r->maps_eexist += err == -VPTE_EEXIST;
	r->fresh_checked += !err && fresh;
	if (unchanged && (table_digest(r) != before || r->mem.live != live))
		fail(r, "the map changed the table (live pages %" PRIu64 " -> %" PRIu64 ")", live,
		     r->mem.live);
	if (!err && fresh)
		check_fresh_leaves(r, ia, size, pa, max_shift ? max_shift : 63);
}

static void gather_note(void *ctx, const struct vpte_gather *g)
{
	struct run *r = ctx;
	if (!g->leaves_changed)
		return;
	if (!r->inval_any || g->start < r->inval_start)
		r->inval_start = g->start;
	if (!r->inval_any || g->last > r->inval_last)
		r->inval_last = g->last;
	r->inval_any = true;
}

/* An edit's gather: half the time one whose invalidations are noted, else
 * none (NULL). */
static struct vpte_gather *gather_begin(struct run *r, struct vpte_gather *g)
{
	r->inval_any = false;
	if (!rnd(r, 2))
		return NULL;
	vpte_gather_init(g, &r->t, gather_note, r);
	return g;
}

/* Finish @g (if any): it must have invalidated [lo, hi), where @what changed. */
static void gather_check(struct run *r, struct vpte_gather *g, uint64_t lo, uint64_t hi,
			 const char *what)
{
	if (!g)
		return;
	vpte_gather_finish(g);
	if (lo < hi &&
	    (!r->inval_any || va_to_ia(r, r->inval_start) > lo || va_to_ia(r, r->inval_last) < hi - 1))
		fail(r, "gather invalidated [0x%" PRIx64 ", 0x%" PRIx64 "], %s [0x%" PRIx64
			", 0x%" PRIx64 ")",
		     r->inval_start, r->inval_last, what, ia_to_va(r, lo), ia_to_va(r, hi));
}

/* After an edit that cuts its edges: no leaf crosses ia @x. */
static void check_boundary(struct run *r, uint64_t x)
{
	struct vpte_walk w;
	if (x >= r->space || vpte_seek(&w, &r->t, vpte_va(ia_to_va(r, x))))
		return;
	if (w.kind == VPTE_LEAF && va_to_ia(r, w.va.addr) != x)
		fail(r, "leaf at ia 0x%" PRIx64 " shift %u crosses the edge at ia 0x%" PRIx64,
		     va_to_ia(r, w.va.addr), w.shift, x);
}

static void do_unmap(struct run *r, const char *what, uint64_t ia, uint64_t size)
{
	struct vpte_gather g;
	struct vpte_prot none = { 0, 0, 0 };
	/* What is mapped in the range: its first and last page. */
	size_t i = model_first(&r->m, ia);
	bool any = i < r->m.n && r->m.v[i].ia < ia + size;
	uint64_t lo = any && r->m.v[i].ia > ia ? r->m.v[i].ia : ia, hi = 0;
	for (; i < r->m.n && r->m.v[i].ia < ia + size; i++)
		hi = ext_end(&r->m.v[i]) < ia + size ? ext_end(&r->m.v[i]) : ia + size;

	struct vpte_gather *gp = gather_begin(r, &g);
	op_describe(r, what, ia, size, 0, none, 0, gp != NULL);
	uint64_t allocs = r->mem.allocs;
	int err = vpte_unmap(&r->t, vpte_va(ia_to_va(r, ia)), size, gp);
	r->unmaps++;
	r->unmap_splits += r->mem.allocs != allocs;
	if (err)
		fail(r, "vpte_unmap: %s", vpte_strerror(err));
	else
		model_remove(&r->m, ia, size);
	gather_check(r, gp, lo, hi, "removed");
}

/* Can the format encode @p?  (x86-64 and arm64 pages are always
 * readable; RISC-V has execute-only but no write without read.) */
static bool model_prot_ok(const struct run *r, struct vpte_prot p)
{
	bool rd = p.flags & VPTE_R, wr = p.flags & VPTE_W, x = p.flags & VPTE_X;
	return (rd || (r->exec_only && x && !wr)) && p.memtype <= VPTE_MT_DEVICE &&
	       !(p.raw & ~r->f->raw_mask) && !(p.flags & ~VPTE_PROT_FLAGS);
}

static struct vpte_prot change_apply(struct vpte_prot set, struct vpte_prot clear,
				     struct vpte_prot p)
{
	p.flags = (p.flags & ~clear.flags) | set.flags;
	p.memtype = (p.memtype & ~clear.memtype) | set.memtype;
	p.raw = (p.raw & ~clear.raw) | set.raw;
	return p;
}

/* A random attribute change; clearing R (unencodable alone) is rare. */
static void gen_change(struct run *r, struct vpte_prot *set, struct vpte_prot *clear)
{
	static const uint32_t flags[] = { VPTE_R, VPTE_W, VPTE_X, VPTE_U,
					  VPTE_G, VPTE_A, VPTE_D, VPTE_SPECIAL };
	*set = *clear = (struct vpte_prot){ 0, 0, 0 };
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		unsigned roll = (unsigned)rnd(r, flags[i] == VPTE_R ? 24 : 6);
		if (roll == 0)
			set->flags |= flags[i];
		else if (roll == 1)
			clear->flags |= flags[i];
	}
	if (!rnd(r, 4)) {
		clear->memtype = VPTE_MT_MASK;
		set->memtype = (uint32_t)rnd(r, 3);
	}
	if (!rnd(r, 4)) {
		set->raw = test_rand(&r->rng) & r->f->raw_mask;
		clear->raw = test_rand(&r->rng) & r->f->raw_mask;
	}
}

/* Apply a successful protect to the model. */
static void model_protect(struct model *m, uint64_t ia, uint64_t size, struct vpte_prot set,
			  struct vpte_prot clear)
{
	struct model parts = { 0 };
	for (size_t i = model_first(m, ia); i < m->n && m->v[i].ia < ia + size; i++) {
		struct ext e = m->v[i];
		uint64_t from = e.ia > ia ? e.ia : ia, to = ext_end(&e) < ia + size ? ext_end(&e) : ia + size;
		struct ext part = { from, to - from, e.pa + (from - e.ia), change_apply(set, clear, e.prot) };
		model_insert_at(&parts, parts.n, part);
	}
	model_remove(m, ia, size);
	for (size_t i = 0; i < parts.n; i++)
		model_add(m, parts.v[i].ia, parts.v[i].size, parts.v[i].pa, parts.v[i].prot);
	free(parts.v);
}

static void do_protect(struct run *r, const char *what, uint64_t ia, uint64_t size)
{
	struct vpte_gather g;
	struct vpte_prot set, clear;
	int want = 0;
	uint64_t lo = ~0ull, hi = 0; /* the pages whose attributes change */

	gen_change(r, &set, &clear);
	for (size_t i = model_first(&r->m, ia); i < r->m.n && r->m.v[i].ia < ia + size; i++) {
		const struct ext *e = &r->m.v[i];
		struct vpte_prot now = change_apply(set, clear, e->prot);
		if (!model_prot_ok(r, now))
			want = -VPTE_EINVAL;
		if (!prot_same(now, e->prot, VPTE_A)) {
			uint64_t from = e->ia > ia ? e->ia : ia;
			uint64_t to = ext_end(e) < ia + size ? ext_end(e) : ia + size;
			lo = from < lo ? from : lo;
			hi = to > hi ? to : hi;
		}
	}
	struct vpte_gather *gp = gather_begin(r, &g);
	snprintf(r->op, sizeof(r->op),
		 "%s va 0x%" PRIx64 " size 0x%" PRIx64 " set {0x%x, %u, 0x%" PRIx64
		 "} clear {0x%x, 0x%x, 0x%" PRIx64 "} gather %d",
		 what, ia_to_va(r, ia), size, set.flags, set.memtype, set.raw, clear.flags,
		 clear.memtype, clear.raw, gp != NULL);
	uint64_t before = want ? table_digest(r) : 0, live = r->mem.live;
	int err = vpte_protect(&r->t, vpte_va(ia_to_va(r, ia)), size, set, clear, gp);
	r->protects++;
	r->protects_einval += err == -VPTE_EINVAL;
	if (err != want)
		fail(r, "vpte_protect returned %d (%s), the model expects %d", err, vpte_strerror(err),
		     want);
	if (!err && !want) {
		model_protect(&r->m, ia, size, set, clear);
		check_boundary(r, ia);
		check_boundary(r, ia + size);
	}
	if (err && (table_digest(r) != before || r->mem.live != live))
		fail(r, "a failed protect changed the table");
	gather_check(r, gp, err ? 0 : lo, err ? 0 : hi, "changed");
}

/* A random shift for a split of @size bytes that leaves no more than a
 * thousand or so leaves in the range. */
static unsigned split_shift(struct run *r, uint64_t size)
{
	unsigned s = r->gshift + (unsigned)rnd(r, 64 - r->gshift);
	if (rnd(r, 2))
		s = rnd_shift(r) - (unsigned)rnd(r, 2);
	if (s < r->gshift)
		s = r->gshift;
	for (;;) {
		unsigned piece = r->gshift; /* the largest piece no larger than 2^s */
		for (unsigned i = 0; i < r->nshifts; i++)
			if (r->shifts[i] <= s)
				piece = r->shifts[i];
		if ((size >> piece) <= 1024)
			return s;
		s++;
	}
}

static void do_split(struct run *r, const char *what, uint64_t ia, uint64_t size)
{
	struct vpte_gather g;
	struct vpte_walk w;
	unsigned shift = split_shift(r, size);
	uint64_t lo = ~0ull, hi = 0; /* the leaves to split */
	vpte_for_each_leaf(&w, &r->t, vpte_va(ia_to_va(r, ia)), size)
	{
		if (w.shift <= shift)
			continue;
		uint64_t wia = va_to_ia(r, w.va.addr);
		lo = wia < lo ? wia : lo;
		hi = wia + (1ull << w.shift);
	}
	struct vpte_gather *gp = gather_begin(r, &g);
	snprintf(r->op, sizeof(r->op), "%s va 0x%" PRIx64 " size 0x%" PRIx64 " shift %u gather %d",
		 what, ia_to_va(r, ia), size, shift, gp != NULL);
	uint64_t allocs = r->mem.allocs;
	int err = vpte_split(&r->t, vpte_va(ia_to_va(r, ia)), size, shift, gp);
	r->splits++;
	r->split_tables += r->mem.allocs - allocs;
	if (err)
		fail(r, "vpte_split: %s", vpte_strerror(err));
	gather_check(r, gp, lo, hi, "split");
	vpte_for_each_leaf(&w, &r->t, vpte_va(ia_to_va(r, ia)), size)
		if (w.shift > shift) {
			fail(r, "leaf at va 0x%" PRIx64 " shift %u after a split to %u", w.va.addr,
			     w.shift, shift);
			break;
		}
}

/*
 * Is [ia, ia + size) mapped by the model without a hole, to one physically
 * contiguous region, with attributes alike but for accessed and dirty?
 * Sets *@pa to what ia maps to.
 */
static bool model_uniform(const struct model *m, uint64_t ia, uint64_t size, uint64_t *pa)
{
	size_t i = model_first(m, ia);
	if (i >= m->n || m->v[i].ia > ia)
		return false;
	const struct ext *e = &m->v[i];
	*pa = e->pa + (ia - e->ia);
	for (uint64_t end = ext_end(e); end < ia + size; end = ext_end(e)) {
		const struct ext *next = &m->v[++i];
		if (i >= m->n || next->ia != end || next->pa != e->pa + e->size ||
		    !prot_same(next->prot, e->prot, VPTE_A | VPTE_D))
			return false;
		e = next;
	}
	return true;
}

/* The piece shift after @shift, 64 if none. */
static unsigned next_piece(const struct run *r, unsigned shift)
{
	for (unsigned i = 0; i < r->nshifts; i++)
		if (r->shifts[i] > shift)
			return r->shifts[i];
	return 64;
}

static void do_collapse(struct run *r, const char *what, uint64_t ia, uint64_t size)
{
	struct vpte_gather g;
	struct vpte_walk w;
	unsigned max_shift = gen_max_shift(r), limit = max_shift ? max_shift : 63;
	struct vpte_gather *gp = gather_begin(r, &g);
	snprintf(r->op, sizeof(r->op), "%s va 0x%" PRIx64 " size 0x%" PRIx64
		 " max_shift %u gather %d",
		 what, ia_to_va(r, ia), size, max_shift, gp != NULL);
	uint64_t attempts = r->mem.attempts, before = 0;
	vpte_for_each_leaf(&w, &r->t, vpte_va(ia_to_va(r, ia)), size)
		before++;
	int err = vpte_collapse(&r->t, vpte_va(ia_to_va(r, ia)), size, max_shift, gp);
	r->collapses++;
	if (err || r->mem.attempts != attempts)
		fail(r, "vpte_collapse: %s, %" PRIu64 " allocations", vpte_strerror(err),
		     r->mem.attempts - attempts);
	gather_check(r, gp, 0, 0, "");
	/* Every leaf wholly inside is as large as it can be: the next larger
	 * piece holding it is too large, leaves the range, or is not mapped
	 * alike.  Its dirty flag is the OR of its parts' (collected first: the
	 * model changes under the walk). */
	struct model dirty = { 0 };
	vpte_for_each_leaf(&w, &r->t, vpte_va(ia_to_va(r, ia)), size)
	{
		uint64_t wia = va_to_ia(r, w.va.addr), len = 1ull << w.shift, pa;
		if (wia < ia || wia + len > ia + size) {
			before--;
			continue;
		}
		unsigned up = next_piece(r, w.shift);
		uint64_t block = up < 64 ? wia & ~mask_of(up) : 0;
		if (up <= limit && block >= ia && block + (1ull << up) <= ia + size &&
		    model_uniform(&r->m, block, 1ull << up, &pa) && !(pa & mask_of(up))) {
			fail(r, "leaf at ia 0x%" PRIx64 " shift %u could be 2^%u after the collapse",
			     wia, w.shift, up);
			break;
		}
		before--;
		if (!(w.prot.flags & VPTE_D))
			continue;
		struct ext e = { wia, len, 0, w.prot };
		model_insert_at(&dirty, dirty.n, e);
	}
	r->collapsed += before; /* leaves merged away */
	struct vpte_prot set_dirty = { VPTE_D, 0, 0 }, none = { 0, 0, 0 };
	for (size_t i = 0; i < dirty.n; i++)
		model_protect(&r->m, dirty.v[i].ia, dirty.v[i].size, set_dirty, none);
	free(dirty.v);
}

/* A granule-aligned piece of extent @e: [*ia, *ia + *size). */
static void sub_range(struct run *r, const struct ext *e, uint64_t *ia, uint64_t *size)
{
	switch (rnd(r, 4)) {
	case 0:
		*ia = e->ia;
		*size = e->size;
		return;
	case 1: { /* a few pieces of some shift, from an aligned point */
		unsigned s = rnd_shift(r);
		*ia = e->ia + (rnd(r, e->size >> s) << s);
		*ia += rnd(r, 3) << r->gshift;
		*size = (1 + rnd(r, 3)) << s;
		break;
	}
	default: /* a few granules anywhere */
		*ia = e->ia + (rnd(r, e->size >> r->gshift) << r->gshift);
		*size = (1 + rnd(r, 16)) << r->gshift;
		break;
	}
	if (*ia >= ext_end(e))
		*ia = ext_end(e) - r->gran;
	if (*size > ext_end(e) - *ia)
		*size = ext_end(e) - *ia;
}

/* ------------------------------------------------------------------------
 * Copies into second tables, and harvests
 * ------------------------------------------------------------------------ */
/*
 * The result vpte_copy must give, by its documented order of checks: the
 * range against the destination's granule and VA space, anything mapped
 * there, then each source leaf in address order (read from the source
 * table, whose leaves check_table has matched with the model): a leaf the
 * range cuts when write-protecting, a part that is not whole destination
 * pages, a PA beyond its width, attributes it cannot encode.
 */
static int copy_expect(struct run *src, struct run *dst, uint64_t va, uint64_t size,
		       bool wrprotect)
{
	uint64_t last = va + (size - 1);
	if ((va | size) & (dst->gran - 1))
		return -VPTE_EINVAL;
	if (dst->f->sign_extend) {
		uint64_t top = va >> (dst->f->va_bits - 1);
		if (top != 0 && top != ~0ull >> (dst->f->va_bits - 1))
			return -VPTE_EINVAL;
		if ((last >> (dst->f->va_bits - 1)) != top)
			return -VPTE_ERANGE;
	} else if (last >> dst->f->va_bits) {
		return -VPTE_ERANGE;
	}
	if (model_any(&dst->m, va_to_ia(dst, va), size))
		return -VPTE_EEXIST;
	struct vpte_walk w;
	vpte_for_each_leaf(&w, &src->t, vpte_va(va), size)
	{
		uint64_t leaf_last = w.va.addr + mask_of(w.shift);
		uint64_t lo = w.va.addr > va ? w.va.addr : va, hi = leaf_last < last ? leaf_last : last;
		uint64_t pa = w.pa.addr + (lo - w.va.addr);
		const struct ext *e;
		if (wrprotect && (lo != w.va.addr || hi != leaf_last))
			return -VPTE_EINVAL;
		if ((lo | (hi + 1) | pa) & (dst->gran - 1))
			return -VPTE_EINVAL;
		if ((pa + (hi - lo)) >> dst->f->pa_bits)
			return -VPTE_ERANGE;
		if (!model_lookup(&src->m, va_to_ia(src, lo), &e))
			continue; /* check_table reports it */
		struct vpte_prot prot = e->prot;
		if (wrprotect)
			prot.flags &= ~VPTE_W;
		if (!model_prot_ok(dst, prot))
			return -VPTE_EINVAL;
	}
	return w.error;
}

/* A destination for copies from @r: the same format, or another one whose
 * PA width holds @r's. */
static struct run *copy_target(struct run *r, const struct vpte_format *f)
{
	struct run *d = calloc(1, sizeof(*d));
	if (!d)
		abort();
	run_setup(d, f);
	d->owner = r;
	d->rng = test_rand(&r->rng);
	if (table_open(d))
		fail(r, "vpte_table_init of a copy target failed");
	return d;
}

static void copy_targets_open(struct run *r)
{
	size_t count, n = 0;
	const struct vpte_format *const *formats = vpte_formats(&count);
	const struct vpte_format *other[16];
	for (size_t i = 0; i < count; i++)
		if (formats[i] != r->f && formats[i]->pa_bits >= r->f->pa_bits)
			other[n++] = formats[i];
	r->targets[0] = copy_target(r, r->f);
	r->targets[1] = copy_target(r, n ? other[rnd(r, n)] : formats[rnd(r, count)]);
}

static void copy_targets_close(struct run *r)
{
	for (unsigned i = 0; i < 2; i++) {
		table_close(r->targets[i]);
		free(r->targets[i]->m.v);
		free(r->targets[i]);
	}
}

/* Copy [ia, ia + size) into one of the targets; both tables must then agree
 * with their models. */
static void do_copy(struct run *r, uint64_t ia, uint64_t size)
{
	struct run *d = r->targets[rnd(r, 2)];
	struct vpte_gather g;
	bool wrprotect = rnd(r, 3) == 0;
	uint64_t va = ia_to_va(r, ia), lo = ~0ull, hi = 0; /* pages losing W */

	if (d->leaves > LEAF_BUDGET) { /* the target's own clean-up */
		d->step = r->step;
		do_unmap(d, "unmap target", 0, d->half);
		if (d->f->sign_extend)
			do_unmap(d, "unmap target", d->half, d->space - d->half);
	}
	int want = copy_expect(r, d, va, size, wrprotect);
	struct vpte_gather *gp = wrprotect ? gather_begin(r, &g) : NULL;
	struct vpte_copy_opts opts = { wrprotect ? VPTE_COPY_WRPROTECT : 0u, gp };
	snprintf(r->op, sizeof(r->op), "copy va 0x%" PRIx64 " size 0x%" PRIx64 " to %s%s gather %d",
		 va, size, d->f->name, wrprotect ? " write-protecting" : "", gp != NULL);
	for (size_t i = model_first(&r->m, ia); i < r->m.n && r->m.v[i].ia < ia + size; i++)
		if (r->m.v[i].prot.flags & VPTE_W) {
			const struct ext *e = &r->m.v[i];
			uint64_t from = e->ia > ia ? e->ia : ia;
			uint64_t to = ext_end(e) < ia + size ? ext_end(e) : ia + size;
			lo = from < lo ? from : lo;
			hi = to > hi ? to : hi;
		}
	uint64_t before = want ? table_digest(r) : 0, target_before = want ? table_digest(d) : 0;
	uint64_t live = d->mem.live;
	int err = vpte_copy(&d->t, &r->t, vpte_va(va), size, &opts);
	r->copies++;
	r->copies_refused += err != 0;
	if (err != want)
		fail(r, "vpte_copy returned %d (%s), the model expects %d", err, vpte_strerror(err),
		     want);
	if (err && (table_digest(r) != before || table_digest(d) != target_before ||
		    d->mem.live != live))
		fail(r, "a failed copy changed a table");
	if (!err && !want) {
		struct vpte_prot none = { 0, 0, 0 }, w = { VPTE_W, 0, 0 };
		for (size_t i = model_first(&r->m, ia); i < r->m.n && r->m.v[i].ia < ia + size; i++) {
			const struct ext *e = &r->m.v[i];
			uint64_t from = e->ia > ia ? e->ia : ia;
			uint64_t to = ext_end(e) < ia + size ? ext_end(e) : ia + size;
			struct vpte_prot prot = e->prot;
			if (wrprotect)
				prot.flags &= ~VPTE_W;
			model_add(&d->m, va_to_ia(d, ia_to_va(r, from)), to - from, e->pa + (from - e->ia),
				  prot);
		}
		if (wrprotect)
			model_protect(&r->m, ia, size, none, w);
	}
	gather_check(r, gp, err ? 0 : lo, err ? 0 : hi, "write-protected");
	if (err)
		return; /* unchanged, as the digests say */
	/* The target, checked as if it were a run of its own. */
	memcpy(d->op, r->op, sizeof(d->op));
	d->step = r->step;
	check_table(d);
	check_seeks(d);
	r->failed |= d->failed;
}

#define HARVEST_WORDS 1024

/* Harvest a flag over [ia, ia + size) and compare with the model; when
 * clearing, the leaves wholly inside the range lose the flag. */
static void do_harvest(struct run *r, uint64_t ia, uint64_t size)
{
	static uint64_t bitmap[HARVEST_WORDS], want[HARVEST_WORDS];
	struct vpte_gather g;
	struct vpte_walk w;
	struct vpte_prot none = { 0, 0, 0 };
	struct vpte_prot flag = { rnd(r, 2) ? VPTE_D : VPTE_A, 0, 0 };
	bool clear = rnd(r, 2);
	unsigned shift = r->gshift + (unsigned)rnd(r, 12);
	uint64_t lo = ~0ull, hi = 0; /* the pages whose flag is cleared */

	while ((size - 1) >> shift >= 64 * HARVEST_WORDS)
		shift++;
	memset(want, 0, sizeof(want));
	for (size_t i = model_first(&r->m, ia); i < r->m.n && r->m.v[i].ia < ia + size; i++) {
		const struct ext *e = &r->m.v[i];
		uint64_t from = e->ia > ia ? e->ia : ia;
		uint64_t to = ext_end(e) < ia + size ? ext_end(e) : ia + size;
		for (uint64_t b = (from - ia) >> shift;
		     (e->prot.flags & flag.flags) && b <= (to - 1 - ia) >> shift; b++)
			want[b / 64] |= 1ull << (b % 64);
	}
	struct vpte_gather *gp = clear ? gather_begin(r, &g) : NULL;
	struct vpte_harvest_opts opts = { flag.flags, shift, clear ? VPTE_HARVEST_CLEAR : 0u, gp };
	snprintf(r->op, sizeof(r->op),
		 "harvest va 0x%" PRIx64 " size 0x%" PRIx64 " %s shift %u%s gather %d",
		 ia_to_va(r, ia), size, flag.flags == VPTE_D ? "dirty" : "accessed", shift,
		 clear ? " clearing" : "", gp != NULL);
	memset(bitmap, 0, sizeof(bitmap));
	int err = vpte_harvest(&r->t, vpte_va(ia_to_va(r, ia)), size, bitmap, &opts);
	r->harvests++;
	if (err)
		fail(r, "vpte_harvest: %s", vpte_strerror(err));
	for (unsigned i = 0; i < HARVEST_WORDS; i++)
		if (bitmap[i] != want[i]) {
			fail(r, "harvest bitmap word %u: 0x%" PRIx64 ", the model says 0x%" PRIx64, i,
			     bitmap[i], want[i]);
			break;
		}
	/* Clearing: the leaves wholly inside the range (harvesting leaves the
	 * leaf structure as it was) lose the flag. */
	vpte_for_each_leaf(&w, &r->t, vpte_va(ia_to_va(r, ia)), size)
	{
		uint64_t wia = va_to_ia(r, w.va.addr), end = wia + (1ull << w.shift);
		const struct ext *e;
		if (!clear || err || wia < ia || end > ia + size)
			continue;
		if (model_lookup(&r->m, wia, &e) && (e->prot.flags & flag.flags)) {
			lo = wia < lo ? wia : lo;
			hi = end > hi ? end : hi;
		}
		model_protect(&r->m, wia, end - wia, none, flag);
	}
	gather_check(r, gp, lo, hi, "cleared");
}

static void copy_or_harvest(struct run *r, const struct ext *e)
{
	uint64_t ia, size;
	unsigned shift;
	if (e && rnd(r, 3))
		sub_range(r, e, &ia, &size);
	else
		while (!gen_range(r, &ia, &size, &shift))
			;
	if (rnd(r, 2))
		do_copy(r, ia, size);
	else
		do_harvest(r, ia, size);
}

/*
 * Pages mapped one call each, in address order, as a fault handler or a
 * VMM filling memory does: with no options they take the single-page
 * map's short path, and from the second page of a leaf table on its hint
 * (map_page()), which the ops between two such runs (unmaps freeing
 * tables, collapses, splits, copies) leave stale for the next run to meet.
 */
static void map_pages(struct run *r)
{
	uint64_t ia, size, pa;
	unsigned shift;
	while (!gen_range(r, &ia, &size, &shift))
		;
	ia &= ~mask_of(r->gshift);
	if (!gen_pa(r, ia, size, r->gshift, &pa))
		return;
	struct vpte_prot prot = gen_prot(r);
	uint64_t pages = size >> r->gshift ? size >> r->gshift : 1;
	if (pages > MAP_PAGES_MAX)
		pages = MAP_PAGES_MAX;
	for (uint64_t i = 0; i < pages && !r->failed; i++)
		do_map(r, "map page", ia + (i << r->gshift), r->gran, pa + (i << r->gshift), prot, 0,
		       false);
}

static void step_once(struct run *r)
{
	uint64_t ia, size, pa;
	unsigned shift;
	unsigned roll = (unsigned)rnd(r, 100);
	const struct ext *e = r->m.n ? &r->m.v[rnd(r, r->m.n)] : NULL;

	snprintf(r->op, sizeof(r->op), "(generating)");
	if (r->leaves > LEAF_BUDGET || roll < 2) {
		/* Clean up: unmap a whole half, or the space. */
		bool upper = r->f->sign_extend && rnd(r, 2);
		do_unmap(r, "unmap half", upper ? r->half : 0, upper ? r->space - r->half : r->half);
	} else if (roll >= 24 && roll < 45) {
		/* An edit of what is there: part of an extent, or anywhere. */
		if (e && rnd(r, 2))
			sub_range(r, e, &ia, &size);
		else
			while (!gen_range(r, &ia, &size, &shift))
				;
		if (roll < 31)
			do_collapse(r, "collapse", ia, size);
		else if (roll < 38)
			do_split(r, "split", ia, size);
		else
			do_protect(r, "protect", ia, size);
	} else if (roll < 8) {
		map_pages(r);
	} else if (roll < 45) {
		unsigned max_shift = gen_max_shift(r);
		for (;;)
			if (gen_range(r, &ia, &size, &shift) && gen_pa(r, ia, size, shift, &pa) &&
			    best_count(r, ia, size, pa, max_shift ? max_shift : 63, MAP_MAX_LEAVES) <=
				    MAP_MAX_LEAVES)
				break;
		do_map(r, "map", ia, size, pa, gen_prot(r), max_shift, false);
	} else if (roll < 53 && e) {
		sub_range(r, e, &ia, &size);
		do_map(r, "insert same", ia, size, e->pa + (ia - e->ia), e->prot, gen_max_shift(r),
		       true);
	} else if (roll < 58 && e) {
		struct vpte_prot prot = e->prot;
		sub_range(r, e, &ia, &size);
		pa = e->pa + (ia - e->ia);
		switch (rnd(r, 4)) {
		case 0: pa += r->gran; break;
		case 1: prot.flags ^= VPTE_G; break;
		case 2: prot.flags ^= VPTE_U; break;
		default: prot.memtype = (prot.memtype + 1) % 3; break;
		}
		do_map(r, "insert conflicting", ia, size, pa, prot, 0, rnd(r, 4) != 0);
	} else if (roll < 63 && e) {
		/* Insert around an extent, into its neighbourhood. */
		uint64_t lo = e->ia & ~mask_of(rnd_shift(r));
		uint64_t hi = ext_end(e);
		shift = rnd_shift(r);
		hi += rnd(r, 4) << shift;
		if (lo < (e->ia >= r->half ? r->half : 0) || hi > (e->ia >= r->half ? r->space : r->half) ||
		    e->pa < e->ia - lo || e->pa - (e->ia - lo) + (hi - lo) > (1ull << r->f->pa_bits))
			return;
		do_map(r, "insert around", lo, hi - lo, e->pa - (e->ia - lo), e->prot,
		       gen_max_shift(r), true);
	} else if (roll < 80) {
		while (!gen_range(r, &ia, &size, &shift))
			;
		do_unmap(r, "unmap", ia, size);
	} else if (roll >= 88 && roll < 95) {
		copy_or_harvest(r, e);
	} else if (roll < 95 && e) {
		sub_range(r, e, &ia, &size);
		do_unmap(r, "unmap punch", ia, size);
	} else {
		/* The last pages of the space, or the first of the upper half. */
		uint64_t n = 1 + rnd(r, 3);
		ia = rnd(r, 2) || !r->f->sign_extend ? r->space - (n << r->gshift) : r->half;
		size = n << r->gshift;
		if (rnd(r, 2)) {
			pa = rnd(r, (1ull << r->f->pa_bits) >> r->gshift) << r->gshift;
			if (pa + size > (1ull << r->f->pa_bits))
				pa -= size;
			struct vpte_prot prot = gen_prot(r);
			do_map(r, "map edge", ia, size, pa, prot, 0, rnd(r, 4) == 0);
		} else {
			do_unmap(r, "unmap edge", ia, size);
		}
	}
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

/* @no_hw: the same run on a VPTE_TABLE_NO_HW_UPDATES table, which must
 * give the same results (the model), gathers (f) and observer calls (g). */
static void random_run(const struct vpte_format *f, uint64_t seed, unsigned long steps,
		       bool no_hw, bool plain)
{
	struct run *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	run_setup(r, f);
	r->no_hw = no_hw;
	r->plain = plain;
	r->seed = seed;
	r->rng = seed ^ name_hash(f->name);
	snprintf(r->op, sizeof(r->op), "vpte_table_init");
	if (table_open(r)) {
		fail(r, "vpte_table_init failed");
		free(r);
		return;
	}
	copy_targets_open(r);
	uint64_t max_leaves = 0;
	for (r->step = 0; r->step < steps && !r->failed; r->step++) {
		step_once(r);
		check_table(r);
		check_seeks(r);
		if (r->leaves > max_leaves)
			max_leaves = r->leaves;
	}
	snprintf(r->op, sizeof(r->op), "vpte_table_destroy");
	const char *other = r->targets[1]->f->name;
	copy_targets_close(r);
	table_close(r);
	printf("  %-13s %lu steps%s%s: maps %lu ok (%lu fresh) %lu EEXIST, unmaps %lu (%lu split),"
	       " protects %lu (%lu EINVAL), splits %lu (%lu tables), collapses %lu (%lu leaves fewer),"
	       " <= %" PRIu64 " leaves, shifts",
	       f->name, r->step,
	       no_hw ? " (no hw updates)" : plain ? " (no observer, direct window)" : "",
	       r->failed ? " FAILED" : "",
	       r->maps_ok, r->fresh_checked,
	       r->maps_eexist, r->unmaps, r->unmap_splits, r->protects, r->protects_einval,
	       r->splits, r->split_tables, r->collapses, r->collapsed, max_leaves);
	for (unsigned s = 0; s < 64; s++)
		if (r->shifts_seen & (1ull << s))
			printf(" %u", s);
	printf("\n  %-13s copies %lu (%lu refused) into itself and %s, harvests %lu\n", "",
	       r->copies, r->copies_refused, other, r->harvests);
	free(r->m.v);
	free(r);
}

/* ------------------------------------------------------------------------
 * (d), deterministic: fresh maps of every piece size, ragged, misaligned
 * ------------------------------------------------------------------------ */
static void fresh_case(struct run *r, uint64_t ia, uint64_t size, uint64_t pa, unsigned max_shift)
{
	struct vpte_prot prot = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_map_opts opts = { max_shift, 0 };
	uint64_t limit = max_shift ? max_shift : 63;
	if (best_count(r, ia, size, pa, (unsigned)limit, FRESH_MAX_LEAVES) > FRESH_MAX_LEAVES)
		return;
	op_describe(r, "fresh map", ia, size, pa, prot, max_shift, 0);
	int err = vpte_map(&r->t, vpte_va(ia_to_va(r, ia)), vpte_pa(pa), size, prot, &opts);
	if (err) {
		fail(r, "vpte_map: %s", vpte_strerror(err));
		return;
	}
	model_map(&r->m, ia, size, pa, prot);
	check_fresh_leaves(r, ia, size, pa, (unsigned)limit);
	check_table(r);
	err = vpte_unmap(&r->t, vpte_va(ia_to_va(r, ia)), size, NULL);
	model_remove(&r->m, ia, size);
	if (err || r->mem.live != 1)
		fail(r, "vpte_unmap: %s, %" PRIu64 " pages live", vpte_strerror(err), r->mem.live);
	r->step++;
}

static void fresh_maps(const struct vpte_format *f)
{
	struct run *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	run_setup(r, f);
	r->fresh = true;
	snprintf(r->op, sizeof(r->op), "vpte_table_init");
	if (table_open(r)) {
		fail(r, "vpte_table_init failed");
		free(r);
		return;
	}
	for (unsigned i = 0; i < r->nshifts && !r->failed; i++) {
		unsigned s = r->shifts[i];
		uint64_t unit = 1ull << s, g = r->gran;
		uint64_t smaller = i ? 1ull << r->shifts[i - 1] : g;
		/* Bases aligned to every piece size, with room on both sides. */
		uint64_t bases[4] = { 4 * unit, r->half / 2, r->half - 8 * unit, r->space - 8 * unit };
		/* A PA aligned to exactly 2^s (or more), inside pa_bits. */
		uint64_t pa = (1ull << r->f->pa_bits) / 2 - 8 * unit;
		unsigned nbases = r->f->sign_extend ? 4 : 3;
		for (unsigned b = 0; b < nbases && !r->failed; b++) {
			uint64_t x = bases[b];
			fresh_case(r, x, unit, pa, 0);
			fresh_case(r, x, 3 * unit, pa, 0);
			fresh_case(r, x - 3 * g, unit + 8 * g, pa - 3 * g, 0);
			fresh_case(r, x - smaller - g, 2 * unit + 2 * smaller + 3 * g, pa - smaller - g, 0);
			/* misaligned PA: only smaller leaves fit */
			fresh_case(r, x, 2 * unit, pa + g, 0);
			fresh_case(r, x, 2 * unit, pa + smaller, 0);
			/* max_shift: below, at and above the piece, and odd values */
			if (s > r->gshift)
				fresh_case(r, x, 2 * unit, pa, s - 1);
			fresh_case(r, x, 2 * unit, pa, s);
			fresh_case(r, x, 2 * unit, pa, s + 1);
			fresh_case(r, x, 2 * unit, pa, r->gshift);
			fresh_case(r, x - g, 2 * unit + 2 * g, pa - g, 63);
		}
		/* the last pieces of the space, the first of the upper half */
		fresh_case(r, r->space - unit, unit, pa, 0);
		fresh_case(r, r->space - g, g, pa, 0);
		fresh_case(r, r->space - unit - 2 * g, unit + 2 * g, pa - 2 * g, 0);
		if (r->f->sign_extend) {
			fresh_case(r, r->half, unit + g, pa, 0);
			fresh_case(r, r->half - unit, unit, pa, 0);
		}
	}
	unsigned long cases = r->step;
	snprintf(r->op, sizeof(r->op), "vpte_table_destroy");
	table_close(r);
	printf("  %-14s %lu fresh maps%s\n", f->name, cases, r->failed ? ": FAILED" : "");
	free(r->m.v);
	free(r);
}

/*
 * (c) for tables vpte did not build: an attached table may hold empty
 * lower tables.  An unmap covering such a table's span frees it, as it
 * frees the tables it empties, and never orphans it under a freed parent.
 */
static uint64_t hollow_setup(struct run *r, uint64_t base)
{
	struct vpte_prot prot = { VPTE_R, VPTE_MT_WB, 0 };
	struct vpte_map_opts small = { r->gshift, 0 };
	unsigned s1 = vpte_level_shift(r->f, 1);
	struct vpte_walk w;
	/* A page in each of three level-0 tables under one level-1 table... */
	for (uint64_t i = 0; i < 3; i++)
		CHECK_EQ(vpte_map(&r->t, vpte_va(base + (i << s1) + r->gran), vpte_pa(1ull << 32),
				  r->gran, prot, &small),
			 0);
	/* ... and the first of them emptied by hand, still linked. */
	vpte_for_each_entry(&w, &r->t, vpte_va(base), r->gran, VPTE_ITER_TABLES)
		if (w.kind == VPTE_TABLE && w.level == 1)
			((uint64_t *)(uintptr_t)w.pa.addr)[1] = 0;
	return r->mem.live;
}

static void hollow_tables(const struct vpte_format *f)
{
	struct run r;
	unsigned s1 = vpte_level_shift(f, 1), top = vpte_top_level(f);
	/* the level-1 table's span, away from 0; the whole space if it is the top */
	uint64_t base = top > 1 ? 1ull << vpte_level_shift(f, 2) : 0;
	uint64_t span = top > 1 ? base : 1ull << f->va_bits;

	run_setup(&r, f);
	r.fresh = true;
	snprintf(r.op, sizeof(r.op), "unmap over a hollow table, parent kept");
	CHECK_EQ(table_open(&r), 0);
	uint64_t live = hollow_setup(&r, base);
	CHECK_EQ(vpte_unmap(&r.t, vpte_va(base), 2ull << s1, NULL), 0);
	if (r.mem.live != live - 2)
		fail(&r, "%" PRIu64 " table pages live, expected %" PRIu64, r.mem.live, live - 2);
	table_close(&r);

	r.failed = false;
	snprintf(r.op, sizeof(r.op), "unmap over a hollow table, parent freed");
	CHECK_EQ(table_open(&r), 0);
	hollow_setup(&r, base);
	CHECK_EQ(vpte_unmap(&r.t, vpte_va(base), span, NULL), 0);
	if (r.mem.live != 1)
		fail(&r, "%" PRIu64 " table pages live, expected the root alone", r.mem.live);
	table_close(&r);
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
	printf("test_model: seed 0x%" PRIx64 ", %lu steps per format\n", seed, steps);
	printf("largest leaves on fresh maps:\n");
	for (size_t i = 0; i < count; i++)
		if (test_picked(&pick, i, formats[i])) {
			fresh_maps(formats[i]);
			hollow_tables(formats[i]);
		}
	printf("random map/unmap against the model:\n");
	for (size_t i = 0; i < count; i++)
		if (test_picked(&pick, i, formats[i])) {
			random_run(formats[i], seed, steps, false, false);
			random_run(formats[i], seed, steps, true, false);
			random_run(formats[i], seed, steps / 2, false, true);
		}
	return test_summary("test_model");
}
