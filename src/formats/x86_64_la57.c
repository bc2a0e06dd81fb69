/* SPDX-License-Identifier: MIT */
/* x86-64 5-level paging, LA57 (X86_64_FORMAT in x86_64.h). */
#include "engine/instantiate.h"
#include "formats/x86_64.h"

X86_64_FORMAT(x86_64_la57, "x86_64-la57", 5);
