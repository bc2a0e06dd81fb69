/* SPDX-License-Identifier: MIT */
/* arm64 VMSAv8-64 stage 1, 64K granule, 48-bit VA (ARM64_FORMAT in arm64.h). */
#include "engine/instantiate.h"
#include "formats/arm64.h"

ARM64_FORMAT(arm64_64k_48, "arm64-64k-48", 16, 48, 0x3, 5, 5, 0);
