# stub-x86_64.s - the x86-64 conformance stub: QEMU's -bios image.
#
# 64 KiB of firmware ending at 4 GiB; everything lives in its last 4 KiB page
# (PA 0xfffff000), which the harness maps to itself with vpte, so the code
# goes on running once paging is on.  From the reset vector (real mode):
# load a flat GDT, enter 32-bit protected mode, read the parameter block the
# harness loads into RAM at PA 0x1000:
#     +0  root of the tables (CR3; below 4 GiB)
#     +8  extra CR4 bits (CR4.LA57 = 1 << 12 for x86_64-la57, else 0)
# then CR4 = PAE | PGE | extra, CR3 = root, EFER = LME | NXE, CR0.PG = 1
# (long mode, through vpte's tables), far jump to 64-bit code and halt with
# interrupts off, forever.  QEMU's monitor then translates through exactly
# this MMU state.  Built with the native `as` + objcopy -O binary.
	.set ROM_BASE, 0xffff0000
	.set PARAMS, 0x1000
	.set CODE_SEL, 0x08
	.set DATA_SEL, 0x10
	.set CODE64_SEL, 0x18

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
1:	hlt
	jmp 1b

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
