/* SPDX-License-Identifier: MIT */
/* arm64 VMSAv8-64 stage 1: one family with the granule and the VA width as
 * parameters.  The level count and the top level's index bits follow from
 * them (DDI 0487, D8.2 "Translation process": the starting level). */
#include "engine/instantiate.h"
#include "formats/arm64.h"

#define ARM64_BITS(g) ((g) - 3)
#define ARM64_LEVELS(g, va) (((va) - (g) + ARM64_BITS(g) - 1) / ARM64_BITS(g))
#define ARM64_TOP_BITS(g, va) ((va) - (g) - ARM64_BITS(g) * (ARM64_LEVELS(g, va) - 1))
#define ARM64_LEVEL_BITS(g, va, l)                                                       \
	((l) < ARM64_LEVELS(g, va) - 1    ? ARM64_BITS(g)                                \
	 : (l) == ARM64_LEVELS(g, va) - 1 ? ARM64_TOP_BITS(g, va)                        \
					  : 0)

/* Block levels: 4K granule 2 MiB and 1 GiB; 16K 32 MiB; 64K 512 MiB (larger
 * blocks need FEAT_LPA/LPA2).  Contiguous runs (D8.6.1; pseudocode
 * AArch64.ContiguousBit and ContiguousSize): 4K 16 entries at every block
 * or page level, so 64 KiB, 32 MiB and 16 GiB (16 x 1 GiB level 1 blocks
 * are architected, Linux merely does not use them); 16K 128 pages (2 MiB)
 * or 32 blocks (1 GiB); 64K 32 of either (2 MiB, 16 GiB). */
#define ARM64_FORMAT(ident, str, g, va, leaves, cont0, cont1, cont2)                        \
	VPTE_FORMAT(ident, arm64_codec, .name = str, .levels = ARM64_LEVELS(g, va),         \
		    .va_bits = va, .pa_bits = 48, .granule_shift = g, .sign_extend = false, \
		    .level_bits = { ARM64_LEVEL_BITS(g, va, 0), ARM64_LEVEL_BITS(g, va, 1), \
				    ARM64_LEVEL_BITS(g, va, 2), ARM64_LEVEL_BITS(g, va, 3) }, \
		    .leaf_levels = leaves, .cont_bits = { cont0, cont1, cont2 },            \
		    .raw_mask = ARM64_RAW_MASK)

ARM64_FORMAT(arm64_4k_39, "arm64-4k-39", 12, 39, 0x7, 4, 4, 4);
ARM64_FORMAT(arm64_4k_48, "arm64-4k-48", 12, 48, 0x7, 4, 4, 4);
ARM64_FORMAT(arm64_16k_47, "arm64-16k-47", 14, 47, 0x3, 7, 5, 0);
ARM64_FORMAT(arm64_16k_48, "arm64-16k-48", 14, 48, 0x3, 7, 5, 0);
ARM64_FORMAT(arm64_64k_42, "arm64-64k-42", 16, 42, 0x3, 5, 5, 0);
ARM64_FORMAT(arm64_64k_48, "arm64-64k-48", 16, 48, 0x3, 5, 5, 0);
