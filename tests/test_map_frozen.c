/* SPDX-License-Identifier: MIT */
/*
 * test_map_frozen.c - a concurrent map that builds tables written whole
 * while a neighbour's unmap frees the table their entries are in
 * (docs/concurrency.md "A map whose table goes"): the map must give up
 * what it built, plan again and end with its range mapped once, its
 * observer told of each leaf once, and no page leaked.
 *
 * The unmap is run from inside the map: the table's memory has no direct
 * window, so the map reaches every table through phys_to_virt, and the
 * callback unmaps the neighbour's only page when the map's apply (after
 * its pool was filled) reaches the table P that holds the map's first
 * entry, or at the next translation, the first page the apply takes from
 * its pool.  That empties P, which the unmap freezes and unhooks; the map
 * then finds P's entries frozen.  Three shapes, each on every format with
 * room for it:
 *
 *   row      P at level 1, the map is one entry of it in granule leaves:
 *            a leaf table written whole; the unmap at P, so the map reads
 *            the entry frozen, builds the table privately and finds the
 *            entry frozen when it publishes it (publish_private());
 *   claim    the same with two entries, the unmap at the page taken for
 *            the first, which map_leaf_tables() fills and then claims;
 *   subtree  P at level 2, the map is one entry of it in granule leaves:
 *            a private level 1 table and its leaf tables, published by
 *            one claim in P once built (publish_private()).
 *
 * The unmap's pages are retired through a reclaim hook that holds them
 * until the map is over, as an epoch would while the map is in its read
 * section.
 */
#include "testlib.h"

#define MAX_RETIRED 16

struct frozen {
	struct test_mem m; /* first: the test_mem callbacks get this as ctx */
	struct vpte_table t;
	uint64_t p;            /* the PA of table P */
	uint64_t allocs_before; /* m.allocs when the map began */
	bool armed, after_p, at_next, fired;
	vpte_va_t neighbour;   /* the page the unmap removes */
	int unmap_err;
	vpte_pa_t retired[MAX_RETIRED];
	unsigned n_retired;
	/* what the observer heard */
	uint64_t installed, installs_outside, removed;
	vpte_va_t map_va;
	uint64_t map_size;
};

static void *frozen_virt(void *ctx, vpte_pa_t pa, uint64_t size)
{
	struct frozen *fz = ctx;
	/* The plan reaches P before any allocation, the apply after. */
	bool at_p = pa.addr == fz->p && fz->m.allocs > fz->allocs_before;
	if (fz->armed && (at_p ? !fz->after_p : fz->at_next)) {
		fz->armed = false;
		fz->fired = true;
		fz->unmap_err = vpte_unmap(&fz->t, fz->neighbour,
					   1ull << fz->t.fmt->granule_shift, NULL);
	}
	fz->at_next = fz->armed && at_p;
	return test_mem_virt(ctx, pa, size);
}

static const struct vpte_mem_ops frozen_ops = { test_mem_alloc, test_mem_free, frozen_virt,
						 test_mem_alloc_uninit, test_mem_alloc_batch, NULL };

static void hold(void *ctx, const struct vpte_mem *mem, vpte_pa_t pa, uint64_t size)
{
	struct frozen *fz = ctx;
	(void)mem;
	(void)size;
	CHECK(fz->n_retired < MAX_RETIRED);
	if (fz->n_retired < MAX_RETIRED)
		fz->retired[fz->n_retired++] = pa;
}

static void on_install(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift)
{
	struct frozen *fz = ctx;
	(void)pa;
	if (va.addr >= fz->map_va.addr && va.addr - fz->map_va.addr < fz->map_size)
		fz->installed += 1ull << shift;
	else
		fz->installs_outside++;
}

static void on_remove(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift)
{
	struct frozen *fz = ctx;
	(void)va;
	(void)pa;
	fz->removed += 1ull << shift;
}

static unsigned level_shift(const struct vpte_format *f, unsigned level)
{
	return f->granule_shift + level * f->level_bits[0];
}

/* The map of @entries entries of P from the second on, P at @p_level, in
 * granule leaves, while the unmap of the only page under P's first entry
 * frees P: when the map reaches P, or @after_p, at the next translation. */
static void map_while_frozen(const struct vpte_format *f, unsigned p_level, unsigned entries,
			     bool after_p)
{
	struct frozen fz;
	const uint64_t page = 1ull << f->granule_shift, entry = 1ull << level_shift(f, p_level);
	const uint64_t size = entries * entry;
	const uint64_t pa = 1ull << 32;
	struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	struct vpte_reclaim reclaim = { hold, &fz };
	struct vpte_observer observer = { on_install, on_remove, NULL, NULL, &fz };
	struct vpte_map_opts pages = { .max_shift = f->granule_shift };
	struct vpte_mem mem = { &frozen_ops, &fz, NULL };
	struct vpte_walk w;

	memset(&fz, 0, sizeof(fz));
	fz.neighbour = vpte_va(0);
	fz.map_va = vpte_va(entry);
	fz.map_size = size;
	fz.after_p = after_p;
	CHECK_EQ(vpte_table_init(&fz.t, f, mem), 0);
	CHECK_EQ(vpte_map(&fz.t, fz.neighbour, vpte_pa(pa), page, rw, NULL), 0);
	/* P: what the table entry one level up on the neighbour's path
	 * points to. */
	vpte_for_each_entry(&w, &fz.t, fz.neighbour, page, VPTE_ITER_TABLES)
	{
		if (w.kind == VPTE_TABLE && w.level == p_level + 1u)
			fz.p = w.pa.addr;
	}
	CHECK(fz.p != 0);
	vpte_table_set_reclaim(&fz.t, &reclaim);
	vpte_table_set_observer(&fz.t, &observer);

	fz.allocs_before = fz.m.allocs;
	fz.armed = true;
	CHECK_EQ(vpte_map(&fz.t, fz.map_va, vpte_pa(pa + entry), size, rw, &pages), 0);
	CHECK(fz.fired);
	CHECK_EQ(fz.unmap_err, 0);
	/* P went, with the tables below it. */
	CHECK(fz.n_retired >= p_level + 1u);

	/* The range is mapped, once, in granule leaves at their PAs, and the
	 * neighbour's page is not. */
	uint64_t bytes = 0;
	bool pa_ok = true;
	vpte_for_each_leaf(&w, &fz.t, fz.map_va, size)
	{
		bytes += 1ull << w.shift;
		pa_ok &= w.shift == f->granule_shift &&
			 w.pa.addr == pa + entry + (w.va.addr - fz.map_va.addr);
	}
	CHECK_EQ(w.error, 0);
	CHECK_EQ(bytes, size);
	CHECK(pa_ok);
	CHECK_EQ(vpte_seek(&w, &fz.t, fz.neighbour), 0);
	CHECK_EQ(w.kind, VPTE_HOLE);
	CHECK_EQ(fz.installed, size);
	CHECK_EQ(fz.installs_outside, 0);
	CHECK_EQ(fz.removed, page);

	/* The grace period ends; then every page is accounted for. */
	for (unsigned i = 0; i < fz.n_retired; i++)
		test_mem_free(&fz.m, fz.retired[i], page);
	vpte_table_set_observer(&fz.t, NULL);
	vpte_table_set_reclaim(&fz.t, NULL);
	CHECK_EQ(vpte_table_destroy(&fz.t), 0);
	CHECK_EQ(fz.m.live, 0);
}

static void cases(const struct vpte_format *f)
{
	/* P must not be the root, which is never freed; and a subtree of
	 * granule leaves under a level 2 entry is 512 MiB of tables with
	 * 64 KiB granules: those formats have three levels anyway. */
	if (f->levels > 2) {
		map_while_frozen(f, 1, 1, false);
		map_while_frozen(f, 1, 2, true);
	}
	if (f->levels > 3)
		map_while_frozen(f, 2, 1, false);
}

int main(void)
{
	return test_every_format("test_map_frozen", cases);
}
