/* SPDX-License-Identifier: MIT */
/* The x86_64 format of test_harvest_stores.c, its compare-and-swaps counted. */
#include "harvest_stores.h"

#include "engine/instantiate.h"
#include "formats/x86_64.h"

X86_64_FORMAT(counted_x86_64, "x86_64", 4);

const bool counted_pair_cas = LEAF_PAIR_CAS;
