/* SPDX-License-Identifier: MIT */
/* arm64 VMSAv8-64 stage 1, 16K granule, 47-bit VA (ARM64_FORMAT in arm64.h). */
#include "engine/instantiate.h"
#include "formats/arm64.h"

ARM64_FORMAT(arm64_16k_47, "arm64-16k-47", 14, 47, 0x3, 7, 5, 0);
