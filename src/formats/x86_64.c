/* SPDX-License-Identifier: MIT */
/* x86-64 paging: 4-level (48-bit VA) and 5-level LA57 (57-bit VA), one
 * family with the level count as its parameter (SDM Vol. 3A, 4.5). */
#include "engine/instantiate.h"
#include "formats/x86_64.h"

#define X86_64_FORMAT(ident, str, nlevels)                                                    \
	VPTE_FORMAT(ident, x86_codec, .name = str, .levels = nlevels,                         \
		    .va_bits = 12 + 9 * (nlevels), .pa_bits = 52, .granule_shift = 12,       \
		    .sign_extend = true, .level_bits = { 9, 9, 9, 9, (nlevels) > 4 ? 9 : 0 }, \
		    .leaf_levels = 0x7, .raw_mask = X86_RAW_MASK)

X86_64_FORMAT(x86_64, "x86_64", 4);
X86_64_FORMAT(x86_64_la57, "x86_64-la57", 5);
