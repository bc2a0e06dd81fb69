/* SPDX-License-Identifier: MIT */
/*
 * elf_dump.h - a QEMU `dump-guest-memory` ELF core file as physical memory:
 * its PT_LOAD segments place file bytes at guest-physical addresses
 * (p_paddr; the gaps between them are holes), and its "QEMU" notes carry
 * each CPU's state, for x86 the CR3 that names the page-table root.  Every
 * offset and size the file gives is bounds-checked, so a corrupt or
 * truncated file is an error message, never a bad read.
 */
#ifndef VPTE_TOOL_ELF_DUMP_H
#define VPTE_TOOL_ELF_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpte/vpte.h"

/*
 * Guest-physical [paddr, paddr + size) is @data[0 .. size): the file's bytes
 * at the segment's offset, or an 8-byte aligned copy of them when that
 * offset is not aligned (the engine reads entries with 8-byte atomic loads).
 */
struct elf_segment {
	uint64_t paddr, size;
	const uint8_t *data;
	void *copy; /* owned, when data is a copy */
};

struct elf_dump {
	const uint8_t *bytes; /* the whole file */
	uint64_t size;
	struct elf_segment *segments; /* sorted by paddr, disjoint */
	size_t count;
	uint16_t machine; /* e_machine: EM_386 (3), EM_X86_64 (62), EM_AARCH64 (183), ... */
	bool has_cr3;     /* an x86 QEMUCPUState note was found (the first CPU's) */
	uint64_t cr3;
};

/* elf_is_dump - whether @bytes (@size of them) start with the ELF magic. */
bool elf_is_dump(const uint8_t *bytes, uint64_t size);

/*
 * elf_dump_parse - read the headers of the ELF file held in @bytes.  The
 * bytes must stay valid while @d is used.  Returns 0, or -1 with *@why set
 * to a static description of what is wrong with the file.
 */
int elf_dump_parse(struct elf_dump *d, const uint8_t *bytes, uint64_t size, const char **why);

/*
 * elf_dump_root - the page-table root the dump records for @fmt: CR3's
 * address bits for an x86-64 format when the dump holds x86 CPU state.
 * Returns false when it holds none for @fmt (QEMU 7.2 saves no TTBR for
 * arm64 and no satp for RISC-V: target/arm/arch_dump.c and
 * target/riscv/arch_dump.c write general registers only).
 */
bool elf_dump_root(const struct elf_dump *d, const struct vpte_format *fmt, uint64_t *root);

/* elf_dump_mem - read-only memory callbacks over the segments (NULL outside them). */
struct vpte_mem elf_dump_mem(struct elf_dump *d);

/* elf_dump_release - free what elf_dump_parse() allocated (not the file's bytes). */
void elf_dump_release(struct elf_dump *d);

#endif
