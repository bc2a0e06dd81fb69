/* SPDX-License-Identifier: MIT */
/* stats.c - vpte_stats: a detailed walk that counts. */
#include "engine/internal.h"

/* Add what [va, va + size) holds below the top table to @st. */
static int count_range(const struct vpte_table *t, vpte_va_t va, uint64_t size,
		       struct vpte_stats *st)
{
	uint64_t page = 1ull << t->fmt->granule_shift;
	struct vpte_walk w;

	vpte_for_each_entry(&w, t, va, size, VPTE_ITER_TABLES)
	{
		if (w.kind == VPTE_TABLE) {
			st->table_pages[w.level - 1u]++;
			st->table_bytes[w.level - 1u] += page;
			continue;
		}
		st->leaves[w.shift]++;
		st->runs[w.shift] += w.cont;
		st->tlb_entries++;
		st->mapped_bytes += 1ull << w.shift;
	}
	return w.error;
}

static void count_top(const struct vpte_table *t, struct vpte_stats *st)
{
	*st = (struct vpte_stats){ 0 };
	st->table_pages[vpte_top_level(t->fmt)] = 1;
	st->table_bytes[vpte_top_level(t->fmt)] = 1ull << t->fmt->granule_shift;
}

int vpte_stats(const struct vpte_table *t, vpte_va_t va, uint64_t size, struct vpte_stats *st)
{
	count_top(t, st);
	return count_range(t, va, size, st);
}

int vpte_stats_table(const struct vpte_table *t, struct vpte_stats *st)
{
	vpte_va_t start[2];
	uint64_t size[2];
	unsigned halves = vpte_va_space(t->fmt, start, size);
	int err = 0;

	count_top(t, st);
	for (unsigned h = 0; h < halves && !err; h++)
		err = count_range(t, start[h], size[h], st);
	return err;
}
