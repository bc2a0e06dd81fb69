/* SPDX-License-Identifier: MIT */
/*
 * fill.h - the hosted backends' table fill (struct vpte_mem_ops @fill):
 * where the engine, built for the baseline target, writes a table with
 * 16-byte stores, a process may use the widest stores its CPU has.
 */
#ifndef VPTE_HOSTED_FILL_H
#define VPTE_HOSTED_FILL_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__)
/* 32-byte AVX2 stores: call only where hosted_fill_wide() says so. */
void hosted_fill_avx2(void *ctx, uint64_t *entries, uint64_t n, uint64_t first, uint64_t step);
#define HOSTED_FILL_WIDE hosted_fill_avx2
#else
#define HOSTED_FILL_WIDE NULL
#endif

/*
 * hosted_fill_wide - whether HOSTED_FILL_WIDE may be used here: the CPU
 * has its instructions and the OS saves their registers.  A backend keeps
 * two struct vpte_mem_ops, one with @fill HOSTED_FILL_WIDE and one with
 * NULL (the engine's own stores), and gives out the one this says.
 */
bool hosted_fill_wide(void);

#endif
