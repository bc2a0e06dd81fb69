/* SPDX-License-Identifier: MIT */
/* The arm64 format of test_harvest_stores.c, its compare-and-swaps counted. */
#include "harvest_stores.h"

#include "engine/instantiate.h"
#include "formats/arm64.h"

ARM64_FORMAT(counted_arm64_16k_47, "arm64-16k-47", 14, 47, 0x3, 7, 5, 0);
