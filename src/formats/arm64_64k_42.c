/* SPDX-License-Identifier: MIT */
/* arm64 VMSAv8-64 stage 1, 64K granule, 42-bit VA (ARM64_FORMAT in arm64.h). */
#include "engine/instantiate.h"
#include "formats/arm64.h"

ARM64_FORMAT(arm64_64k_42, "arm64-64k-42", 16, 42, 0x3, 5, 5, 0);
