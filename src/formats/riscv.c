/* SPDX-License-Identifier: MIT */
/* RISC-V: the library's formats of the family, Sv39, Sv48 and Sv57
 * (RISCV_FORMAT in riscv.h). */
#include "engine/instantiate.h"
#include "formats/riscv.h"

RISCV_FORMAT(riscv_sv39, "riscv-sv39", 3);
RISCV_FORMAT(riscv_sv48, "riscv-sv48", 4);
RISCV_FORMAT(riscv_sv57, "riscv-sv57", 5);
