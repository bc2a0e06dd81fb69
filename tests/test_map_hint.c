/* SPDX-License-Identifier: MIT */
/*
 * test_map_hint - the leaf-table hint of single-page maps (struct
 * vpte_map_hint, src/engine/hint.h): pages mapped one by one land where
 * they belong, and a hint whose path changed behind its back (an unmap or
 * a collapse freeing the leaf table, through this struct or a copy of it,
 * a destroy and an init reusing the pages, an entry edited by hand, a
 * direct window that moved) never makes a map write into a table that is
 * no longer on the path; the attributes' encoding it keeps is used only
 * for the same attributes and format.  Freed pages are kept aside as they
 * were, with a copy of what they held (never reused, unless a case asks
 * for reuse): a stale path through them still looks valid, so a map that
 * followed one writes into a freed table, and the page differs from its
 * copy when the case ends.
 */
#include <stdatomic.h>

#include "engine/codec.h"
#include "engine/internal.h"
#include "testlib.h"

#define MAX_PAGES 4096

/*
 * struct hint_mem - table pages with a direct window over all of memory
 * (the PA is the host address, as for the heap backend), so that maps
 * take the short path.  Freed pages go to @freed, their contents copied
 * to @kept; with @reuse set they are handed out again, the last freed
 * first.
 */
struct hint_mem {
	struct vpte_direct_map window;
	void *freed[MAX_PAGES], *kept[MAX_PAGES];
	uint64_t nfreed, live, reused;
	bool reuse;
};

static int hint_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	struct hint_mem *m = ctx;
	void *page;
	if (m->reuse && m->nfreed) {
		page = m->freed[--m->nfreed];
		free(m->kept[m->nfreed]);
		m->reused++;
	} else if (!(page = aligned_alloc(align, size))) {
		return -VPTE_ENOMEM;
	}
	memset(page, 0, size);
	m->live++;
	*pa = vpte_pa((uintptr_t)page);
	return 0;
}

static void hint_free(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct hint_mem *m = ctx;
	void *copy = malloc(size);
	if (m->nfreed == MAX_PAGES || !copy)
		abort();
	memcpy(copy, (void *)(uintptr_t)pa.addr, size);
	m->kept[m->nfreed] = copy;
	m->freed[m->nfreed++] = (void *)(uintptr_t)pa.addr;
	m->live--;
}

static const struct vpte_mem_ops hint_mem_ops = { hint_alloc, hint_free, test_mem_virt, NULL,
						  NULL, NULL };

static struct vpte_mem hint_mem(struct hint_mem *m, bool reuse)
{
	memset(m, 0, sizeof(*m));
	m->window = (struct vpte_direct_map){ 0, UINT64_MAX, 0 };
	m->reuse = reuse;
	struct vpte_mem mem = { &hint_mem_ops, m, &m->window };
	return mem;
}

/* The end of a case: every page freed, and every freed page as it was
 * (no map wrote into a table after it was freed). */
static void hint_mem_done(struct vpte_table *t, struct hint_mem *m, uint64_t page,
			  const char *what)
{
	CHECK_EQ(vpte_table_destroy(t), 0);
	CHECK_EQ(m->live, 0);
	for (uint64_t i = 0; i < m->nfreed; i++) {
		const uint64_t *p = m->freed[i], *was = m->kept[i];
		for (uint64_t j = 0; j < page / sizeof(uint64_t); j++)
			if (p[j] != was[j]) {
				fprintf(stderr, "%s: %s: a freed table page was written: entry %" PRIu64
						" is 0x%" PRIx64 "\n",
					t->fmt->name, what, j, p[j]);
				test_failures++;
				break;
			}
		free(m->freed[i]);
		free(m->kept[i]);
	}
	m->nfreed = 0;
}

static const struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };

/* Where the pages of a case go: a leaf table's span away from 0, its PA
 * an arbitrary 2^32 on. */
struct place {
	const struct vpte_format *f;
	uint64_t page, span, va, pa;
};

static struct place place_at(const struct vpte_format *f, uint64_t va)
{
	struct place p = { f, 1ull << f->granule_shift, 1ull << vpte_level_shift(f, 1), va,
			   1ull << 32 };
	return p;
}

static uint64_t va_of(const struct place *p, uint64_t i)
{
	return p->va + i * p->page;
}

/* The hint's key for page @i: its VA with the leaf table's index bits
 * set (hint_key()). */
static uint64_t key_of(const struct place *p, uint64_t i)
{
	return va_of(p, i) | ((p->span - 1u) & ~(p->page - 1u));
}

static int map_one(struct vpte_table *t, const struct place *p, uint64_t i)
{
	return vpte_map(t, vpte_va(va_of(p, i)), vpte_pa(p->pa + i * p->page), p->page, rw, NULL);
}

/* Page @i of @p is mapped where it should be, as a single leaf. */
static bool mapped_right(const struct vpte_table *t, const struct place *p, uint64_t i)
{
	struct vpte_walk w;
	uint64_t va = va_of(p, i);
	return !vpte_seek(&w, t, vpte_va(va)) && w.kind == VPTE_LEAF && w.level == 0 &&
	       w.pa.addr + (va - w.va.addr) == p->pa + i * p->page && (w.prot.flags & VPTE_W);
}

static bool is_hole(const struct vpte_table *t, const struct place *p, uint64_t i)
{
	struct vpte_walk w;
	return !vpte_seek(&w, t, vpte_va(va_of(p, i))) && w.kind == VPTE_HOLE;
}

static uint64_t leaves_in(const struct vpte_table *t)
{
	struct vpte_stats st;
	uint64_t n = 0;
	CHECK_EQ(vpte_stats_table(t, &st), 0);
	for (unsigned s = 0; s < 64; s++)
		n += st.leaves[s];
	return n;
}

/* Pages 0 and 1 of @p mapped: the second map found the leaf table the
 * first one created and left the hint for its span. */
static void map_two(struct vpte_table *t, const struct place *p)
{
	CHECK_EQ(map_one(t, p, 0), 0);
	CHECK_EQ(map_one(t, p, 1), 0);
	CHECK(t->hint.span == key_of(p, 0));
}

/* Pages one by one over two and a half leaf tables: each lands right, and
 * the hint was taken (it holds the last span). */
static void consecutive(const struct vpte_format *f, uint64_t va)
{
	struct hint_mem m;
	struct vpte_table t;
	struct place p = place_at(f, va);
	uint64_t per = p.span / p.page, n = 2 * per + per / 2;
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, false)), 0);
	for (uint64_t i = 0; i < n; i++)
		CHECK_EQ(map_one(&t, &p, i), 0);
	CHECK(t.hint.span == key_of(&p, n - 1));
	for (uint64_t i = 0; i < n; i++)
		CHECK(mapped_right(&t, &p, i));
	CHECK_EQ(leaves_in(&t), n);
	/* An occupied entry gets its error from the full path. */
	CHECK_EQ(map_one(&t, &p, n - 1), -VPTE_EEXIST);
	CHECK_EQ(m.live, 1u + (f->levels - 2u) + 3u);
	hint_mem_done(&t, &m, p.page, "consecutive");
}

/* An unmap frees the hinted leaf table (and with @upper the tables above
 * it); the next map in its span builds a new one. */
static void after_unmap(const struct vpte_format *f, uint64_t va, bool upper)
{
	struct hint_mem m;
	struct vpte_table t;
	struct place p = place_at(f, va);
	uint64_t per = p.span / p.page;
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, false)), 0);
	if (!upper)
		CHECK_EQ(map_one(&t, &p, per), 0); /* keeps the tables above */
	map_two(&t, &p);
	CHECK_EQ(vpte_unmap(&t, vpte_va(p.va), upper ? 2 * p.span : p.span, NULL), 0);
	CHECK_EQ(map_one(&t, &p, 2), 0);
	CHECK_EQ(map_one(&t, &p, 3), 0);
	CHECK(is_hole(&t, &p, 0) && is_hole(&t, &p, 1));
	CHECK(mapped_right(&t, &p, 2) && mapped_right(&t, &p, 3));
	CHECK_EQ(leaves_in(&t), upper ? 2u : 3u);
	hint_mem_done(&t, &m, p.page, upper ? "unmap of the tables above" : "unmap");
}

/* A copy of the struct, hint included, used after the original unmapped
 * the hinted leaf table; then the original, whose hint is as stale. */
static void copied_struct(const struct vpte_format *f, uint64_t va)
{
	struct hint_mem m;
	struct vpte_table t;
	struct place p = place_at(f, va);
	uint64_t per = p.span / p.page;
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, false)), 0);
	CHECK_EQ(map_one(&t, &p, per), 0);
	map_two(&t, &p);
	struct vpte_table copy = t;
	CHECK_EQ(vpte_unmap(&t, vpte_va(p.va), p.span, NULL), 0);
	CHECK_EQ(map_one(&copy, &p, 2), 0);
	CHECK_EQ(map_one(&copy, &p, 3), 0);
	CHECK_EQ(vpte_unmap(&copy, vpte_va(p.va), p.span, NULL), 0);
	CHECK_EQ(map_one(&t, &p, 4), 0);
	CHECK(is_hole(&t, &p, 2) && is_hole(&t, &p, 3) && mapped_right(&t, &p, 4));
	CHECK_EQ(leaves_in(&t), 2u);
	hint_mem_done(&t, &m, p.page, "copied struct");
}

/* A collapse frees the hinted leaf table; an unmap of one page splits the
 * huge leaf into a new table; the page mapped again goes there. */
static void after_collapse(const struct vpte_format *f, uint64_t va)
{
	struct hint_mem m;
	struct vpte_table t;
	struct place p = place_at(f, va);
	uint64_t per = p.span / p.page;
	if (!(f->leaf_levels & 2u))
		return;
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, false)), 0);
	for (uint64_t i = 0; i < per; i++)
		CHECK_EQ(map_one(&t, &p, i), 0);
	CHECK_EQ(vpte_collapse(&t, vpte_va(p.va), p.span, vpte_level_shift(f, 1), NULL), 0);
	CHECK_EQ(leaves_in(&t), 1u);
	CHECK_EQ(vpte_unmap(&t, vpte_va(va_of(&p, 5)), p.page, NULL), 0);
	CHECK_EQ(map_one(&t, &p, 5), 0);
	CHECK_EQ(map_one(&t, &p, 6), -VPTE_EEXIST);
	for (uint64_t i = 0; i < per; i++)
		CHECK(mapped_right(&t, &p, i));
	hint_mem_done(&t, &m, p.page, "collapse");
}

/* vpte_table_destroy and vpte_table_init on the same struct, the pages
 * reused (the root at the same PA, likely): init forgets the hint, and a
 * hint left over (as a copy of the struct made before would hold) is
 * refused by its root entry, which the new root does not have. */
static void after_destroy(const struct vpte_format *f, uint64_t va)
{
	struct hint_mem m;
	struct vpte_table t;
	struct place p = place_at(f, va);
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, true)), 0);
	map_two(&t, &p);
	struct vpte_map_hint left = t.hint;
	CHECK_EQ(vpte_table_destroy(&t), 0);
	CHECK_EQ(vpte_table_init(&t, f, (struct vpte_mem){ &hint_mem_ops, &m, &m.window }), 0);
	CHECK_EQ(t.hint.span, 0);
	CHECK(m.reused > 0);
	t.hint = left;
	CHECK_EQ(map_one(&t, &p, 2), 0);
	CHECK(is_hole(&t, &p, 0) && is_hole(&t, &p, 1) && mapped_right(&t, &p, 2));
	CHECK_EQ(leaves_in(&t), 1u);
	CHECK_EQ(m.live, (uint64_t)f->levels);
	m.reuse = false;
	hint_mem_done(&t, &m, p.page, "destroy and init");
}

/* The entry for @va at @level > 0, reached by hand (the PA is the host
 * address in struct hint_mem). */
static _Atomic uint64_t *entry_at(const struct vpte_table *t, uint64_t va, unsigned level)
{
	const struct vpte_format *f = t->fmt;
	const struct vpte_codec *c = f->ops->entry_codec;
	_Atomic uint64_t *table = (_Atomic uint64_t *)(uintptr_t)t->root.addr;
	for (unsigned l = vpte_top_level(f);; l--) {
		_Atomic uint64_t *e =
			table + ((va >> vpte_level_shift(f, l)) & ((1ull << f->level_bits[l]) - 1u));
		if (l == level)
			return e;
		table = (_Atomic uint64_t *)(uintptr_t)c->table_pa(f, atomic_load(e));
	}
}

/* The level-1 entry rewritten by hand to a copy of the leaf table: the
 * next map goes to the copy, and the old table, taken out, is unchanged. */
static void edited_by_hand(const struct vpte_format *f, uint64_t va)
{
	struct hint_mem m;
	struct vpte_table t;
	struct place p = place_at(f, va);
	const struct vpte_codec *c = f->ops->entry_codec;
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, false)), 0);
	map_two(&t, &p);
	_Atomic uint64_t *up = entry_at(&t, p.va, 1);
	uint64_t old = atomic_load(up);
	vpte_pa_t moved;
	CHECK_EQ(hint_alloc(&m, p.page, p.page, &moved), 0);
	memcpy((void *)(uintptr_t)moved.addr, (void *)(uintptr_t)c->table_pa(f, old), p.page);
	atomic_store(up, c->make_table(f, moved.addr));
	hint_free(&m, vpte_pa(c->table_pa(f, old)), p.page);
	CHECK_EQ(map_one(&t, &p, 2), 0);
	CHECK(mapped_right(&t, &p, 0) && mapped_right(&t, &p, 1) && mapped_right(&t, &p, 2));
	hint_mem_done(&t, &m, p.page, "entry edited by hand");
}

/* The arena's window moves when the arena grows: a hint recorded before
 * points into the old buffer and must not be used. */
static void window_moved(const struct vpte_format *f, uint64_t va)
{
	struct vpte_arena a;
	struct vpte_table t;
	struct place p = place_at(f, va);
	CHECK_EQ(vpte_arena_init(&a, vpte_pa(1ull << 30), 1ull << 26), 0);
	CHECK_EQ(vpte_table_init(&t, f, vpte_arena_mem(&a)), 0);
	map_two(&t, &p);
	uint64_t capacity = a.capacity;
	/* New tables elsewhere until the buffer grows (and likely moves),
	 * through a copy of the struct, whose hint then goes elsewhere. */
	struct vpte_table other = t;
	uint64_t far = 1ull << vpte_level_shift(f, f->levels > 2 ? 2 : 1);
	for (uint64_t k = 1; k < 64 && a.capacity == capacity; k++)
		CHECK_EQ(vpte_map(&other, vpte_va(p.va ^ (k * far)), vpte_pa(p.pa), p.page, rw, NULL),
			 0);
	CHECK(a.capacity > capacity);
	CHECK_EQ(map_one(&t, &p, 2), 0);
	CHECK(mapped_right(&t, &p, 0) && mapped_right(&t, &p, 1) && mapped_right(&t, &p, 2));
	CHECK_EQ(vpte_table_destroy(&t), 0);
	vpte_arena_release(&a);
}

/* Page @i of @p holds exactly the leaf @f's codec makes for its PA and
 * @prot (accessed set, as vpte_map() maps). */
static bool encoded_as(const struct vpte_table *t, const struct vpte_format *f,
		       const struct place *p, uint64_t i, struct vpte_prot prot)
{
	const struct vpte_codec *c = f->ops->entry_codec;
	struct vpte_walk w;
	prot.flags |= VPTE_A;
	return !vpte_seek(&w, t, vpte_va(va_of(p, i))) && w.kind == VPTE_LEAF &&
	       w.entry == c->make_leaf(f, p->pa + i * p->page, 0, prot, false);
}

/* The hint keeps the last attributes' encoding: pages mapped into the
 * hinted leaf table with attributes that differ from the page before in
 * one field (a flag, the memory type, a raw bit), each followed by one
 * with the first attributes again, are each encoded for their own. */
static void attributes(const struct vpte_format *f, uint64_t va)
{
	struct hint_mem m;
	struct vpte_table t;
	struct place p = place_at(f, va);
	uint64_t raw_low = f->raw_mask & -f->raw_mask;
	uint64_t raw_high = 1ull << (63 - __builtin_clzll(f->raw_mask));
	const struct vpte_prot changed[] = {
		{ VPTE_R, VPTE_MT_WB, 0 },
		{ VPTE_R | VPTE_W | VPTE_X, VPTE_MT_WB, 0 },
		{ VPTE_R | VPTE_W | VPTE_U, VPTE_MT_WB, 0 },
		{ VPTE_R | VPTE_W | VPTE_G, VPTE_MT_WB, 0 },
		{ VPTE_R | VPTE_W | VPTE_D, VPTE_MT_WB, 0 },
		{ VPTE_R | VPTE_W, VPTE_MT_NC, 0 },
		{ VPTE_R | VPTE_W, VPTE_MT_DEVICE, 0 },
		{ VPTE_R | VPTE_W, VPTE_MT_WB, raw_low },
		{ VPTE_R | VPTE_W, VPTE_MT_WB, raw_high },
	};
	uint64_t i = 2, n = sizeof(changed) / sizeof(changed[0]);
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, false)), 0);
	map_two(&t, &p);
	CHECK(encoded_as(&t, f, &p, 1, rw));
	for (uint64_t k = 0; k < n; k++, i += 2) {
		const struct vpte_prot *q = &changed[k];
		int err = vpte_map(&t, vpte_va(va_of(&p, i)), vpte_pa(p.pa + i * p.page), p.page, *q,
				   NULL);
		CHECK(err == 0 || err == -VPTE_EINVAL); /* not every format has every flag */
		if (err)
			CHECK(!f->ops->entry_codec->prot_ok(f, *q));
		else
			CHECK(encoded_as(&t, f, &p, i, *q));
		CHECK_EQ(map_one(&t, &p, i + 1), 0);
		CHECK(encoded_as(&t, f, &p, i + 1, rw));
	}
	CHECK(t.hint.span == key_of(&p, i - 1));
	hint_mem_done(&t, &m, p.page, "attributes");
}

/* A format whose leaf for @p's page 0 with rw differs from @f's; with
 * @alike, one of @f's levels and granule too that reads @f's table
 * entries as the same tables or as no table (NULL if there is none). */
static const struct vpte_format *other_encoding(const struct vpte_format *f,
						const struct place *p, bool alike)
{
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	struct vpte_prot a = { rw.flags | VPTE_A, rw.memtype, rw.raw };
	uint64_t mine = f->ops->entry_codec->make_leaf(f, p->pa, 0, a, false);
	for (size_t i = 0; i < count; i++) {
		const struct vpte_format *g = formats[i];
		const struct vpte_codec *gc = g->ops->entry_codec;
		uint64_t table = f->ops->entry_codec->make_table(f, p->pa);
		if (alike && (g->levels != f->levels || g->granule_shift != f->granule_shift ||
			      (gc->kind(g, table, 1) == VPTE_TABLE && gc->table_pa(g, table) != p->pa)))
			continue;
		if (g->ops->entry_codec->make_leaf(g, p->pa, 0, a, false) != mine)
			return g;
	}
	return NULL;
}

/* A hint another format recorded (copied into the struct, as
 * after_destroy()'s leftover is) is not used: its attributes' encoding is
 * the other format's. */
static void other_format(const struct vpte_format *f, uint64_t va)
{
	struct hint_mem m, mo;
	struct vpte_table t, o;
	struct place p = place_at(f, va);
	const struct vpte_format *g = other_encoding(f, &p, false);
	struct place q = place_at(g, 5ull << vpte_level_shift(g, 1));
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, false)), 0);
	CHECK_EQ(vpte_table_init(&o, g, hint_mem(&mo, false)), 0);
	map_two(&o, &q);
	CHECK_EQ(map_one(&t, &p, 0), 0);
	t.hint = o.hint;
	CHECK_EQ(map_one(&t, &p, 1), 0);
	CHECK(encoded_as(&t, f, &p, 0, rw) && encoded_as(&t, f, &p, 1, rw));
	CHECK_EQ(map_one(&t, &p, 2), 0);
	CHECK(encoded_as(&t, f, &p, 2, rw));
	CHECK(t.hint.span == key_of(&p, 0));
	hint_mem_done(&o, &mo, q.page, "other format's hint (its table)");
	hint_mem_done(&t, &m, p.page, "other format's hint");
}

/* The same tables attached as another format of the same shape, with the
 * hint of the first copied into it: the path matches entry for entry, but
 * a map through the second is the second format's (an error where it
 * reads the entries as something else than tables), never a use of the
 * first format's encoding. */
static void aliased_format(const struct vpte_format *f, uint64_t va)
{
	struct hint_mem m;
	struct vpte_table t, alias;
	struct place p = place_at(f, va);
	const struct vpte_format *g = other_encoding(f, &p, true);
	if (!g || !f->sign_extend != !g->sign_extend || f->va_bits != g->va_bits)
		return;
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, false)), 0);
	map_two(&t, &p);
	CHECK_EQ(vpte_table_attach(&alias, g, t.mem, t.root, 0), 0);
	alias.hint = t.hint;
	int err = map_one(&alias, &p, 2);
	CHECK(err != 0 || encoded_as(&alias, g, &p, 2, rw));
	hint_mem_done(&t, &m, p.page, "aliased format");
}

/* Pages in three leaf tables in turn, never two in a row in one: no path
 * is recorded (it would never be used); two in a row record one. */
static void in_turn(const struct vpte_format *f, uint64_t va)
{
	struct hint_mem m;
	struct vpte_table t;
	struct place p = place_at(f, va);
	uint64_t per = p.span / p.page;
	CHECK_EQ(vpte_table_init(&t, f, hint_mem(&m, false)), 0);
	for (uint64_t s = 0; s < 3; s++)
		CHECK_EQ(map_one(&t, &p, s * per + per - 1), 0);
	for (uint64_t i = 0; i < 8; i++)
		for (uint64_t s = 0; s < 3; s++)
			CHECK_EQ(map_one(&t, &p, s * per + i), 0);
	CHECK_EQ(t.hint.span, 0);
	CHECK_EQ(map_one(&t, &p, 8), 0);
	CHECK_EQ(t.hint.span, 0);
	CHECK_EQ(map_one(&t, &p, 9), 0);
	CHECK(t.hint.span == key_of(&p, 0));
	for (uint64_t s = 0; s < 3; s++)
		for (uint64_t i = 0; i < 8; i++)
			CHECK(mapped_right(&t, &p, s * per + i));
	CHECK(mapped_right(&t, &p, 8) && mapped_right(&t, &p, 9));
	CHECK_EQ(leaves_in(&t), 3 * 9 + 2);
	hint_mem_done(&t, &m, p.page, "in turn");
}

int main(void)
{
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	for (size_t i = 0; i < count; i++) {
		const struct vpte_format *f = formats[i];
		uint64_t s1 = 1ull << vpte_level_shift(f, 1);
		/* a span in the lower half, and the last span but two */
		uint64_t low = 5 * s1, high = (f->sign_extend ? 0 : 1ull << f->va_bits) - 3 * s1;
		for (int h = 0; h < 2; h++) {
			uint64_t va = h ? high : low;
			consecutive(f, va + (h ? 0 : 7u << f->granule_shift));
			after_unmap(f, va, false);
			after_unmap(f, va, true);
			copied_struct(f, va);
			after_collapse(f, va);
			after_destroy(f, va);
			edited_by_hand(f, va);
			window_moved(f, va);
			attributes(f, va);
			other_format(f, va);
			aliased_format(f, va);
			in_turn(f, va);
		}
	}
	return test_summary("test_map_hint");
}
