/* SPDX-License-Identifier: MIT */
/*
 * elf_dump.c - reading a QEMU dump-guest-memory ELF core file.
 *
 * Layouts are those of the System V gABI (ELF header, program headers,
 * notes) for ELFCLASS32 and ELFCLASS64, little-endian only.  QEMU writes a
 * 32-bit core for an x86 guest that is not in long mode and whose memory
 * ends below 4 GiB (target/i386/arch_dump.c, cpu_get_dump_info), so both
 * classes occur in practice.
 */
#include "elf_dump.h"

#include <stdlib.h>
#include <string.h>

#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_CORE 4
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define PN_XNUM 0xffffu /* e_phnum overflowed: the count is section 0's sh_info */

/*
 * QEMU's x86 CPU state note: name "QEMU", type 0, a QEMUCPUState (version
 * 1): version, size, 18 general registers, 10 segment descriptors of 24
 * bytes, then cr[0..4] (target/i386/arch_dump.c).  CR3 is therefore at
 * 8 + 18 * 8 + 10 * 24 + 3 * 8 = 416.
 */
#define QEMU_NOTE_TYPE 0u
#define QEMU_CPU_STATE_CR3 416u

/* CR3 bits 51:12 hold the top table's address; the low bits are PCID or
 * PWT/PCD, bit 63 the no-flush hint (Intel SDM Vol. 3A 4.5, Table 4-12 and
 * 4-13). */
#define CR3_ADDRESS_MASK 0x000ffffffffff000ull

/* Field offsets that differ between the classes. */
struct elf_layout {
	uint64_t ehdr_size, phoff_at, shoff_at, phentsize_at, phnum_at;
	uint64_t phdr_size, p_offset_at, p_paddr_at, p_filesz_at;
	uint64_t shdr_size, sh_info_at;
	unsigned word; /* bytes of an address or offset field */
};

static const struct elf_layout layout32 = { 52, 28, 32, 42, 44, 32, 4, 12, 16, 40, 28, 4 };
static const struct elf_layout layout64 = { 64, 32, 40, 54, 56, 56, 8, 24, 32, 64, 44, 8 };

static uint64_t le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = bytes; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* Whether [offset, offset + len) lies inside a file of @size bytes. */
static bool inside(uint64_t size, uint64_t offset, uint64_t len)
{
	return offset <= size && len <= size - offset;
}

bool elf_is_dump(const uint8_t *bytes, uint64_t size)
{
	return size >= 4 && !memcmp(bytes, "\177ELF", 4);
}

static int compare_segments(const void *a, const void *b)
{
	const struct elf_segment *x = a, *y = b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* Looks for the first x86 QEMUCPUState in the notes at [offset, offset + len). */
static void read_notes(struct elf_dump *d, uint64_t offset, uint64_t len)
{
	const uint8_t *p = d->bytes + offset;
	uint64_t at = 0;
	/* Each note: namesz, descsz, type, then name and desc padded to 4 bytes. */
	while (!d->has_cr3 && len - at >= 12) {
		uint64_t namesz = le(p + at, 4), descsz = le(p + at + 4, 4);
		uint64_t type = le(p + at + 8, 4);
		uint64_t name_at = at + 12, desc_at = name_at + ((namesz + 3u) & ~3ull);
		if (desc_at > len || ((descsz + 3u) & ~3ull) > len - desc_at)
			return; /* a truncated note ends the list */
		if (type == QEMU_NOTE_TYPE && namesz == 5 && !memcmp(p + name_at, "QEMU", 5) &&
		    descsz >= QEMU_CPU_STATE_CR3 + 8 &&
		    (d->machine == EM_386 || d->machine == EM_X86_64)) {
			d->cr3 = le(p + desc_at + QEMU_CPU_STATE_CR3, 8);
			d->has_cr3 = true;
		}
		at = desc_at + ((descsz + 3u) & ~3ull);
	}
}

/* Adds the PT_LOAD segment of program header @ph; returns NULL or why it is bad. */
static const char *add_load(struct elf_dump *d, const struct elf_layout *l, const uint8_t *ph)
{
	uint64_t offset = le(ph + l->p_offset_at, l->word);
	uint64_t paddr = le(ph + l->p_paddr_at, l->word);
	uint64_t filesz = le(ph + l->p_filesz_at, l->word);
	if (!inside(d->size, offset, filesz))
		return "a PT_LOAD segment lies beyond the end of the file (truncated?)";
	if (paddr + filesz < paddr)
		return "a PT_LOAD segment wraps around the physical address space";
	if (!filesz)
		return NULL;
	struct elf_segment *s = &d->segments[d->count++];
	*s = (struct elf_segment){ paddr, filesz, d->bytes + offset, NULL };
	if (offset % sizeof(uint64_t)) {
		if (!(s->copy = malloc(filesz)))
			return "out of memory for an unaligned segment's copy";
		memcpy(s->copy, s->data, filesz);
		s->data = s->copy;
	}
	return NULL;
}

/* Reads the program headers; returns NULL or why the file is bad. */
static const char *read_headers(struct elf_dump *d, const struct elf_layout *l)
{
	const uint8_t *b = d->bytes;
	if (!inside(d->size, 0, l->ehdr_size))
		return "truncated ELF header";
	if (le(b + 16, 2) != ET_CORE)
		return "not an ELF core file (e_type is not ET_CORE)";
	d->machine = (uint16_t)le(b + 18, 2);
	uint64_t phoff = le(b + l->phoff_at, l->word);
	uint64_t phentsize = le(b + l->phentsize_at, 2), phnum = le(b + l->phnum_at, 2);
	if (phnum == PN_XNUM) {
		uint64_t shoff = le(b + l->shoff_at, l->word);
		if (!inside(d->size, shoff, l->shdr_size))
			return "e_phnum is PN_XNUM but section header 0 is outside the file";
		phnum = le(b + shoff + l->sh_info_at, 4);
	}
	if (phentsize < l->phdr_size)
		return "program headers too small for their class";
	if (phnum > d->size / phentsize || !inside(d->size, phoff, phnum * phentsize))
		return "program headers lie beyond the end of the file (truncated?)";
	if (!(d->segments = calloc(phnum ? phnum : 1u, sizeof(*d->segments))))
		return "out of memory for the segment list";
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = b + phoff + i * phentsize;
		uint64_t type = le(ph, 4);
		if (type == PT_LOAD) {
			const char *why = add_load(d, l, ph);
			if (why)
				return why;
		} else if (type == PT_NOTE) {
			uint64_t offset = le(ph + l->p_offset_at, l->word);
			uint64_t filesz = le(ph + l->p_filesz_at, l->word);
			if (!inside(d->size, offset, filesz))
				return "a PT_NOTE segment lies beyond the end of the file (truncated?)";
			read_notes(d, offset, filesz);
		}
	}
	if (!d->count)
		return "no PT_LOAD segment: the dump holds no memory";
	qsort(d->segments, d->count, sizeof(*d->segments), compare_segments);
	for (size_t i = 1; i < d->count; i++)
		if (d->segments[i].paddr - d->segments[i - 1].paddr < d->segments[i - 1].size)
			return "PT_LOAD segments overlap in physical memory";
	return NULL;
}

int elf_dump_parse(struct elf_dump *d, const uint8_t *bytes, uint64_t size, const char **why)
{
	*d = (struct elf_dump){ .bytes = bytes, .size = size };
	if (!elf_is_dump(bytes, size) || size < EI_NIDENT)
		*why = "not an ELF file";
	else if (bytes[EI_DATA] != ELFDATA2LSB)
		*why = "not a little-endian ELF file";
	else if (bytes[EI_CLASS] != ELFCLASS32 && bytes[EI_CLASS] != ELFCLASS64)
		*why = "unknown ELF class";
	else
		*why = read_headers(d, bytes[EI_CLASS] == ELFCLASS64 ? &layout64 : &layout32);
	if (!*why)
		return 0;
	elf_dump_release(d);
	return -1;
}

bool elf_dump_root(const struct elf_dump *d, const struct vpte_format *fmt, uint64_t *root)
{
	/* By name: a build need not have either format (VPTE_FORMATS). */
	if (!d->has_cr3 || (strcmp(fmt->name, "x86_64") && strcmp(fmt->name, "x86_64-la57")))
		return false;
	*root = d->cr3 & CR3_ADDRESS_MASK;
	return true;
}

static int dump_alloc(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa)
{
	(void)ctx;
	(void)size;
	(void)align;
	(void)pa;
	return -VPTE_ENOMEM;
}

static void dump_free(void *ctx, vpte_pa_t pa, uint64_t size)
{
	(void)ctx;
	(void)pa;
	(void)size;
}

/* The bytes at [pa, pa + size) when one segment holds them all. */
static void *dump_phys_to_virt(void *ctx, vpte_pa_t pa, uint64_t size)
{
	const struct elf_dump *d = ctx;
	size_t lo = 0, hi = d->count;
	while (hi - lo > 1) { /* the last segment starting at or below pa */
		size_t mid = lo + (hi - lo) / 2;
		if (d->segments[mid].paddr <= pa.addr)
			lo = mid;
		else
			hi = mid;
	}
	const struct elf_segment *s = &d->segments[lo];
	if (pa.addr < s->paddr || !inside(s->size, pa.addr - s->paddr, size))
		return NULL;
	return (void *)(uintptr_t)(s->data + (pa.addr - s->paddr));
}

static const struct vpte_mem_ops dump_ops = { dump_alloc, dump_free, dump_phys_to_virt, NULL, NULL, NULL };

struct vpte_mem elf_dump_mem(struct elf_dump *d)
{
	struct vpte_mem mem = { .ops = &dump_ops, .ctx = d };
	return mem;
}

void elf_dump_release(struct elf_dump *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->segments[i].copy);
	free(d->segments);
	d->segments = NULL;
	d->count = 0;
}
