/* SPDX-License-Identifier: MIT */
/* The riscv format of test_harvest_stores.c, its compare-and-swaps counted. */
#include "harvest_stores.h"

#include "engine/instantiate.h"
#include "formats/riscv.h"

RISCV_FORMAT(counted_riscv_sv39, "riscv-sv39", 3);
