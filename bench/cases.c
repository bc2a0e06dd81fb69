/* SPDX-License-Identifier: MIT */
/* cases.c - the states, the timed operations and the case table. */
#include "cases.h"

#include <stdlib.h>
#include <string.h>

#include "pair.h"

#define RANGE_ENTRIES 256u /* the "256 x 4 KiB" case */
#define SEEK_SEED 0x2545f4914f6cdd1dull

/* ---- geometry ---- */

static inline uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The offsets of the single maps of ST_SLOTS (leaf table k gets entries 0
 * to per_table - 2; the last holds the resident leaf) in a random order,
 * the same every run: consecutive maps land in different leaf tables. */
static uint64_t *scattered_slots(const struct bench_env *e)
{
	uint64_t n = e->region >> e->gshift, per = e->per_table - 1u, x = SEEK_SEED;
	uint64_t *off = malloc(n * sizeof(*off));
	if (!off)
		return NULL;
	for (uint64_t i = 0; i < n; i++)
		off[i] = ((i / per) << e->l1shift) + ((i % per) << e->gshift);
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = xorshift(&x) % (i + 1), o = off[i];
		off[i] = off[j];
		off[j] = o;
	}
	return off;
}

int env_init(struct bench_env *e, const struct vpte_format *fmt, bool quick)
{
	*e = (struct bench_env){ 0 };
	e->fmt = fmt;
	e->handwritten = fmt == vpte_format_by_name("x86_64");
	e->gshift = fmt->granule_shift;
	e->l1shift = vpte_level_shift(fmt, 1);
	e->per_table = 1u << fmt->level_bits[0];
	e->region = 1ull << 30;
	e->va = 4ull << 30;
	e->pa = 8ull << 30;
	e->seeks = quick ? 1u << 20 : 1u << 22;
	e->ring_tables = 64;
	e->ring_rounds = quick ? 16 : 64;
	e->prot = (struct vpte_prot){ VPTE_R | VPTE_W, VPTE_MT_WB, 0 };
	e->other = vpte_format_by_name(e->handwritten ? "arm64-4k-48" : "x86_64");
	e->bitmap = calloc((e->region >> e->gshift) / 64 + 1, sizeof(uint64_t));
	e->scattered = scattered_slots(e);
	e->epoch = vpte_epoch_create();
	for (unsigned i = 0; e->epoch && i < 2; i++)
		e->readers[i] = vpte_epoch_register(e->epoch);
	return e->bitmap && e->scattered && e->readers[0] && e->readers[1] ? 0 : -VPTE_ENOMEM;
}

void env_release(struct bench_env *e)
{
	free(e->bitmap);
	free(e->scattered);
	e->bitmap = NULL;
	e->scattered = NULL;
	for (unsigned i = 0; i < 2; i++)
		if (e->readers[i])
			vpte_epoch_unregister(e->readers[i]);
	if (e->epoch)
		vpte_epoch_destroy(e->epoch);
	e->readers[0] = e->readers[1] = NULL;
	e->epoch = NULL;
}

static uint64_t gran(const struct bench_env *e)
{
	return 1ull << e->gshift;
}

/* Offset of the single map number @i in ST_SLOTS: table i / (per_table - 1),
 * entry i % (per_table - 1); the last entry holds the resident leaf. */
static uint64_t slot_tables(const struct bench_env *e, uint64_t maps)
{
	return (maps + e->per_table - 2) / (e->per_table - 1);
}

static uint64_t entries_region(const struct bench_env *e)
{
	return e->region >> e->gshift;
}

static uint64_t entries_region_l1(const struct bench_env *e)
{
	return e->region >> e->l1shift;
}

static uint64_t entries_two_regions(const struct bench_env *e)
{
	return 2 * (e->region >> e->gshift);
}

static uint64_t entries_seeks(const struct bench_env *e)
{
	return e->seeks;
}

static uint64_t entries_ring(const struct bench_env *e)
{
	return (uint64_t)e->ring_rounds * e->ring_tables * RANGE_ENTRIES;
}

/* The limit of a lookup: a random read among the region's leaf entries. */
static uint64_t bytes_region_leaves(const struct bench_env *e)
{
	return entries_region(e) * 8;
}

/* The limit of a 256-entry call: the 2 KiB its entries occupy. */
static uint64_t bytes_range(const struct bench_env *e)
{
	(void)e;
	return RANGE_ENTRIES * 8;
}

/*
 * The limit of a map into an empty table: every table page the call
 * creates is written whole, its entries or the zeros around them, so a
 * memset of all those pages is what the call cannot beat (for 2 MiB
 * leaves over 1 GiB, the 4 KiB of leaves and the 4 KiB table above them).
 * A table at level k spans one entry of level k + 1; the levels are the
 * leaves' up to the one below the top table, which exists already.
 */
static uint64_t bytes_new_tables(const struct bench_env *e, uint64_t region, unsigned leaf_shift)
{
	uint64_t pages = 0;
	for (unsigned k = 0; k + 1u < e->fmt->levels; k++) {
		unsigned span_shift = vpte_level_shift(e->fmt, k + 1u);
		if (vpte_level_shift(e->fmt, k) >= leaf_shift)
			pages += (region + (1ull << span_shift) - 1u) >> span_shift;
	}
	return pages << e->gshift;
}

static uint64_t bytes_map_region(const struct bench_env *e)
{
	return bytes_new_tables(e, e->region, e->gshift);
}

static uint64_t bytes_map_region_l1(const struct bench_env *e)
{
	return bytes_new_tables(e, e->region, e->l1shift);
}

static uint64_t bytes_map_two_regions(const struct bench_env *e)
{
	return bytes_new_tables(e, 2 * e->region, e->gshift);
}

/* ---- states ---- */

static int map_gran(struct bench_env *e, uint64_t off, uint64_t size)
{
	struct vpte_map_opts opts = { e->gshift, 0 };
	return vpte_map(&e->t, vpte_va(e->va + off), vpte_pa(e->pa + off), size, e->prot, &opts);
}

/* map_gran() on a concurrent table, inside a read section of @reader's
 * thread (docs/concurrency.md, "What the caller holds"). */
static int map_gran_in_section(struct bench_env *e, struct vpte_epoch_reader *reader,
			       uint64_t off, uint64_t size)
{
	vpte_epoch_enter(reader);
	int err = map_gran(e, off, size);
	vpte_epoch_leave(reader);
	return err;
}

static uint64_t resident_off(const struct bench_env *e, uint64_t table)
{
	return (table << e->l1shift) + ((uint64_t)(e->per_table - 1) << e->gshift);
}

int state_setup(struct bench_env *e, enum bench_state st)
{
	e->heap = (struct vpte_heap){ 0 };
	e->t2.fmt = NULL;
	int err = vpte_table_init(&e->t, e->fmt, vpte_heap_mem(&e->heap));
	uint64_t tables = st == ST_RING ? e->ring_tables : slot_tables(e, entries_region(e));
	if (err)
		return err;
	switch (st) {
	case ST_EMPTY_CONCURRENT:
		vpte_table_set_reclaim(&e->t, vpte_epoch_reclaim(e->epoch));
		return 0;
	case ST_COPY:
	case ST_COPY_OTHER:
		err = vpte_table_init(&e->t2, st == ST_COPY ? e->fmt : e->other,
				      vpte_heap_mem(&e->heap));
		if (err) {
			e->t2.fmt = NULL;
			return err;
		}
		return map_gran(e, 0, e->region);
	case ST_FULL:
	case ST_FULL_DIRTY: {
		struct vpte_prot dirty = { VPTE_D, 0, 0 }, none = { 0, 0, 0 };
		memset(e->bitmap, 0, ((e->region >> e->gshift) / 64 + 1) * sizeof(uint64_t));
		err = map_gran(e, 0, e->region);
		if (err || st == ST_FULL)
			return err;
		return vpte_protect(&e->t, vpte_va(e->va), e->region, dirty, none, NULL);
	}
	case ST_FULL_RO: {
		struct vpte_prot none = { 0, 0, 0 }, w = { VPTE_W, 0, 0 };
		err = map_gran(e, 0, e->region);
		return err ? err : vpte_protect(&e->t, vpte_va(e->va), e->region, none, w, NULL);
	}
	case ST_HUGE:
		return vpte_map(&e->t, vpte_va(e->va), vpte_pa(e->pa), e->region, e->prot, NULL);
	case ST_SLOTS:
	case ST_RING:
		for (uint64_t k = 0; k < tables && !err; k++)
			err = map_gran(e, resident_off(e, k), gran(e));
		return err;
	default:
		return 0;
	}
}

int state_teardown(struct bench_env *e)
{
	int err = e->t2.fmt ? vpte_table_destroy(&e->t2) : 0;
	if (!err)
		err = vpte_table_destroy(&e->t);
	if (!err && vpte_heap_live_pages(&e->heap))
		err = -VPTE_EFAULT; /* leaked pages */
	return err;
}

int hw_state_setup(struct bench_env *e, enum bench_state st)
{
	e->heap = (struct vpte_heap){ 0 };
	int err = hw_init(&e->hw, vpte_heap_mem(&e->heap));
	uint64_t tables = st == ST_RING ? e->ring_tables : slot_tables(e, entries_region(e));
	if (err)
		return err;
	switch (st) {
	case ST_FULL:
		return hw_map_range(&e->hw, e->va, e->pa, e->region, HW_PGPROT_RW, 12);
	case ST_SLOTS:
	case ST_RING:
		for (uint64_t k = 0; k < tables && !err; k++)
			err = hw_map_4k(&e->hw, e->va + resident_off(e, k), e->pa + resident_off(e, k),
					HW_PGPROT_RW);
		return err;
	default:
		return 0;
	}
}

void hw_state_teardown(struct bench_env *e)
{
	hw_destroy(&e->hw);
}

/* ---- checks (after the warm-up repetition) ---- */

static int expect_leaves(struct bench_env *e, unsigned shift, uint64_t count)
{
	struct vpte_stats st;
	int err = vpte_stats_table(&e->t, &st);
	if (err)
		return err;
	return st.leaves[shift] == count && st.tlb_entries == count ? 0 : -VPTE_EFAULT;
}

static int check_full(struct bench_env *e)
{
	return expect_leaves(e, e->gshift, entries_region(e));
}

static int check_full_l1(struct bench_env *e)
{
	return expect_leaves(e, e->l1shift, entries_region_l1(e));
}

static int check_slots_full(struct bench_env *e)
{
	uint64_t n = entries_region(e);
	return expect_leaves(e, e->gshift, n + slot_tables(e, n));
}

static int check_ring_residents(struct bench_env *e)
{
	return expect_leaves(e, e->gshift, e->ring_tables);
}

static int check_two_regions(struct bench_env *e)
{
	return expect_leaves(e, e->gshift, entries_two_regions(e));
}

static int check_copy(struct bench_env *e)
{
	struct vpte_stats st;
	int err = vpte_stats_table(&e->t2, &st);
	if (err)
		return err;
	return st.leaves[e->gshift] == entries_region(e) && st.tlb_entries == entries_region(e)
		       ? 0
		       : -VPTE_EFAULT;
}

/* The copy is whole, and no leaf of either side is writable. */
static int check_copy_cow(struct bench_env *e)
{
	struct vpte_walk w;
	int err = check_copy(e);
	for (unsigned side = 0; !err && side < 2; side++)
		vpte_for_each_leaf(&w, side ? &e->t2 : &e->t, vpte_va(e->va), e->region)
			if (w.prot.flags & VPTE_W)
				err = -VPTE_EFAULT;
	return err;
}

static int check_split(struct bench_env *e)
{
	return expect_leaves(e, e->gshift, entries_region(e));
}

static int check_collapse(struct bench_env *e)
{
	return expect_leaves(e, e->l1shift, entries_region_l1(e));
}

/* The leaf in the middle of the region lacks @flag. */
static int middle_leaf_without(struct bench_env *e, uint32_t flag)
{
	struct vpte_walk w;
	int err = vpte_seek(&w, &e->t, vpte_va(e->va + e->region / 2));
	if (err)
		return err;
	return w.kind == VPTE_LEAF && !(w.prot.flags & flag) ? 0 : -VPTE_EFAULT;
}

static int check_protect(struct bench_env *e)
{
	return middle_leaf_without(e, VPTE_W);
}

static int check_harvest(struct bench_env *e)
{
	uint64_t words = (e->region >> e->gshift) / 64;
	for (uint64_t i = 0; i < words; i++)
		if (e->bitmap[i] != ~0ull)
			return -VPTE_EFAULT;
	return 0;
}

/* check_harvest(), and the dirty flag is gone. */
static int check_harvest_dirty(struct bench_env *e)
{
	int err = check_harvest(e);
	return err ? err : middle_leaf_without(e, VPTE_D);
}

static int check_empty(struct bench_env *e)
{
	struct vpte_stats st;
	int err = vpte_stats_table(&e->t, &st);
	if (err)
		return err;
	uint64_t pages = 0;
	for (unsigned l = 0; l < VPTE_MAX_LEVELS; l++)
		pages += st.table_pages[l];
	return st.tlb_entries == 0 && pages == 1 ? 0 : -VPTE_EFAULT;
}

/* ---- the operations ---- */

static int call_map_region(struct bench_env *e)
{
	return map_gran(e, 0, e->region);
}

static int call_map_region_l1(struct bench_env *e)
{
	struct vpte_map_opts opts = { e->l1shift, 0 };
	return vpte_map(&e->t, vpte_va(e->va), vpte_pa(e->pa), e->region, e->prot, &opts);
}

static int hw_map_region(struct bench_env *e)
{
	timer_start(&e->timer);
	int err = hw_map_range(&e->hw, e->va, e->pa, e->region, HW_PGPROT_RW, 12);
	timer_stop(&e->timer);
	return err;
}

static int hw_map_region_l1(struct bench_env *e)
{
	timer_start(&e->timer);
	int err = hw_map_range(&e->hw, e->va, e->pa, e->region, HW_PGPROT_RW, 21);
	timer_stop(&e->timer);
	return err;
}

static int run_map_single(struct bench_env *e)
{
	uint64_t n = entries_region(e), done = 0, size = gran(e);
	int err = 0;
	timer_start(&e->timer);
	for (uint64_t k = 0; done < n && !err; k++) {
		uint64_t off = k << e->l1shift;
		for (unsigned s = 0; s < e->per_table - 1 && done < n && !err; s++, done++) {
			err = vpte_map(&e->t, vpte_va(e->va + off), vpte_pa(e->pa + off), size, e->prot,
				       NULL);
			off += size;
		}
	}
	timer_stop(&e->timer);
	return err;
}

static int hw_map_single(struct bench_env *e)
{
	uint64_t n = entries_region(e), done = 0, size = gran(e);
	int err = 0;
	timer_start(&e->timer);
	for (uint64_t k = 0; done < n && !err; k++) {
		uint64_t off = k << e->l1shift;
		for (unsigned s = 0; s < e->per_table - 1 && done < n && !err; s++, done++) {
			err = hw_map_4k(&e->hw, e->va + off, e->pa + off, HW_PGPROT_RW);
			off += size;
		}
	}
	timer_stop(&e->timer);
	return err;
}

static int run_map_scattered(struct bench_env *e)
{
	uint64_t n = entries_region(e), size = gran(e);
	int err = 0;
	timer_start(&e->timer);
	for (uint64_t i = 0; i < n && !err; i++) {
		uint64_t off = e->scattered[i];
		err = vpte_map(&e->t, vpte_va(e->va + off), vpte_pa(e->pa + off), size, e->prot,
			       NULL);
	}
	timer_stop(&e->timer);
	return err;
}

static int hw_map_scattered(struct bench_env *e)
{
	uint64_t n = entries_region(e);
	int err = 0;
	timer_start(&e->timer);
	for (uint64_t i = 0; i < n && !err; i++) {
		uint64_t off = e->scattered[i];
		err = hw_map_4k(&e->hw, e->va + off, e->pa + off, HW_PGPROT_RW);
	}
	timer_stop(&e->timer);
	return err;
}

/* Map 256 x 4 KiB into each ring table, or unmap them, with vpte or the
 * hand-written walker (@hw); timed or not. */
static int ring_pass(struct bench_env *e, bool hw, bool map, bool timed)
{
	struct vpte_map_opts opts = { e->gshift, 0 };
	uint64_t size = RANGE_ENTRIES * gran(e);
	int err = 0;
	if (timed)
		timer_start(&e->timer);
	for (unsigned k = 0; k < e->ring_tables && !err; k++) {
		uint64_t va = e->va + ((uint64_t)k << e->l1shift);
		uint64_t pa = e->pa + ((uint64_t)k << e->l1shift);
		if (hw && map)
			err = hw_map_range(&e->hw, va, pa, size, HW_PGPROT_RW, 12);
		else if (hw)
			hw_unmap_range(&e->hw, va, size);
		else if (map)
			err = vpte_map(&e->t, vpte_va(va), vpte_pa(pa), size, e->prot, &opts);
		else
			err = vpte_unmap(&e->t, vpte_va(va), size, NULL);
	}
	if (timed)
		timer_stop(&e->timer);
	return err;
}

/* The ring's rounds: each maps every ring table and unmaps them again,
 * the maps timed (@time_maps) or the unmaps. */
static int ring_rounds(struct bench_env *e, bool hw, bool time_maps)
{
	int err = 0;
	for (unsigned r = 0; r < e->ring_rounds && !err; r++)
		if (!(err = ring_pass(e, hw, true, time_maps)))
			err = ring_pass(e, hw, false, !time_maps);
	return err;
}

static int run_map_range(struct bench_env *e)
{
	return ring_rounds(e, false, true);
}

static int run_unmap_range(struct bench_env *e)
{
	return ring_rounds(e, false, false);
}

static int hw_map_ring(struct bench_env *e)
{
	return ring_rounds(e, true, true);
}

static int hw_unmap_ring(struct bench_env *e)
{
	return ring_rounds(e, true, false);
}

static int run_seek(struct bench_env *e)
{
	struct vpte_walk w;
	uint64_t x = SEEK_SEED, sum = 0, mask = e->region - 1, bad = 0;
	timer_start(&e->timer);
	for (unsigned i = 0; i < e->seeks; i++) {
		uint64_t va = e->va + ((xorshift(&x) >> 11) & mask);
		bad |= (uint64_t)vpte_seek(&w, &e->t, vpte_va(va));
		sum += w.pa.addr + w.shift + w.prot.flags;
		bad |= w.kind ^ VPTE_LEAF;
	}
	timer_stop(&e->timer);
	bench_keep(sum);
	return bad ? -VPTE_EFAULT : 0;
}

static int hw_seek(struct bench_env *e)
{
	struct hw_leaf leaf;
	uint64_t x = SEEK_SEED, sum = 0, mask = e->region - 1, bad = 0;
	timer_start(&e->timer);
	for (unsigned i = 0; i < e->seeks; i++) {
		uint64_t va = e->va + ((xorshift(&x) >> 11) & mask);
		bad |= (uint64_t)hw_lookup(&e->hw, va, &leaf) ^ 1;
		sum += leaf.pa + leaf.shift + leaf.flags;
	}
	timer_stop(&e->timer);
	bench_keep(sum);
	return bad ? -VPTE_EFAULT : 0;
}

static int call_iterate(struct bench_env *e)
{
	struct vpte_walk w;
	uint64_t sum = 0;
	vpte_for_each_leaf(&w, &e->t, vpte_va(e->va), e->region)
		sum += w.pa.addr;
	bench_keep(sum);
	return w.error;
}

static int call_stats(struct bench_env *e)
{
	struct vpte_stats st;
	int err = vpte_stats(&e->t, vpte_va(e->va), e->region, &st);
	bench_keep(st.tlb_entries);
	return err;
}

static int call_unmap_region(struct bench_env *e)
{
	return vpte_unmap(&e->t, vpte_va(e->va), e->region, NULL);
}

static int call_protect(struct bench_env *e)
{
	struct vpte_prot set = { 0, 0, 0 }, clear = { VPTE_W, 0, 0 };
	return vpte_protect(&e->t, vpte_va(e->va), e->region, set, clear, NULL);
}

/* The same on a table whose entries only vpte writes: plain stores. */
static int call_protect_nohw(struct bench_env *e)
{
	vpte_table_set_hw_updates(&e->t, false);
	return call_protect(e);
}

/* Make read-only pages writable: accessed is set (vpte_map sets it) and
 * the pages were not writable, so the hardware cannot change the entries
 * and vpte_protect writes them with plain stores. */
static int call_protect_rw(struct bench_env *e)
{
	struct vpte_prot set = { VPTE_W, 0, 0 }, clear = { 0, 0, 0 };
	return vpte_protect(&e->t, vpte_va(e->va), e->region, set, clear, NULL);
}

static int check_protect_rw(struct bench_env *e)
{
	struct vpte_walk w;
	int err = vpte_seek(&w, &e->t, vpte_va(e->va + e->region / 2));
	if (err)
		return err;
	return w.kind == VPTE_LEAF && (w.prot.flags & VPTE_W) ? 0 : -VPTE_EFAULT;
}

static int call_split(struct bench_env *e)
{
	return vpte_split(&e->t, vpte_va(e->va), e->region, e->gshift, NULL);
}

static int call_collapse(struct bench_env *e)
{
	return vpte_collapse(&e->t, vpte_va(e->va), e->region, e->l1shift, NULL);
}

static int call_copy(struct bench_env *e)
{
	return vpte_copy(&e->t2, &e->t, vpte_va(e->va), e->region, NULL);
}

/* fork's copy-on-write: W cleared on the source leaves and their copies. */
static int call_copy_cow(struct bench_env *e)
{
	struct vpte_copy_opts opts = { VPTE_COPY_WRPROTECT, NULL };
	return vpte_copy(&e->t2, &e->t, vpte_va(e->va), e->region, &opts);
}

/* Test and clear the accessed flag (vpte_map sets it on every leaf). */
static int call_harvest(struct bench_env *e)
{
	struct vpte_harvest_opts opts = { VPTE_A, 0, VPTE_HARVEST_CLEAR, NULL };
	return vpte_harvest(&e->t, vpte_va(e->va), e->region, e->bitmap, &opts);
}

static int call_harvest_nohw(struct bench_env *e)
{
	vpte_table_set_hw_updates(&e->t, false);
	return call_harvest(e);
}

/* A dirty-log round over memory written everywhere: test and clear the
 * dirty flag of every leaf. */
static int call_harvest_dirty(struct bench_env *e)
{
	struct vpte_harvest_opts opts = { VPTE_D, 0, VPTE_HARVEST_CLEAR, NULL };
	return vpte_harvest(&e->t, vpte_va(e->va), e->region, e->bitmap, &opts);
}

/*
 * Two threads each map one 1 GiB-aligned region (they share the tables
 * above), against one thread mapping both: the calling thread the first
 * region, the bench's second thread (bench/pair.h) the other, timed from
 * the first start to the last end.  Edits at once need a concurrent table
 * (docs/concurrency.md), so both run on one, each map in a read section;
 * the one-thread reference too, so that the ratio is what the second
 * thread adds (map-1g-4k is the same map on a table that is not
 * concurrent).
 */
struct map_job {
	struct bench_env *e;
	struct vpte_epoch_reader *reader; /* the running thread's */
	uint64_t off;
	int err;
};

static void map_job_run(void *arg)
{
	struct map_job *j = arg;
	j->err = map_gran_in_section(j->e, j->reader, j->off, j->e->region);
}

static int run_map_two_threads(struct bench_env *e)
{
	struct map_job jobs[2] = { { e, e->readers[0], 0, 0 },
				   { e, e->readers[1], e->region, 0 } };
	void *const args[2] = { &jobs[0], &jobs[1] };
	uint64_t ns = bench_pair_run(map_job_run, args);
	if (!ns)
		return -VPTE_ENOMEM;
	e->timer.total += (double)ns;
	return jobs[0].err ? jobs[0].err : jobs[1].err;
}

static int call_map_two_regions(struct bench_env *e)
{
	int err = map_gran_in_section(e, e->readers[0], 0, e->region);
	return err ? err : map_gran_in_section(e, e->readers[0], e->region, e->region);
}

/* ---- the table ---- */

#define TARGET(k, b) { (k), (b), NULL }

const struct bench_case bench_cases[] = {
	{ .op = "map-1g-4k", .what = "map 1 GiB with 4 KiB leaves, one call (max_shift 12)",
	  .state = ST_EMPTY, .entries = entries_region, .limit = LIMIT_MEMSET,
	  .limit_bytes = bytes_map_region, .limit_whole = true, .call = call_map_region,
	  .hw_run = hw_map_region, .check = check_full,
	  .targets = { TARGET(T_LIMIT, 1.5) } },
	{ .op = "map-1g-2m", .what = "map 1 GiB with 2 MiB leaves, one call (max_shift 21)",
	  .state = ST_EMPTY, .entries = entries_region_l1, .limit = LIMIT_MEMSET,
	  .limit_bytes = bytes_map_region_l1, .limit_whole = true, .call = call_map_region_l1,
	  .hw_run = hw_map_region_l1, .check = check_full_l1, .calls_per_rep = 64,
	  .targets = { TARGET(T_LIMIT, 1.5) } },
	{ .op = "map-single-4k", .what = "262,144 single 4 KiB maps into existing tables, one call each",
	  .state = ST_SLOTS, .entries = entries_region, .limit = LIMIT_MEMSET,
	  .run = run_map_single, .hw_run = hw_map_single, .check = check_slots_full,
	  .targets = { TARGET(T_HW, 1.1), TARGET(T_NS, 3.0) } },
	{ .op = "map-single-4k-random",
	  .what = "the same 262,144 single maps in random order (each in another leaf table)",
	  .state = ST_SLOTS, .entries = entries_region, .limit = LIMIT_MEMSET,
	  .run = run_map_scattered, .hw_run = hw_map_scattered, .check = check_slots_full },
	{ .op = "map-256x4k", .what = "map 256 x 4 KiB, one call (into an existing leaf table)",
	  .state = ST_RING, .entries = entries_ring, .limit = LIMIT_MEMSET,
	  .limit_bytes = bytes_range, .run = run_map_range, .hw_run = hw_map_ring,
	  .check = check_ring_residents, .targets = { TARGET(T_NS, 0.5) } },
	{ .op = "unmap-256x4k", .what = "unmap 256 x 4 KiB, one call (the leaf table stays)",
	  .state = ST_RING, .entries = entries_ring, .limit = LIMIT_MEMSET,
	  .limit_bytes = bytes_range, .run = run_unmap_range, .hw_run = hw_unmap_ring,
	  .check = check_ring_residents, .targets = { TARGET(T_NS, 1.0) } },
	{ .op = "seek-random", .what = "vpte_seek at random addresses over 1 GiB of 4 KiB leaves",
	  .state = ST_FULL, .entries = entries_seeks, .limit = LIMIT_READ_RANDOM,
	  .limit_bytes = bytes_region_leaves, .run = run_seek, .hw_run = hw_seek,
	  .targets = { TARGET(T_HW, 1.1), TARGET(T_NS, 4.0) } },
	{ .op = "iterate-1g-4k", .what = "vpte_for_each_leaf over 1 GiB of 4 KiB leaves",
	  .state = ST_FULL, .entries = entries_region, .limit = LIMIT_READ,
	  .call = call_iterate },
	{ .op = "stats-1g-4k", .what = "vpte_stats over 1 GiB of 4 KiB leaves",
	  .state = ST_FULL, .entries = entries_region, .limit = LIMIT_READ, .call = call_stats },
	{ .op = "unmap-1g-4k", .what = "unmap 1 GiB of 4 KiB leaves, one call (tables freed)",
	  .state = ST_FULL, .entries = entries_region, .limit = LIMIT_MEMSET,
	  .call = call_unmap_region, .check = check_empty, .targets = { TARGET(T_NS, 1.0) } },
	{ .op = "protect-1g-4k", .what = "vpte_protect 1 GiB of 4 KiB leaves (clear W)",
	  .state = ST_FULL, .entries = entries_region, .limit = LIMIT_ATOMIC_AND,
	  .call = call_protect, .check = check_protect, .targets = { TARGET(T_NS, 1.0) } },
	{ .op = "protect-1g-4k-nohw",
	  .what = "vpte_protect 1 GiB of 4 KiB leaves (clear W), VPTE_TABLE_NO_HW_UPDATES",
	  .state = ST_FULL, .entries = entries_region, .limit = LIMIT_MEMCPY,
	  .call = call_protect_nohw, .check = check_protect, .targets = { TARGET(T_NS, 1.0) } },
	{ .op = "protect-1g-4k-rw", .what = "vpte_protect 1 GiB of read-only 4 KiB leaves (set W)",
	  .state = ST_FULL_RO, .entries = entries_region, .limit = LIMIT_MEMCPY,
	  .call = call_protect_rw, .check = check_protect_rw, .targets = { TARGET(T_NS, 1.0) } },
	{ .op = "split-1g-to-4k", .what = "vpte_split a 1 GiB leaf to 4 KiB leaves",
	  .state = ST_HUGE, .entries = entries_region, .limit = LIMIT_MEMSET,
	  .call = call_split, .check = check_split },
	{ .op = "collapse-1g-4k-to-2m", .what = "vpte_collapse 1 GiB of 4 KiB leaves to 2 MiB",
	  .state = ST_FULL, .entries = entries_region, .limit = LIMIT_READ,
	  .call = call_collapse, .check = check_collapse },
	{ .op = "copy-1g-4k", .what = "vpte_copy 1 GiB of 4 KiB leaves to an empty table, same format",
	  .state = ST_COPY, .entries = entries_region, .limit = LIMIT_MEMCPY, .call = call_copy,
	  .check = check_copy, .targets = { TARGET(T_NS, 1.0) } },
	{ .op = "copy-1g-4k-cow",
	  .what = "vpte_copy 1 GiB of writable 4 KiB leaves, same format, VPTE_COPY_WRPROTECT",
	  .state = ST_COPY, .entries = entries_region, .limit = LIMIT_ATOMIC_AND, .call = call_copy_cow,
	  .check = check_copy_cow },
	{ .op = "copy-1g-4k-other",
	  .what = "vpte_copy 1 GiB of 4 KiB leaves to an empty table of another format",
	  .state = ST_COPY_OTHER, .entries = entries_region, .limit = LIMIT_MEMCPY,
	  .call = call_copy, .check = check_copy, .targets = { TARGET(T_NS, 1.0) } },
	{ .op = "harvest-1g-4k", .what = "vpte_harvest: test and clear accessed, 1 GiB of 4 KiB leaves",
	  .state = ST_FULL, .entries = entries_region, .limit = LIMIT_ATOMIC_AND,
	  .call = call_harvest, .check = check_harvest },
	{ .op = "harvest-1g-4k-nohw",
	  .what = "vpte_harvest: test and clear accessed, 1 GiB of 4 KiB leaves, VPTE_TABLE_NO_HW_UPDATES",
	  .state = ST_FULL, .entries = entries_region, .limit = LIMIT_MEMCPY,
	  .call = call_harvest_nohw, .check = check_harvest },
	{ .op = "harvest-dirty-1g-4k",
	  .what = "vpte_harvest: test and clear dirty, 1 GiB of written 4 KiB leaves",
	  .state = ST_FULL_DIRTY, .entries = entries_region, .limit = LIMIT_MEMCPY,
	  .call = call_harvest_dirty, .check = check_harvest_dirty },
	{ .op = "map-2g-4k-2threads",
	  .what = "two threads map one 1 GiB region each at once, against one thread mapping both",
	  .state = ST_EMPTY_CONCURRENT, .entries = entries_two_regions, .limit = LIMIT_MEMSET,
	  .limit_bytes = bytes_map_two_regions, .limit_whole = true, .run = run_map_two_threads,
	  .check = check_two_regions,
	  .targets = { { T_SPEEDUP, 1.8, "one thread" } }, .ref_call = call_map_two_regions,
	  .ref_what = "one thread" },
};

const unsigned bench_case_count = sizeof(bench_cases) / sizeof(bench_cases[0]);
