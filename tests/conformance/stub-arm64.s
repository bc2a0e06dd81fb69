// stub-arm64.s - the arm64 conformance stub.
//
// QEMU's generic loader puts this in RAM at PA 0x41000000 on the virt
// machine (its first MiB holds the device tree) and starts the CPU there at
// EL1.  The harness maps that granule page to itself with vpte, so the code
// goes on running once the MMU is on.  The parameter block at PA 0x41010000:
//     +0   TTBR0_EL1: root of the tables
//     +8   TCR_EL1: T0SZ, TG0 (granule), IPS, EPD1, cacheability of walks
//     +16  MAIR_EL1 (0x444ff, docs/formats.md)
//     +24  PA of the probe block, mapped to itself (0: none)
// The stub programs the registers, invalidates the TLB and sets
// SCTLR_EL1.M.  Then, through the MMU, it runs the probe block:
//     +0   count N; +8 N VAs; then N results of 4 x 8 bytes:
//          PAR_EL1 after AT S1E1R, AT S1E1W, AT S1E0R, AT S1E0W of the VA
// (the architected translation instructions: QEMU runs its real walker for
// them, with access flag and permission checks, unlike the monitor's debug
// walk), and overwrites the count with "probed\0\0" when done.  Then it
// waits for interrupts (masked: forever).  Built with aarch64-linux-gnu-as/ld.
	.set PARAMS, 0x41010000
	.set DONE, 0x000064656272706f	// "probed" little-endian, NUL-padded

	.text
	.global _start
_start:
	ldr	x0, =PARAMS
	ldr	x1, [x0]
	ldr	x2, [x0, #8]
	ldr	x3, [x0, #16]
	ldr	x5, [x0, #24]
	msr	mair_el1, x3
	msr	tcr_el1, x2
	msr	ttbr0_el1, x1
	isb
	tlbi	vmalle1
	dsb	sy
	isb
	mrs	x4, sctlr_el1
	orr	x4, x4, #1		// SCTLR_EL1.M: from here on, through vpte's tables
	msr	sctlr_el1, x4
	isb

	cbz	x5, park
	ldr	x6, [x5]		// N
	add	x7, x5, #8		// the VAs
	add	x8, x7, x6, lsl #3	// the results
probe:
	cbz	x6, probed
	ldr	x9, [x7], #8
	at	s1e1r, x9
	isb
	mrs	x10, par_el1
	at	s1e1w, x9
	isb
	mrs	x11, par_el1
	at	s1e0r, x9
	isb
	mrs	x12, par_el1
	at	s1e0w, x9
	isb
	mrs	x13, par_el1
	stp	x10, x11, [x8], #16
	stp	x12, x13, [x8], #16
	sub	x6, x6, #1
	b	probe
probed:
	ldr	x9, =DONE
	dsb	sy
	str	x9, [x5]
	dsb	sy
park:
1:	wfi
	b	1b
	.ltorg
