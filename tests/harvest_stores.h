/* SPDX-License-Identifier: MIT */
/* The formats test_harvest_stores.c stamps again, one in each of
 * harvest_stores_*.c, and the counter of their compare-and-swaps. */
#ifndef VPTE_TESTS_HARVEST_STORES_H
#define VPTE_TESTS_HARVEST_STORES_H

#include <stdbool.h>

#include "vpte/vpte.h"

extern unsigned long cas_count, cas_entries;
#define VPTE_LEAF_CAS_HOOK(entries) (cas_count++, cas_entries += (entries))

/* LEAF_PAIR_CAS of the stamped engine (leafstore.h): protect and harvest
 * swap two entries a compare-and-swap. */
extern const bool counted_pair_cas;

extern const struct vpte_format vpte_format_counted_x86_64;
extern const struct vpte_format vpte_format_counted_arm64_16k_47;
extern const struct vpte_format vpte_format_counted_riscv_sv39;

#endif
