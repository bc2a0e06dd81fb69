/* SPDX-License-Identifier: MIT */
/* RISC-V Sv39 / Sv48 / Sv57: one family with the level count as its
 * parameter; leaves at every level, Svnapot 64 KiB runs at level 0. */
#include "engine/instantiate.h"
#include "formats/riscv.h"

#define RISCV_FORMAT(ident, str, nlevels)                                                    \
	VPTE_FORMAT(ident, riscv_codec, .name = str, .levels = nlevels,                      \
		    .va_bits = 12 + 9 * (nlevels), .pa_bits = 56, .granule_shift = 12,      \
		    .sign_extend = true,                                                     \
		    .level_bits = { 9, 9, 9, (nlevels) > 3 ? 9 : 0, (nlevels) > 4 ? 9 : 0 }, \
		    .leaf_levels = (1u << (nlevels)) - 1, .cont_bits = { 4 },                \
		    .raw_mask = RV_RAW_MASK)

RISCV_FORMAT(riscv_sv39, "riscv-sv39", 3);
RISCV_FORMAT(riscv_sv48, "riscv-sv48", 4);
RISCV_FORMAT(riscv_sv57, "riscv-sv57", 5);
