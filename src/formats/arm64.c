/* SPDX-License-Identifier: MIT */
/* arm64 VMSAv8-64 stage 1: the library's formats of the family, one per
 * granule and VA width (ARM64_FORMAT in arm64.h). */
#include "engine/instantiate.h"
#include "formats/arm64.h"

ARM64_FORMAT(arm64_4k_39, "arm64-4k-39", 12, 39, 0x7, 4, 4, 4);
ARM64_FORMAT(arm64_4k_48, "arm64-4k-48", 12, 48, 0x7, 4, 4, 4);
ARM64_FORMAT(arm64_16k_47, "arm64-16k-47", 14, 47, 0x3, 7, 5, 0);
ARM64_FORMAT(arm64_16k_48, "arm64-16k-48", 14, 48, 0x3, 7, 5, 0);
ARM64_FORMAT(arm64_64k_42, "arm64-64k-42", 16, 42, 0x3, 5, 5, 0);
ARM64_FORMAT(arm64_64k_48, "arm64-64k-48", 16, 48, 0x3, 5, 5, 0);
