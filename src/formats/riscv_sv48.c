/* SPDX-License-Identifier: MIT */
/* RISC-V Sv48 (RISCV_FORMAT in riscv.h). */
#include "engine/instantiate.h"
#include "formats/riscv.h"

RISCV_FORMAT(riscv_sv48, "riscv-sv48", 4);
