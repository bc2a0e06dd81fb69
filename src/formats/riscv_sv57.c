/* SPDX-License-Identifier: MIT */
/* RISC-V Sv57 (RISCV_FORMAT in riscv.h). */
#include "engine/instantiate.h"
#include "formats/riscv.h"

RISCV_FORMAT(riscv_sv57, "riscv-sv57", 5);
