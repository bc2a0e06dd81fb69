/* SPDX-License-Identifier: MIT */
/* RISC-V Sv39 (RISCV_FORMAT in riscv.h). */
#include "engine/instantiate.h"
#include "formats/riscv.h"

RISCV_FORMAT(riscv_sv39, "riscv-sv39", 3);
