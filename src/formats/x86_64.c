/* SPDX-License-Identifier: MIT */
/* x86-64 paging: the library's formats of the family, 4-level (48-bit VA)
 * and 5-level LA57 (57-bit VA) (X86_64_FORMAT in x86_64.h). */
#include "engine/instantiate.h"
#include "formats/x86_64.h"

X86_64_FORMAT(x86_64, "x86_64", 4);
X86_64_FORMAT(x86_64_la57, "x86_64-la57", 5);
