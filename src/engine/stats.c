/* SPDX-License-Identifier: MIT */
/* stats.c - vpte_stats: a detailed walk that counts. */
#include "engine/internal.h"

int vpte_stats(const struct vpte_table *t, vpte_va_t va, uint64_t size, struct vpte_stats *st)
{
	const struct vpte_format *fmt = t->fmt;
	uint64_t page = 1ull << fmt->granule_shift;
	struct vpte_walk w;

	*st = (struct vpte_stats){ 0 };
	st->table_pages[vpte_top_level(fmt)] = 1;
	st->table_bytes[vpte_top_level(fmt)] = page;
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
