/* SPDX-License-Identifier: MIT */
/* arm64 VMSAv8-64 stage 1, 16K granule, 48-bit VA (ARM64_FORMAT in arm64.h). */
#include "engine/instantiate.h"
#include "formats/arm64.h"

ARM64_FORMAT(arm64_16k_48, "arm64-16k-48", 14, 48, 0x3, 7, 5, 0);
