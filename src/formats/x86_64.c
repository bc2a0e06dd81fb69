/* SPDX-License-Identifier: MIT */
/* x86-64 4-level paging (X86_64_FORMAT in x86_64.h). */
#include "engine/instantiate.h"
#include "formats/x86_64.h"

X86_64_FORMAT(x86_64, "x86_64", 4);
