// stub-arm64.s - the arm64 conformance stub.
//
// QEMU's generic loader puts this at the start of RAM (PA 0x41000000 on the
// virt machine) and starts the CPU there at EL1.  The harness maps that
// granule page to itself with vpte, so the code goes on running once the
// MMU is on.  The parameter block at PA 0x41010000 holds:
//     +0   TTBR0_EL1: root of the tables
//     +8   TCR_EL1: T0SZ, TG0 (granule), IPS, EPD1, cacheability of walks
//     +16  MAIR_EL1 (0x444ff, docs/formats.md)
// The stub programs them, invalidates the TLB, sets SCTLR_EL1.M and waits
// for interrupts (masked: forever).  Built with aarch64-linux-gnu-as/ld.
	.set PARAMS, 0x41010000

	.text
	.global _start
_start:
	ldr	x0, =PARAMS
	ldr	x1, [x0]
	ldr	x2, [x0, #8]
	ldr	x3, [x0, #16]
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
1:	wfi
	b	1b
	.ltorg
