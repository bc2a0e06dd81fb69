/* SPDX-License-Identifier: MIT */
/* demo_layout.c - a realistic address space, sized to fit every format. */
#include "demo_layout.h"

#include <assert.h>

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* Physical memory: 6 GiB of RAM from 0, and a device BAR above it. */
#define RAM_SIZE (6 * GiB)
#define USER_PA_START (1 * GiB)
#define BAR_PA (256 * GiB)
#define BAR_SIZE (256 * MiB)

static const struct vpte_prot kernel_rw = { VPTE_R | VPTE_W | VPTE_G, VPTE_MT_WB, 0 };
static const struct vpte_prot kernel_rx = { VPTE_R | VPTE_X | VPTE_G, VPTE_MT_WB, 0 };
static const struct vpte_prot kernel_mmio = { VPTE_R | VPTE_W | VPTE_G, VPTE_MT_DEVICE, 0 };
static const struct vpte_prot user_rx = { VPTE_R | VPTE_X | VPTE_U, VPTE_MT_WB, 0 };
static const struct vpte_prot user_rw = { VPTE_R | VPTE_W | VPTE_U, VPTE_MT_WB, 0 };
static const struct vpte_prot user_bar = { VPTE_R | VPTE_W | VPTE_U | VPTE_SPECIAL,
					   VPTE_MT_DEVICE, 0 };

struct layout {
	const struct vpte_format *fmt;
	struct demo_step *steps;
	size_t count;
	uint64_t user_pa; /* next free physical address for process memory */
};

/*
 * Adds a step rounded out to the granule, as a kernel with that page size
 * would map it.  VA and PA move down together, so they stay congruent.
 */
static void add_step(struct layout *l, const char *what, enum demo_op op, uint64_t va,
		     uint64_t pa, uint64_t size, struct vpte_prot prot)
{
	uint64_t granule = 1ull << l->fmt->granule_shift;
	uint64_t offset = va & (granule - 1u);
	uint64_t end = (va + size + granule - 1u) & ~(granule - 1u);
	assert(l->count < DEMO_MAX_STEPS);
	l->steps[l->count++] = (struct demo_step){ what, op, va - offset, pa - offset,
						   end - (va - offset), prot };
}

/*
 * Process memory: physically contiguous, as transparent huge pages would
 * give it, with PA congruent to VA modulo 2 MiB (1 GiB for a mapping that
 * big) so that huge leaves are possible wherever the VA allows them.
 */
static void add_user(struct layout *l, const char *what, uint64_t va, uint64_t size,
		     struct vpte_prot prot)
{
	uint64_t align = size >= GiB ? GiB : 2 * MiB;
	uint64_t pa = ((l->user_pa + align - 1u) & ~(align - 1u)) + (va & (align - 1u));
	l->user_pa = pa + size;
	add_step(l, what, DEMO_MAP, va, pa, size, prot);
}

size_t demo_layout(const struct vpte_format *fmt, struct demo_step *steps)
{
	struct layout l = { fmt, steps, 0, USER_PA_START };
	/*
	 * Half the VA space each for the process and the kernel; with arm64's
	 * TTBR0-only formats the "upper half" is the top half of [0, 2^va_bits).
	 * The smallest half (Sv39, arm64 4K 39-bit) is 256 GiB: every offset
	 * below is a fraction of it or small.
	 */
	uint64_t half = 1ull << (fmt->va_bits - 1u);
	uint64_t kernel = fmt->sign_extend ? 0 - half : half;
	uint64_t mmap_base = half - half / 4u;

	add_step(&l, "kernel direct map", DEMO_MAP, kernel + half / 4u, 0, RAM_SIZE, kernel_rw);
	add_step(&l, "kernel text", DEMO_MAP, kernel + half / 2u, 16 * MiB, 26 * MiB + 240 * KiB,
		 kernel_rx);
	add_step(&l, "kernel data", DEMO_MAP, kernel + half / 2u + 32 * MiB, 48 * MiB,
		 6 * MiB - 100 * KiB, kernel_rw);
	add_step(&l, "kernel MMIO", DEMO_MAP, kernel + half / 2u + half / 4u, 0xfed00000, 20 * KiB,
		 kernel_mmio);

	add_user(&l, "process text", 0x400000, 0x2a5000, user_rx);
	add_user(&l, "process data", 0x8a6000, 0x3b000, user_rw);
	add_user(&l, "process heap", 0x1a5b000, 37 * MiB + 24 * KiB, user_rw);
	add_user(&l, "anonymous mmap", mmap_base - 2 * MiB, GiB + 6 * MiB, user_rw);
	/* A partial munmap in the middle splits whatever huge leaf covers it. */
	add_step(&l, "munmap 64K of it", DEMO_UNMAP, mmap_base + GiB / 2u + 64 * KiB, 0, 64 * KiB,
		 user_rw);
	add_user(&l, "libc text", mmap_base + 2 * GiB + 0x28000, 0x178000, user_rx);
	add_user(&l, "libc data", mmap_base + 2 * GiB + 0x403000, 0x9000, user_rw);
	/* VFIO maps a BAR into the process; it starts 64K into the BAR. */
	add_step(&l, "device BAR (VFIO)", DEMO_MAP, mmap_base + 4 * GiB + 64 * KiB,
		 BAR_PA + 64 * KiB, BAR_SIZE - 64 * KiB, user_bar);
	add_user(&l, "stack", half - 0x23000, 0x21000, user_rw);
	return l.count;
}
