/* SPDX-License-Identifier: MIT */
/*
 * demo_layout.h - the address space `vpte demo` builds: a kernel (direct
 * map, image, MMIO) in the upper half and a process (text, data, heap,
 * mmaps, a VFIO device BAR, stack) in the lower half, placed to fit each
 * format's VA width and rounded to its granule.
 */
#ifndef VPTE_TOOL_DEMO_LAYOUT_H
#define VPTE_TOOL_DEMO_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "vpte/vpte.h"

enum demo_op {
	DEMO_MAP,
	DEMO_UNMAP,
};

struct demo_step {
	const char *what;
	enum demo_op op;
	uint64_t va, pa, size;
	struct vpte_prot prot;
};

#define DEMO_MAX_STEPS 16

/* demo_layout - fill @steps (DEMO_MAX_STEPS of them) for @fmt; returns the count. */
size_t demo_layout(const struct vpte_format *fmt, struct demo_step *steps);

#endif
