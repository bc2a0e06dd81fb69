# stub-riscv64.s - the RISC-V conformance stub.
#
# QEMU's virt machine with -bios none jumps from its reset ROM to the start
# of RAM (PA 0x80000000) in M-mode; the generic loader puts this there.
# The harness maps that page to itself with vpte.  The parameter block at
# PA 0x80010000 holds:
#     +0  satp: MODE (8 Sv39, 9 Sv48, 10 Sv57) << 60 | root PPN
# The stub opens PMP entry 0 over all memory (S-mode has no access without a
# PMP rule), writes satp, sets mstatus.MPP = S, SUM (S-mode may read U pages,
# so the monitor's debug loads translate them) and MXR (execute-only pages
# read too), and mret's into S-mode, where translation is on; there it waits
# for interrupts (none enabled: forever).  Built with riscv64-linux-gnu-as/ld.
	.set PARAMS, 0x80010000

	.text
	.global _start
_start:
	la	t0, trap
	csrw	mtvec, t0
	li	t0, -1
	csrw	pmpaddr0, t0
	li	t0, 0x1f		# NAPOT, R, W, X
	csrw	pmpcfg0, t0
	li	t0, PARAMS
	ld	t1, 0(t0)
	csrw	satp, t1
	sfence.vma
	li	t0, 3 << 11
	csrc	mstatus, t0		# MPP = 0 ...
	li	t0, (1 << 11) | (1 << 18) | (1 << 19)
	csrs	mstatus, t0		# ... then MPP = S, SUM, MXR
	la	t0, smode
	csrw	mepc, t0
	mret
smode:
1:	wfi
	j	1b

	.p2align 2
trap:					# nothing should trap; if it does, stay in M-mode
	j	trap
