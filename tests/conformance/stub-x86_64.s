# stub-x86_64.s - the x86-64 conformance stub: QEMU's -bios image.
#
# 64 KiB of firmware ending at 4 GiB; everything lives in its last 4 KiB page
# (PA 0xfffff000), which the harness maps to itself with vpte, so the code
# goes on running once paging is on.  From the reset vector (real mode):
# load a flat GDT, enter 32-bit protected mode, read the parameter block the
# harness loads into RAM at PA 0x1000:
#     +0  root of the tables (CR3; below 4 GiB)
#     +8  extra CR4 bits (CR4.LA57 = 1 << 12 for x86_64-la57, else 0)
#     +16 PA of the probe block, mapped to itself (0: none)
# then CR4 = PAE | PGE | extra, CR3 = root, EFER = LME | NXE, CR0.PG = 1
# (long mode, through vpte's tables) and far jump to 64-bit code.  There,
# through the MMU, it runs the probe block:
#     +0  count N; +8 N VAs; then N results of 8 bytes: 0 when a byte load from
#         the VA went through, else 1 << 63 | vector << 32 | error code of
#         the exception it took (14 page fault, 13 general protection)
# (QEMU's real walker, with its reserved-bit checks, unlike the monitor's
# debug walk), overwrites the count with "probed\0\0", and halts with
# interrupts off, forever.  The stack for the exception frames is the top
# of the probe block's 128 KiB.  QEMU's monitor then translates through
# exactly this MMU state.  Built with the native `as` + objcopy -O binary.
	.set ROM_BASE, 0xffff0000
	.set PARAMS, 0x1000
	.set CODE_SEL, 0x08
	.set DATA_SEL, 0x10
	.set CODE64_SEL, 0x18
	.set PROBE_MAP, 0x20000
	.set DONE, 0x000064656272706f	# "probed" little-endian, NUL-padded

	.text
	.code16
start:
	.fill 0xf000, 1, 0xff	# unused firmware space; code in the last page

entry16:
	cli
	lgdtl %cs:(gdt_desc - start)	# CS base is 0xffff0000 at reset
	movl %cr0, %eax
	orl $1, %eax			# CR0.PE
	movl %eax, %cr0
	ljmpl $CODE_SEL, $(ROM_BASE + entry32 - start)

	.code32
entry32:
	movw $DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl (PARAMS + 8), %eax
	orl $0xa0, %eax			# CR4.PAE (bit 5) | CR4.PGE (bit 7)
	movl %eax, %cr4			# LA57 may only change with paging off
	movl (PARAMS), %eax
	movl %eax, %cr3
	movl (PARAMS + 16), %esi	# probe block (kept in %rsi: upper half zero)
	movl $0xc0000080, %ecx		# IA32_EFER
	rdmsr
	orl $0x900, %eax		# LME (bit 8) | NXE (bit 11)
	wrmsr
	movl %cr0, %eax
	orl $0x80000000, %eax		# CR0.PG: from here on, fetch through vpte's tables
	movl %eax, %cr0
	ljmpl $CODE64_SEL, $(ROM_BASE + entry64 - start)

	.code64
entry64:
	cli
	testl %esi, %esi
	jz park
	lidt idt_desc(%rip)
	leaq PROBE_MAP(%rsi), %rsp
	movq (%rsi), %rcx		# N
	leaq 8(%rsi), %rdi		# the VAs
	leaq (%rdi,%rcx,8), %rbx	# the results
probe:
	testq %rcx, %rcx
	jz probed
	movq (%rdi), %rax
	xorl %r8d, %r8d
	movzbl (%rax), %edx		# one byte (may fault: the handler sets %r8, resumes below)
resume:
	movq %r8, (%rbx)
	addq $8, %rdi
	addq $8, %rbx
	decq %rcx
	jmp probe
probed:
	movabsq $DONE, %rax
	movq %rax, (%rsi)
park:
	hlt
	jmp park

# Page fault and general protection: both push an error code.
fault14:
	movq $14, %r8
	jmp fault
fault13:
	movq $13, %r8
fault:
	shlq $32, %r8
	orq (%rsp), %r8			# error code
	btsq $63, %r8
	leaq resume(%rip), %r9
	movq %r9, 8(%rsp)		# return to resume, past the load
	addq $8, %rsp
	iretq
die:					# anything else: stop; the harness sees no "probed"
	hlt
	jmp die

	.macro gate handler
	.word (ROM_BASE + \handler - start) & 0xffff
	.word CODE64_SEL
	.byte 0, 0x8e			# present, DPL 0, 64-bit interrupt gate
	.word (ROM_BASE + \handler - start) >> 16
	.long 0, 0
	.endm
	.p2align 4
idt:
	.rept 13
	gate die
	.endr
	gate fault13
	gate fault14
	.rept 17
	gate die
	.endr
idt_end:
idt_desc:
	.word idt_end - idt - 1
	.quad ROM_BASE + idt - start

	.p2align 3
gdt:	# accessed bits preset: loading a selector never writes the (ROM) GDT
	.quad 0
	.quad 0x00cf9b000000ffff	# 0x08: 32-bit code, flat
	.quad 0x00cf93000000ffff	# 0x10: data, flat
	.quad 0x00af9b000000ffff	# 0x18: 64-bit code (L = 1)
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long ROM_BASE + gdt - start

	.code16
	.org 0xfff0
reset:					# the CPU starts here, at 0xfffffff0
	jmp entry16
	.org 0x10000, 0xff
