/* SPDX-License-Identifier: MIT */
/*
 * map.h - vpte_map: install leaves of the largest fitting size.
 *
 * One walk, run twice.  The first run plans: it reads the table, stops on
 * any conflict or corrupt entry, and counts the tables it would create
 * (a table it would create is "virtual": NULL, read as all empty).  Then
 * exactly that many pages are allocated.  The second run applies, and can
 * no longer fail, so a failed map leaves the table as it was.
 */
#ifndef VPTE_ENGINE_MAP_H
#define VPTE_ENGINE_MAP_H

#include "engine/hint.h"
#include "engine/table.h"
#include "engine/unmap.h"
#include "engine/walk.h"

/* What an apply walk returns when a table its plan counted on is being
 * freed by a concurrent unmap (freeze_table(), unmap.h): plan again. */
#define MAP_RETRY 1

/* Where descend() met an entry that is not a table: the level of the table
 * holding it, that table's physical address and the entry.  Level 0: it
 * met none (a leaf table holds no table entries). */
struct descend_stop {
	unsigned level;
	uint64_t table_pa;
	uint64_t entry;
};

struct map_req {
	uint64_t first, last; /* index addresses, inclusive */
	uint64_t pa;          /* PA of first */
	struct vpte_prot prot;
	unsigned max_shift;   /* 63 when unlimited */
	bool insert;
	bool conc;            /* a concurrent table: entries are claimed (slot_claim()) */
	/* Left by map_one_table() for map_new_tables(): the range is whole
	 * entries of one table at level @one_level (one_table_range()), and
	 * the way down to it stops at @hole. */
	unsigned one_level;
	struct descend_stop hole;
};

VPTE_INLINE bool piece_fits(const struct map_req *r, uint64_t ia, uint64_t pa, unsigned shift)
{
	return shift <= r->max_shift && !((ia | pa) & mask_below(shift)) &&
	       r->last - ia >= mask_below(shift);
}

/*
 * pick_level - the highest leaf level at or below @level whose entry fits
 * at @ia (piece_fits()); 0 when none above 0 does.  Each condition of
 * piece_fits() holds for every shift up to a bound (max_shift, the
 * alignment of @ia and @pa, the size left), so the largest shift that
 * fits is the least of the three, and the level is arithmetic on it
 * rather than a test per level: a map calls this for every stretch of its
 * walk, and the loop of tests was about 40 instructions of it.
 */
VPTE_INLINE unsigned pick_level(const struct vpte_format *f, const struct map_req *r,
				uint64_t ia, uint64_t pa, unsigned level)
{
	uint64_t aligned = ia | pa, left = r->last - ia + 1u; /* ia <= last < 2^57 */
	unsigned fit = 63u - (unsigned)__builtin_clzll(left);
	if (r->max_shift < fit)
		fit = r->max_shift;
	if (aligned && (unsigned)__builtin_ctzll(aligned) < fit)
		fit = (unsigned)__builtin_ctzll(aligned);
	if (fit < g_shift(f, 1))
		return 0;
	unsigned top = (fit - f->granule_shift) / f->level_bits[0];
	if (top > level)
		top = level;
	unsigned leaves = f->leaf_levels & ((2u << top) - 1u) & ~1u;
	return leaves ? 31u - (unsigned)__builtin_clz(leaves) : 0;
}

/* Is the existing leaf @e at @level (covering @ia) the mapping the request
 * asks for there?  Then an insert may keep it. */
VPTE_INLINE bool leaf_matches(const struct vpte_format *f, const struct vpte_codec *c,
			      const struct map_req *r, uint64_t e, unsigned level, uint64_t ia)
{
	uint64_t entry_ia = ia & ~mask_below(g_shift(f, level));
	uint64_t want = r->pa + (entry_ia - r->first);
	return c->leaf_pa(f, e, level, entry_ia) == want &&
	       same_attrs(c->leaf_prot(f, e, level), r->prot);
}

VPTE_INLINE uint64_t plan_load(void *table, unsigned index)
{
	return table ? slot_load(slot_at(table, index)) : 0;
}

/* Are all entries of the run at @ia empty? */
VPTE_INLINE bool run_empty(const struct vpte_format *f, void *table, uint64_t ia, unsigned level)
{
	unsigned first = g_index(f, ia, level), members = 1u << f->cont_bits[level];
	for (unsigned i = 0; i < members; i++)
		if (plan_load(table, first + i))
			return false;
	return true;
}

/* Can a contiguous run start anywhere in the stretch of @level entries that
 * begins at @ia?  Only if the caller allows pieces that large, VA and PA
 * agree modulo the run's size and what is left of the range holds one. */
VPTE_INLINE bool run_possible(const struct vpte_format *f, const struct map_req *r, uint64_t ia,
			      uint64_t pa, unsigned level)
{
	unsigned run_shift = g_shift(f, level) + f->cont_bits[level];
	return f->cont_bits[level] && run_shift <= r->max_shift &&
	       !((ia ^ pa) & mask_below(run_shift)) && r->last - ia >= mask_below(run_shift);
}

/* How map_stretch() treats the table it writes into. */
enum stretch_mode {
	STRETCH_PLAN,    /* count only; @table NULL: a table still to be created */
	STRETCH_LIVE,    /* a table in the tree: write each entry found empty */
	STRETCH_FRESH,   /* published by this walk, on a table that is not
			  * concurrent: the request's entries are empty */
	STRETCH_PRIVATE, /* this walk's, not published yet: plain stores */
};

/*
 * map_stretch - the leaves of one table's level that the request places
 * from @ia on, up to the end of that table or of the range: entry after
 * entry of the same size (no run can start among them), for as long as the
 * entries are empty.  Plan: count them (all of a table still to be
 * created).  Apply: write them; in a table this walk created (fresh or
 * private) without reading them first, since the request's entries there
 * are empty (a concurrent map of a disjoint range writes only others).
 * The first entry is known to be empty.  Returns how many entries were
 * dealt with, at least 1; the walk goes on after them.  In a live table of
 * a concurrent table (@r->conc) each entry is claimed (slot_claim()), and
 * 0 means the first could not be: a concurrent unmap is freezing the
 * table.
 */
VPTE_INLINE uint64_t map_stretch(const struct vpte_format *f, const struct vpte_codec *c,
				 const struct vpte_table *t, const struct map_req *r, void *table,
				 unsigned level, uint64_t ia, uint64_t pa, enum stretch_mode mode)
{
	unsigned shift = g_shift(f, level), first = g_index(f, ia, level);
	uint64_t room = g_entries(f, level) - first, left = (r->last - ia + 1u) >> shift;
	uint64_t n = room < left ? room : left, i = 1;
	/* A local copy: after each atomic load the compiler would re-read
	 * r->prot otherwise. */
	const struct vpte_prot prot = r->prot;
	vpte_slot_t *slot = table ? slot_at(table, first) : NULL;
	if (!table)
		return n;
	if (mode == STRETCH_PLAN) {
		while (i < n && !slot_load(slot + i))
			i++;
		return i;
	}
	uint64_t e = c->make_leaf(f, pa, level, prot, false);
	uint64_t step = n > 1 ? leaf_step(f, c, prot, level, pa, e, n) : 0;
	if (mode == STRETCH_PRIVATE && (step || n == 1)) {
		fill_private(&t->mem, slot, n, e, step);
		return n;
	}
	if (r->conc && mode == STRETCH_LIVE) {
		if (slot_claim(slot, e))
			return 0;
		for (; i < n && !slot_claim(slot + i, step ? e + i * step
							 : c->make_leaf(f, pa + (i << shift), level,
									prot, false));
		     i++)
			;
		return i;
	}
	if (step && mode != STRETCH_LIVE) {
		store_stepped(slot, n, e, step);
		return n;
	}
	slot_store(slot, e);
	if (step) {
		for (; i < n && !slot_load(slot + i); i++)
			slot_store(slot + i, e += step);
	} else if (mode != STRETCH_LIVE) {
		for (; i < n; i++)
			slot_store(slot + i, c->make_leaf(f, pa + (i << shift), level, prot, false));
	} else {
		for (; i < n && !slot_load(slot + i); i++)
			slot_store(slot + i, c->make_leaf(f, pa + (i << shift), level, prot, false));
	}
	return i;
}

/* Tell the observer of @n leaves of 2^shift installed from @ia on, the
 * first mapping @pa. */
VPTE_INLINE void observe_installs(const struct vpte_format *f, const struct vpte_table *t,
				  uint64_t ia, uint64_t pa, unsigned shift, uint64_t n)
{
	if (!t->observer || !t->observer->install)
		return;
	for (uint64_t i = 0; i < n; i++)
		observe_install(t, ia_to_va(f, ia + (i << shift)), pa + (i << shift), shift);
}

/* Publish a new table at @slot (of a table at @level), with release
 * semantics, so readers see the zeroed page zeroed.  On a concurrent table
 * by compare-and-swap (slot_claim()): another writer of a disjoint
 * range may have installed one first; then its table is used and the page
 * goes back.  Elsewhere no other edit runs and the plan saw the entry
 * empty, so a release store does, without a locked instruction.  *@won:
 * the table is the new one.  NULL when the entry is frozen (a concurrent
 * unmap frees the table holding it) or the pool is empty (a table the plan
 * counted on was freed meanwhile): the caller plans again. */
VPTE_INLINE void *install_table(const struct vpte_format *f, const struct vpte_codec *c,
				const struct vpte_table *t, struct vpte_pool *pool,
				vpte_slot_t *slot, unsigned level, bool *won)
{
	*won = false;
	if (!pool->count)
		return NULL;
	vpte_pa_t pa;
	void *table = vpte_pool_take_page(pool, t, true, &pa);
	uint64_t found = 0;
	if (!table_concurrent(t))
		slot_store(slot, c->make_table(f, pa.addr));
	else
		found = slot_claim(slot, c->make_table(f, pa.addr));
	*won = !found;
	if (*won)
		return table;
	vpte_pool_put(pool, t, pa);
	return c->kind(f, found, level) == VPTE_TABLE ? tab_ptr(f, t, c->table_pa(f, found)) : NULL;
}

/*
 * wait_frozen - the entry @slot of the table at @level on @path is frozen:
 * wait until the unmap that froze it has unhooked the table (its parent's
 * entry no longer points to it) or given up (the entry is empty again).
 * The table stays allocated meanwhile: the caller is in a read section.
 */
VPTE_INLINE void wait_frozen(const struct vpte_format *f, const struct vpte_codec *c,
			     const struct vpte_table *t, void **path, unsigned level, uint64_t ia,
			     vpte_slot_t *slot)
{
	if (level == g_top(f)) /* the root is never frozen */
		return;
	vpte_slot_t *parent = slot_at(path[level + 1u], g_index(f, ia, level + 1u));
	for (;;) {
		uint64_t up = slot_load(parent);
		if (slot_load(slot) != SLOT_FROZEN || c->kind(f, up, level + 1u) != VPTE_TABLE ||
		    tab_ptr(f, t, c->table_pa(f, up)) != path[level])
			return;
	}
}

/*
 * map_run - write the @members entries of a leaf (a run when @run) from
 * @slot on, mapping @pa.  With @claim (a live table of a concurrent table)
 * each is claimed; when one cannot be (frozen), those written are emptied
 * again and false returned.
 */
VPTE_INLINE bool map_run(const struct vpte_format *f, const struct vpte_codec *c,
			 const struct map_req *r, vpte_slot_t *slot, unsigned members,
			 unsigned level, uint64_t pa, bool run, bool claim)
{
	unsigned shift = g_shift(f, level);
	for (unsigned i = 0; i < members; i++) {
		uint64_t e = c->make_leaf(f, pa + ((uint64_t)i << shift), level, r->prot, run);
		if (!claim) {
			slot_store(slot + i, e);
		} else if (slot_claim(slot + i, e)) {
			while (i--)
				slot_store(slot + i, 0);
			return false;
		}
	}
	return true;
}

/* Start @cur at the root (struct map_cursor: internal.h). */
VPTE_INLINE int map_cursor_start(const struct vpte_format *f, const struct vpte_table *t,
				 struct map_cursor *cur)
{
	cur->level = g_top(f);
	cur->ia = 0;
	cur->whole = 0;
	cur->whole_pool = NULL;
	cur->path[cur->level] = tab_ptr(f, t, t->root.addr);
	return cur->path[cur->level] ? 0 : -VPTE_EFAULT;
}

/*
 * table_whole - does the request write every entry of a table created under
 * the entry of @level that the walk reaches at @ia, i.e. does that entry's
 * whole span lie in the request's range?  Then every entry of that table
 * gets a leaf, a run member or a table that is itself written whole, and
 * the table is built privately and published once it is full (struct
 * vpte_pool, "tables written whole").  On a concurrent table too: no other
 * edit names an address in such a table's span, so only a neighbour's
 * unmap freeing the table that holds its entry can get in the way, and the
 * publish then finds the entry frozen and gives the subtree up
 * (publish_private()).
 */
VPTE_INLINE bool table_whole(const struct vpte_format *f, const struct map_req *r, uint64_t ia,
			     unsigned level)
{
	uint64_t span = mask_below(g_shift(f, level));
	return !(ia & span) && r->last - ia >= span;
}

/* What map_leaf_tables() returns when a claim found its entry frozen
 * (map_walk() returns MAP_RETRY). */
#define ROWS_FROZEN UINT64_MAX

/*
 * map_leaf_tables - the entries of the table at @level, from @ia on, that
 * each get a new table of same-size leaves one level down, written whole:
 * for as long as their spans lie in the range and they are empty (all of
 * them in a table still to be created, @table NULL, or not published yet,
 * @private).  The caller has found that leaves go one level down
 * (pick_level()) and no run can start there; neither changes along the
 * row, whose entries differ only by their span.  Plan (@pool NULL): count
 * them into @created and @cur->whole, with no walk under them.  Apply: for
 * each a page from the pool, filled (fill_private()) and linked by one
 * release store (a claim on a concurrent table, unless @table is private),
 * with no descent and climb through the general walk per table
 * (docs/performance-log.md item 24).  Returns how many entries were dealt
 * with; 0 when none (the first entry is not empty, or the leaves do not
 * step by PA: leaf_step()), and the general walk takes over; ROWS_FROZEN
 * when a claim found its entry frozen (after wait_frozen()).  The observer
 * hears of the leaves of a private table when it is published.
 */
VPTE_INLINE uint64_t map_leaf_tables(const struct vpte_format *f, const struct vpte_codec *c,
				     const struct vpte_table *t, const struct map_req *r,
				     void *table, bool private, unsigned level, uint64_t ia,
				     uint64_t pa, struct vpte_pool *pool, struct map_cursor *cur,
				     int64_t *created)
{
	unsigned shift = g_shift(f, level), first = g_index(f, ia, level);
	uint64_t room = g_entries(f, level) - first, left = (r->last - ia + 1u) >> shift;
	uint64_t n = room < left ? room : left, i = 0;
	vpte_slot_t *slot = table ? slot_at(table, first) : NULL;
	if (!pool) {
		if (!table)
			i = n;
		while (i < n && !slot_load(slot + i))
			i++;
		*created += (int64_t)i;
		cur->whole += i;
		return i;
	}
	const struct vpte_prot prot = r->prot; /* see map_stretch() */
	uint64_t per = g_entries(f, level - 1u);
	uint64_t e = c->make_leaf(f, pa, level - 1u, prot, false);
	uint64_t step = leaf_step(f, c, prot, level - 1u, pa, e, n * per);
	if (!step)
		return 0;
	bool frozen = false;
	for (; i < n && (private || !slot_load(slot + i)); i++, e += per * step) {
		vpte_pa_t page;
		vpte_slot_t *leaves = vpte_pool_take_page(vpte_pool_for_whole(cur->whole_pool, pool),
							  t, false, &page);
		fill_private(&t->mem, leaves, per, e, step);
		uint64_t entry = c->make_table(f, page.addr);
		if (private || !r->conc) {
			slot_store(slot + i, entry);
		} else if (slot_claim(slot + i, entry)) {
			/* Frozen since the load (table_whole()).  Not back
			 * to the pool: it may be the zeroed one
			 * (vpte_pool_for_whole()).  An entry frozen before
			 * it ended the row: the general walk then builds
			 * the table privately, and publish_private() finds
			 * the entry frozen. */
			t->mem.ops->free(t->mem.ctx, page, g_page(f));
			frozen = true;
			break;
		}
	}
	if (!private)
		observe_installs(f, t, ia, pa, g_shift(f, level - 1u), i * per);
	if (!frozen)
		return i;
	wait_frozen(f, c, t, cur->path, level, ia + (i << shift), slot + i);
	return ROWS_FROZEN;
}

/*
 * publish_private - link the private subtree that the walk built under
 * @pub, the entry at @ia of the table at @level on @path, by @entry (a
 * claim on a concurrent table), and tell the observer of its leaves, which
 * only now are anyone's.  False when the entry was frozen (table_whole()):
 * the subtree is freed, as nobody has seen it, and once the unmap is done
 * (wait_frozen()) the walk plans again.
 */
VPTE_INLINE bool publish_private(const struct vpte_format *f, const struct vpte_codec *c,
				 const struct vpte_table *t, const struct map_req *r, void **path,
				 unsigned level, uint64_t ia, vpte_slot_t *pub, uint64_t entry)
{
	if (!r->conc) {
		slot_store(pub, entry);
	} else if (slot_claim(pub, entry)) {
		free_tables(f, c, t, c->table_pa(f, entry), level - 1u, ia, NULL);
		wait_frozen(f, c, t, path, level, ia, pub);
		return false;
	}
	observe_leaves(f, t, ia, ia + mask_below(g_shift(f, level)), true);
	return true;
}

/*
 * map_walk - plan (@pool NULL: returns the number of tables to create, or
 * an error, and adds those written whole to @cur->whole) or apply (returns
 * 0) one request, from @cur onward; @r must lie above every request the
 * cursor has seen.  On a concurrent table the apply may return MAP_RETRY
 * after writing part of the request.  The apply builds a table written
 * whole (table_whole()) with its subtree before it publishes it: the
 * tables on the path below level @priv are private (never read: their
 * entries are known empty), and @pub, at @pub_ia, is the entry that
 * publishes the outermost, stored when the walk leaves its span
 * (publish_private()).
 */
VPTE_INLINE int64_t map_walk(const struct vpte_format *f, const struct vpte_codec *c,
			     const struct vpte_table *t, const struct map_req *r,
			     struct vpte_pool *pool, struct map_cursor *cur)
{
	void **path = cur->path;
	unsigned level = cur->level;
	int64_t created = 0;
	void *fresh = NULL; /* the last table this walk created and published */
	unsigned priv = 0;
	vpte_slot_t *pub = NULL;
	uint64_t pub_entry = 0, pub_ia = 0;
	uint64_t ia = r->first;

	/* Up to the lowest table on the path whose span holds @ia too. */
	while (level < g_top(f) && ((cur->ia ^ ia) >> g_shift(f, level + 1u)))
		level++;
	for (;;) {
		uint64_t pa = r->pa + (ia - r->first);
		unsigned target = pick_level(f, r, ia, pa, level);
		uint64_t e = 0;
		int kind = VPTE_HOLE;
		uint64_t next; /* the first address after what this iteration dealt with */
		/* Tables of leaves one level down, written whole, in a row. */
		uint64_t rows = target + 1u == level && table_whole(f, r, ia, level) &&
					!run_possible(f, r, ia, pa, target)
				? map_leaf_tables(f, c, t, r, path[level], level < priv, level, ia,
						  pa, pool, cur, &created)
				: 0;
		if (rows == ROWS_FROZEN)
			return MAP_RETRY;

		/* Down to the target level, creating tables on the way. */
		for (; !rows;) {
			e = plan_load(level < priv ? NULL : path[level], g_index(f, ia, level));
			kind = c->kind(f, e, level);
			if (kind == VPTE_KIND_CORRUPT)
				return -VPTE_EFAULT;
			if (kind == VPTE_LEAF || (level == target && kind == VPTE_HOLE))
				break;
			if (kind == VPTE_TABLE) {
				path[level - 1u] = tab_ptr(f, t, c->table_pa(f, e));
				if (!path[level - 1u])
					return -VPTE_EFAULT;
			} else if (!pool) {
				created++;
				cur->whole += table_whole(f, r, ia, level);
				path[level - 1u] = NULL;
			} else if (level < priv || table_whole(f, r, ia, level)) {
				vpte_pa_t page;
				path[level - 1u] = vpte_pool_take_page(
					vpte_pool_for_whole(cur->whole_pool, pool), t, false, &page);
				vpte_slot_t *slot = slot_at(path[level], g_index(f, ia, level));
				if (level < priv) {
					slot_store(slot, c->make_table(f, page.addr));
				} else {
					pub = slot;
					pub_entry = c->make_table(f, page.addr);
					pub_ia = ia; /* aligned: table_whole() */
					priv = level;
				}
			} else {
				bool won;
				vpte_slot_t *slot = slot_at(path[level], g_index(f, ia, level));
				path[level - 1u] = install_table(f, c, t, pool, slot, level, &won);
				if (!path[level - 1u]) {
					wait_frozen(f, c, t, path, level, ia, slot);
					return MAP_RETRY;
				}
				/* On a concurrent table other maps may write
				 * into it: its span is not all the request's
				 * (table_whole()). */
				if (won && !r->conc)
					fresh = path[level - 1u];
			}
			level--;
			/* A table where a leaf was wanted: use smaller leaves in it. */
			if (target > level)
				target = pick_level(f, r, ia, pa, level);
		}

		if (rows) {
			next = ia + (rows << g_shift(f, level));
		} else if (kind == VPTE_LEAF) {
			/* Something is mapped here already (at @level >= target). */
			if (!r->insert || !leaf_matches(f, c, r, e, level, ia))
				return -VPTE_EEXIST;
			next = span_next(ia, leaf_shift(f, c, e, level));
		} else if (!run_possible(f, r, ia, pa, level)) {
			/* Same-size leaves to the end of this table or range. */
			enum stretch_mode mode = !pool ? STRETCH_PLAN
						 : level < priv ? STRETCH_PRIVATE
						 : path[level] == fresh ? STRETCH_FRESH
						 : STRETCH_LIVE;
			uint64_t n = map_stretch(f, c, t, r, path[level], level, ia, pa, mode);
			if (!n) {
				wait_frozen(f, c, t, path, level, ia,
					    slot_at(path[level], g_index(f, ia, level)));
				return MAP_RETRY;
			}
			if (pool && level >= priv)
				observe_installs(f, t, ia, pa, g_shift(f, level), n);
			next = ia + (n << g_shift(f, level));
		} else {
			unsigned entry_shift = g_shift(f, level);
			unsigned run_shift = entry_shift + f->cont_bits[level];
			bool run = f->cont_bits[level] && piece_fits(r, ia, pa, run_shift) &&
				   run_empty(f, level < priv ? NULL : path[level], ia, level);
			unsigned members = run ? 1u << f->cont_bits[level] : 1u;
			unsigned step = run ? run_shift : entry_shift;
			if (pool) {
				vpte_slot_t *slot = slot_at(path[level], g_index(f, ia, level));
				if (!map_run(f, c, r, slot, members, level, pa, run,
					     r->conc && level >= priv)) {
					wait_frozen(f, c, t, path, level, ia, slot);
					return MAP_RETRY;
				}
				if (level >= priv)
					observe_installs(f, t, ia, pa, step, 1);
			}
			next = span_next(ia, step);
		}

		if (next > r->last || next > g_ia_mask(f)) {
			if (priv && !publish_private(f, c, t, r, path, priv, pub_ia, pub, pub_entry))
				return MAP_RETRY;
			cur->level = level;
			cur->ia = ia;
			return created;
		}
		ia = next;
		while (level < g_top(f) && !(ia & mask_below(g_shift(f, level + 1u))))
			level++;
		if (priv && level >= priv) {
			if (!publish_private(f, c, t, r, path, priv, pub_ia, pub, pub_entry))
				return MAP_RETRY;
			priv = 0;
		}
	}
}

/* Is the request whole entries of @level in one table of that level, with
 * no run possible?  Then its leaves are one stretch (map_stretch()). */
VPTE_INLINE bool one_table_range(const struct vpte_format *f, const struct map_req *r,
				 unsigned level)
{
	/* Level 0 entries are granules, which the range is made of already. */
	return !(level < g_top(f) && ((r->first ^ r->last) >> g_shift(f, level + 1u))) &&
	       !(level && ((r->last + 1u) & mask_below(g_shift(f, level)))) &&
	       !run_possible(f, r, r->first, r->pa, level);
}

/*
 * fill_one_table - the end of map_one_table() in the table found at
 * @level, the request being whole entries of it with no run possible
 * (one_table_range()): if they are all empty, write them, tell the
 * observer and return true.
 */
VPTE_INLINE bool fill_one_table(const struct vpte_format *f, const struct vpte_codec *c,
				const struct vpte_table *t, const struct map_req *r, void *table,
				unsigned level)
{
	uint64_t ia = r->first;
	unsigned shift = g_shift(f, level);
	uint64_t n = ((r->last - ia) >> shift) + 1u;
	const struct vpte_prot prot = r->prot; /* see map_stretch() */
	vpte_slot_t *slot = slot_at(table, g_index(f, ia, level));
	if (n == 1) { /* a single page: no loops to set up */
		if (slot_load(slot))
			return false;
		slot_store(slot, c->make_leaf(f, r->pa, level, prot, false));
		observe_installs(f, t, ia, r->pa, shift, 1);
		return true;
	}
	if (entries_or(slot, n))
		return false;
	uint64_t e = c->make_leaf(f, r->pa, level, prot, false);
	uint64_t step = n > 1 ? leaf_step(f, c, prot, level, r->pa, e, n) : 0;
	if (step) {
		store_stepped(slot, n, e, step);
	} else {
		slot_store(slot, e);
		for (uint64_t i = 1; i < n; i++)
			slot_store(slot + i, c->make_leaf(f, r->pa + (i << shift), level, prot, false));
	}
	observe_installs(f, t, ia, r->pa, shift, n);
	return true;
}

/*
 * descend - from the root down to the table at @level on the path of @ia
 * through table entries only (unrolled: each level's geometry and entry
 * tests are constants); @direct: through the direct window only
 * (view_table()).  False when an entry on the way is anything but a table
 * or a table cannot be reached.  @hint (a constant NULL but for
 * map_page()): record the path into it (hint.h), for a descent to level 0
 * through the window.  @stop (may be NULL): where an entry on the way is
 * not a table (struct descend_stop), *@table then pointing to the table
 * holding it; untouched otherwise.
 */
VPTE_INLINE bool descend(const struct vpte_format *f, const struct vpte_codec *c,
			 const struct vpte_table *t, uint64_t ia, unsigned level, bool direct,
			 void **table, struct vpte_map_hint *hint, struct descend_stop *stop)
{
	const struct mem_view view = mem_view(f, t);
	uint64_t pa = t->root.addr;
	if (hint)
		hint_start(hint);
	if (!view_table(f, &view, pa, direct, table))
		return false;
	VPTE_UNROLL_LEVELS
	for (unsigned i = 0; i + 1u < f->levels; i++) {
		unsigned at = g_top(f) - i;
		if (at == level)
			break;
		vpte_slot_t *slot = slot_at(*table, g_index(f, ia, at));
		uint64_t e = slot_load(slot);
		if (c->kind(f, e, at) != VPTE_TABLE) {
			if (stop)
				*stop = (struct descend_stop){ at, pa, e };
			return false;
		}
		pa = c->table_pa(f, e);
		if (!view_table(f, &view, pa, direct, table))
			return false;
		if (hint)
			hint_step(hint, i, slot, e);
	}
	if (hint)
		hint_finish(f, t, hint, &view, ia, *table);
	return true;
}

/* map_one_table() with the leaf level known: if the range is one table's
 * (one_table_range()), descend() to the table at @level, then
 * fill_one_table(); a descent that stops at an entry on the way is left in
 * @r for map_new_tables(). */
VPTE_INLINE bool map_one_table_at(const struct vpte_format *f, const struct vpte_codec *c,
				  const struct vpte_table *t, struct map_req *r, unsigned level)
{
	void *table;
	if (!one_table_range(f, r, level))
		return false;
	r->one_level = level;
	return descend(f, c, t, r->first, level, false, &table, NULL, &r->hole) &&
	       fill_one_table(f, c, t, r, table, level);
}

/* The leaves' level of a request that lies in one table (map_one_table()):
 * a range smaller than a level 1 entry can only have level 0 leaves (no
 * pick_level()). */
VPTE_INLINE unsigned one_table_level(const struct vpte_format *f, const struct map_req *r)
{
	if (r->last - r->first < mask_below(g_shift(f, 1)))
		return 0;
	return pick_level(f, r, r->first, r->pa, g_top(f));
}

/*
 * map_one_table - the single walk for a range that lies in one existing
 * table as whole entries of one size, with no run possible (a single page,
 * 256 pages into a populated leaf table): check that every entry is empty,
 * then write them all.  Nothing is written unless every check passed, so
 * the edit is all-or-nothing without a separate plan.  Returns true when
 * done; false leaves the table untouched for the plan-then-apply walk
 * (tables to create, entries in use, runs, several tables), which also
 * reports any error.  The leaf tables get their own copy of the walk, with
 * the level a constant.
 */
VPTE_INLINE bool map_one_table(const struct vpte_format *f, const struct vpte_codec *c,
			       const struct vpte_table *t, struct map_req *r)
{
	unsigned level = one_table_level(f, r);
	return level == 0 ? map_one_table_at(f, c, t, r, 0) : map_one_table_at(f, c, t, r, level);
}

/*
 * map_new_tables - the single walk for a range that would lie in one table
 * as whole entries of one size (one_table_range()) but whose way down to
 * that table stops at an empty entry, as map_one_table() found it
 * (@r->hole, nothing having changed since): every table from there down is new,
 * one a level, and the range's leaves all go to the last.  They are built
 * privately and published by one store into the empty entry, as the
 * general walk does with tables written whole (a 1 GiB map of 2 MiB
 * leaves; a page where its leaf table is missing), but without its plan
 * and apply walks, whose fixed cost was most of such a call
 * (docs/performance-log.md item 51).  A table that is not concurrent only: no
 * other edit runs.  Returns 1 when done, 0 when the range is not such
 * (nothing changed: the general walk takes it), -VPTE_ENOMEM with nothing
 * changed.
 */
VPTE_INLINE int map_new_tables(const struct vpte_format *f, const struct vpte_codec *c,
			       const struct vpte_table *t, const struct map_req *r)
{
	unsigned level = r->one_level, at = r->hole.level;
	if (!at || r->hole.entry)
		return 0;
	/* The leaves' table is written whole when the range is all of it. */
	bool whole = r->last - r->first == mask_below(g_shift(f, level + 1u));
	vpte_pa_t pages[VPTE_MAX_LEVELS]; /* one a level, from @at - 1 down */
	if (vpte_pages_alloc(t, at - level - whole, at - level, pages))
		return -VPTE_ENOMEM;
	/* Translated after the allocation, which may move the table's memory. */
	void *table = tab_ptr(f, t, r->hole.table_pa);
	vpte_slot_t *hole = slot_at(table, g_index(f, r->first, at)), *link = NULL;
	uint64_t top = 0;
	for (unsigned l = at; l > level; l--) {
		uint64_t page = pages[at - l].addr;
		table = tab_ptr(f, t, page);
		if (link)
			slot_store(link, c->make_table(f, page));
		else
			top = c->make_table(f, page);
		link = slot_at(table, g_index(f, r->first, l - 1u));
	}
	uint64_t n = map_stretch(f, c, t, r, table, level, r->first, r->pa, STRETCH_PRIVATE);
	slot_store(hole, top);
	observe_installs(f, t, r->first, r->pa, g_shift(f, level), n);
	return 1;
}

/* Validate a map of [va, va + size) to pa with @prot; fill @r without options. */
VPTE_INLINE int map_req_init(const struct vpte_format *f, const struct vpte_codec *c,
			     struct map_req *r, vpte_va_t va, vpte_pa_t pa, uint64_t size,
			     struct vpte_prot prot)
{
	*r = (struct map_req){ .pa = pa.addr, .prot = prot, .max_shift = 63 };
	int err = check_va_range(f, va.addr, size, true, &r->first, &r->last);
	if (err)
		return err;
	if (pa.addr & mask_below(f->granule_shift) || pa.addr + (size - 1u) < pa.addr)
		return -VPTE_EINVAL;
	if ((pa.addr + (size - 1u)) >> f->pa_bits)
		return -VPTE_ERANGE;
	return check_prot(f, c, prot);
}

/*
 * eng_map_piece - plan (@pool NULL: returns the tables to create) or apply
 * one piece of a batch (struct vpte_piece); the batch's pieces come in
 * ascending address order and share @cur.  Validated like vpte_map(), with
 * the attributes exactly as given (a copy keeps accessed clear).
 */
VPTE_INLINE int64_t eng_map_piece(const struct vpte_format *f, const struct vpte_codec *c,
				  const struct vpte_table *t, const struct vpte_piece *p,
				  struct vpte_pool *pool, struct map_cursor *cur)
{
	struct map_req r;
	int err = map_req_init(f, c, &r, p->va, p->pa, p->size, p->prot);
	return err ? err : map_walk(f, c, t, &r, pool, cur);
}

/*
 * struct map_gaps - the stretches of a concurrent map's range that were
 * empty before it wrote anything: where its leaves can be, so what an undo
 * (map_concurrent()) removes.  All of the range (@whole) unless the map is
 * an insert that found leaves there, which must stay.  The stretches are
 * kept as (first, last) pairs of index addresses in pages of the table's
 * memory, after each page's link word (the address of the page before;
 * @head is the newest), allocated before the map writes anything: the core
 * has no other memory, and how many there are depends on the leaves found.
 */
struct map_gaps {
	vpte_pa_t head;
	uint64_t pages;
	unsigned used; /* pairs in the newest page; older pages are full */
	bool whole;
};

VPTE_INLINE unsigned gaps_per_page(const struct vpte_format *f)
{
	return (unsigned)((g_page(f) / sizeof(uint64_t) - 1u) / 2u);
}

VPTE_INLINE int gaps_add(const struct vpte_format *f, const struct vpte_table *t,
			 struct map_gaps *gaps, uint64_t first, uint64_t last)
{
	uint64_t *page;
	if (!gaps->pages || gaps->used == gaps_per_page(f)) {
		vpte_pa_t pa;
		if (t->mem.ops->alloc(t->mem.ctx, g_page(f), g_page(f), &pa))
			return -VPTE_ENOMEM;
		page = tab_ptr(f, t, pa.addr);
		page[0] = gaps->head.addr;
		gaps->head = pa;
		gaps->pages++;
		gaps->used = 0;
	} else {
		page = tab_ptr(f, t, gaps->head.addr);
	}
	page[1u + 2u * gaps->used] = first;
	page[2u + 2u * gaps->used] = last;
	gaps->used++;
	return 0;
}

/* Free the pages of @gaps. */
VPTE_INLINE void gaps_free(const struct vpte_format *f, const struct vpte_table *t,
			   struct map_gaps *gaps)
{
	for (; gaps->pages; gaps->pages--) {
		vpte_pa_t pa = gaps->head;
		gaps->head = vpte_pa(*(const uint64_t *)tab_ptr(f, t, pa.addr));
		t->mem.ops->free(t->mem.ctx, pa, g_page(f));
	}
}

/* Fill @gaps for @r before its first apply; on failure nothing is kept. */
VPTE_INLINE int gaps_record(const struct vpte_format *f, const struct vpte_codec *c,
			    const struct vpte_table *t, const struct map_req *r,
			    struct map_gaps *gaps)
{
	struct vpte_walk w;
	uint64_t from = r->first; /* the first address no leaf seen covers */
	bool to_end = false;
	int ret, err = 0;
	if (!r->insert)
		return 0;
	for (ret = eng_iter_start(f, c, &w, t, vpte_va(ia_to_va(f, r->first)),
				  r->last - r->first + 1u, VPTE_ITER_LEAVES);
	     ret > 0; ret = eng_iter_next(f, c, &w)) {
		uint64_t start = w.va.addr & g_ia_mask(f), end = start + mask_below(w.shift);
		gaps->whole = false;
		if (start > from && (err = gaps_add(f, t, gaps, from, start - 1u)))
			break;
		if ((to_end = end >= r->last))
			break;
		from = end + 1u;
	}
	if (!err && ret < 0)
		err = ret;
	if (!err && !gaps->whole && !to_end)
		err = gaps_add(f, t, gaps, from, r->last);
	if (err)
		gaps_free(f, t, gaps);
	return err;
}

/* Remove the leaves in @gaps (the map's own: its range is the caller's
 * alone), telling the observer and @g, like an unmap. */
VPTE_INLINE void gaps_clear(const struct vpte_format *f, const struct vpte_codec *c,
			    const struct vpte_table *t, const struct map_req *r,
			    const struct map_gaps *gaps, struct vpte_gather *g)
{
	if (gaps->whole) {
		observe_leaves(f, t, r->first, r->last, false);
		clear_range(f, c, t, g, r->first, r->last);
		return;
	}
	vpte_pa_t pa = gaps->head;
	for (uint64_t p = 0, n = gaps->used; p < gaps->pages; p++, n = gaps_per_page(f)) {
		const uint64_t *page = tab_ptr(f, t, pa.addr);
		for (uint64_t i = 0; i < n; i++) {
			observe_leaves(f, t, page[1u + 2u * i], page[2u + 2u * i], false);
			clear_range(f, c, t, g, page[1u + 2u * i], page[2u + 2u * i]);
		}
		pa = vpte_pa(page[0]);
	}
}

/*
 * map_concurrent - vpte_map on a concurrent table: plan, fill the pools
 * (zeroed pages, and pages for the tables written whole), apply; when the
 * apply finds that a concurrent unmap is freeing a table it writes into
 * (MAP_RETRY), plan again from where the table stands, with
 * the leaves the first apply wrote accepted as already there (insert), and
 * apply again.  The range is the caller's alone, so every leaf found in it
 * after the first plan is this map's or was there before.  If the pages a
 * later plan needs cannot be had, the leaves written are removed again
 * (those in the stretches that were empty before, struct map_gaps: whole
 * leaves, no allocation), so the map is still all or nothing.
 */
VPTE_INLINE int map_concurrent(const struct vpte_format *f, const struct vpte_codec *c,
			       const struct vpte_table *t, struct map_req *r)
{
	struct vpte_pool pool = { 0 }, whole = { 0 };
	struct map_gaps gaps = { vpte_pa(0), 0, 0, true };
	struct map_cursor cur;
	bool retry = false;
	int err = 0;
	for (;;) {
		if ((err = map_cursor_start(f, t, &cur)))
			break;
		int64_t tables = map_walk(f, c, t, r, NULL, &cur);
		if (tables < 0) {
			err = (int)tables;
			break;
		}
		if ((!retry && (err = gaps_record(f, c, t, r, &gaps))) ||
		    (err = vpte_pools_fill(&pool, (uint64_t)tables - cur.whole, &whole, cur.whole,
					       t)))
			break;
		map_cursor_start(f, t, &cur);
		cur.whole_pool = &whole;
		if (!map_walk(f, c, t, r, &pool, &cur))
			break;
		retry = true;
		r->insert = true;
	}
	vpte_pool_drain(&pool, t);
	vpte_pool_drain(&whole, t);
	if (err && retry) {
		struct vpte_gather local;
		vpte_gather_init(&local, t, NULL, NULL);
		gaps_clear(f, c, t, r, &gaps, &local);
		vpte_gather_finish(&local);
	}
	gaps_free(f, t, &gaps);
	return err;
}

/*
 * va_in_space - is @va an address of the format's VA space (canonical when
 * sign-extended)?
 */
VPTE_INLINE bool va_in_space(const struct vpte_format *f, uint64_t va)
{
	if (f->sign_extend)
		return !((va + (1ull << (f->va_bits - 1u))) >> f->va_bits);
	return !(va >> f->va_bits);
}

/* What map_page() did: the page is mapped; the call is one page with no
 * options but the hint did not do for it (map_page_slow() next); the call
 * is for the full way (eng_map()). */
enum map_page_result { PAGE_MAPPED, PAGE_SLOW, PAGE_FULL };

/* The table takes a single-page map the short way: writable, not
 * concurrent, not observed. */
VPTE_INLINE bool map_page_table_ok(const struct vpte_table *t)
{
	/* One test of the two pointers (table_concurrent(): a reclaim). */
	return !(t->flags & VPTE_TABLE_READONLY) &&
	       !((uintptr_t)t->observer | (uintptr_t)t->reclaim);
}

/* Map @pa at @va with the hint's attributes into @va's entry of the leaf
 * table @table if it is empty (the end of map_page() and
 * map_page_slow()). */
VPTE_INLINE bool map_page_store(const struct vpte_format *f, const struct vpte_codec *c,
				const struct vpte_table *t, void *table, uint64_t va, uint64_t pa)
{
	/* Indexed by the VA itself: g_index() drops the bits above va_bits. */
	vpte_slot_t *slot = slot_at(table, g_index(f, va, 0));
	if (slot_load(slot))
		return false;
	slot_store(slot, hint_leaf(f, c, &t->hint, pa));
	return true;
}

/*
 * map_page - the common vpte_map (one per page fault) in a function short
 * enough to need no stack frame: one granule page, no options, with the
 * attributes of the map before, into the leaf table of the map before
 * (the hint, hint.h: its path unchanged), on a writable table that is
 * neither concurrent nor observed, the page's entry empty.  Its tests
 * accept only that, and cover the validation: the hint's key equal means
 * a granule-aligned VA in the VA space (hint_key()), the attributes equal
 * to the hint's passed prot_ok() (hint_prot()), and for a granule-aligned
 * page a PA below 2^pa_bits is what map_req_init() requires of its first
 * and last byte.  Anything else returns PAGE_SLOW or PAGE_FULL having
 * changed nothing: out of line, map_page_slow() validates again and
 * descends, and eng_map() validates from the start and returns the exact
 * error.
 */
VPTE_INLINE enum map_page_result map_page(const struct vpte_format *f,
					  const struct vpte_codec *c, struct vpte_table *t,
					  vpte_va_t va, vpte_pa_t pa, uint64_t size,
					  struct vpte_prot prot, const struct vpte_map_opts *opts)
{
	void *table;
	if (__builtin_expect(opts || size != g_page(f), 0))
		return PAGE_FULL;
	/* The table's state first: the hint's slots may be in tables that a
	 * concurrent table's other threads free. */
	if (__builtin_expect(!map_page_table_ok(t) ||
				     !hint_leaf_table(f, t, hint_key(f, va.addr), &table) ||
				     !hint_pa_ok(f, pa.addr) || !hint_prot_is(&t->hint, prot) ||
				     !map_page_store(f, c, t, table, va.addr, pa.addr),
			     0))
		return PAGE_SLOW;
	return PAGE_MAPPED;
}

/*
 * map_page_slow - map_page() for a single page with no options that did
 * not go the short way: validate (va_in_space() and a PA below 2^pa_bits
 * are, for a granule-aligned page, exactly what check_va_range() and
 * map_req_init() require of its first and last byte), make @prot the
 * hint's attributes, reach the leaf table through the hint or the
 * descent (which records the path when hint_record() says so) and map.
 * False when the page is for the full way (a bad argument, a table
 * missing or off the window, the entry in use): nothing was mapped.
 */
VPTE_INLINE bool map_page_slow(const struct vpte_format *f, const struct vpte_codec *c,
			       struct vpte_table *t, vpte_va_t va, vpte_pa_t pa,
			       struct vpte_prot prot)
{
	struct vpte_map_hint *h = &t->hint;
	uint64_t key = hint_key(f, va.addr);
	void *table;
	if ((va.addr & mask_below(f->granule_shift)) || !va_in_space(f, va.addr) ||
	    !hint_pa_ok(f, pa.addr) || !map_page_table_ok(t) || !hint_prot(f, c, h, prot))
		return false;
	if (!hint_leaf_table(f, t, key, &table)) {
		bool found = hint_record(h, key) ?
				     descend(f, c, t, va.addr, 0, true, &table, h, NULL) :
				     descend(f, c, t, va.addr, 0, true, &table, NULL, NULL);
		if (!found)
			return false;
	}
	return map_page_store(f, c, t, table, va.addr, pa.addr);
}

/*
 * eng_map - vpte_map: validate, then map_one_table() or, when that does
 * not apply, @tables: the format's eng_map_tables(), out of line
 * (instantiate.h) so that this path stays small (no registers to save, no
 * stack frame for the general walk).  The format's entry point tries
 * map_page() first and calls this out of line.
 */
VPTE_INLINE int eng_map(const struct vpte_format *f, const struct vpte_codec *c,
			struct vpte_table *t, vpte_va_t va, vpte_pa_t pa, uint64_t size,
			struct vpte_prot prot, const struct vpte_map_opts *opts,
			int (*tables)(struct vpte_table *t, const struct map_req *r))
{
	struct map_req r;
	if (t->flags & VPTE_TABLE_READONLY)
		return -VPTE_EROFS;
	int err = map_req_init(f, c, &r, va, pa, size, prot);
	if (err)
		return err;
	if (opts) {
		if ((opts->flags & ~VPTE_MAP_INSERT) ||
		    (opts->max_shift && (opts->max_shift < f->granule_shift || opts->max_shift > 63)))
			return -VPTE_EINVAL;
		if (opts->max_shift)
			r.max_shift = opts->max_shift;
		r.insert = opts->flags & VPTE_MAP_INSERT;
	}
	r.prot.flags |= VPTE_A;
	r.conc = table_concurrent(t);
	if (!r.conc && map_one_table(f, c, t, &r))
		return 0;
	return tables(t, &r);
}

/*
 * eng_map_tables - the rest of vpte_map for a validated request
 * (eng_map()): plan, fill the pool, apply; on a concurrent table
 * map_concurrent().
 */
VPTE_INLINE int eng_map_tables(const struct vpte_format *f, const struct vpte_codec *c,
			       struct vpte_table *t, const struct map_req *r)
{
	int err;
	if (r->conc) {
		struct map_req retried = *r; /* map_concurrent() changes it */
		return map_concurrent(f, c, t, &retried);
	}

	if ((err = map_new_tables(f, c, t, r)))
		return err < 0 ? err : 0;
	struct map_cursor cur;
	if ((err = map_cursor_start(f, t, &cur)))
		return err;
	int64_t tables = map_walk(f, c, t, r, NULL, &cur);
	if (tables < 0)
		return (int)tables;
	struct vpte_pool pool = { 0 }, whole = { 0 };
	if ((err = vpte_pools_fill(&pool, (uint64_t)tables - cur.whole, &whole, cur.whole, t)))
		return err;
	/* From the root again, translated anew: filling the pool may have
	 * moved the table's memory (an arena that grows). */
	map_cursor_start(f, t, &cur);
	cur.whole_pool = &whole;
	map_walk(f, c, t, r, &pool, &cur);
	vpte_pool_drain(&pool, t);
	vpte_pool_drain(&whole, t);
	return 0;
}

#endif
