/* SPDX-License-Identifier: MIT */
/*
 * fill.c - a table fill with the CPU's wider stores (fill.h).  On this
 * project's AMD EPYC host 32-byte stores wrote 512 table pages in 0.08-0.10
 * ns an entry, as fast as memset() of the same bytes, where the engine's
 * 16-byte pairs took 0.14-0.17 (docs/performance-log.md item 42).  64-byte
 * AVX-512 stores were no faster there, so AVX2 is the one variant.
 */
#include "fill.h"

#if defined(__x86_64__)

/* Four entries in one 32-byte store; may_alias: it writes uint64_t entries. */
typedef uint64_t entry_quad __attribute__((vector_size(32), may_alias));

/* Single entries up to a cache line, then a line a step from two
 * independent sums (one sum would chain the adds), then the tail. */
__attribute__((target("avx2"))) void hosted_fill_avx2(void *ctx, uint64_t *entries, uint64_t n,
						      uint64_t first, uint64_t step)
{
	uint64_t i = 0, e = first;
	(void)ctx;
	for (; i < n && ((uintptr_t)(entries + i) & 63u); i++, e += step)
		entries[i] = e;
	if (n - i >= 8u) {
		const entry_quad four = { 4u * step, 4u * step, 4u * step, 4u * step },
				 eight = four + four;
		entry_quad a = { e, e + step, e + 2u * step, e + 3u * step }, b = a + four;
		for (; n - i >= 8u; i += 8u) {
			entry_quad *line = (entry_quad *)(void *)(entries + i);
			line[0] = a;
			line[1] = b;
			a += eight;
			b += eight;
		}
		e = a[0];
	}
	for (; i < n; i++, e += step)
		entries[i] = e;
}

bool hosted_fill_wide(void)
{
	/* GCC's and Clang's test also checks that the OS saves the AVX
	 * registers (XGETBV), not only the CPUID bit. */
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

#else

bool hosted_fill_wide(void)
{
	return false;
}

#endif
