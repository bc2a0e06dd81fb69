/* SPDX-License-Identifier: MIT */
/* arm64 VMSAv8-64 stage 1, 4K granule, 48-bit VA (ARM64_FORMAT in arm64.h). */
#include "engine/instantiate.h"
#include "formats/arm64.h"

ARM64_FORMAT(arm64_4k_48, "arm64-4k-48", 12, 48, 0x7, 4, 4, 4);
