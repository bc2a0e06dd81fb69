/* SPDX-License-Identifier: MIT */
/* handwritten.c - see handwritten.h. */
#include "handwritten.h"

#include <stdbool.h>

#define PAGE_SHIFT 12
#define PMD_SHIFT 21
#define PUD_SHIFT 30
#define PGDIR_SHIFT 39
#define PTRS_PER_TABLE 512
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PMD_SIZE (1ull << PMD_SHIFT)
#define PUD_SIZE (1ull << PUD_SHIFT)
#define PGDIR_SIZE (1ull << PGDIR_SHIFT)
#define PMD_MASK (~(PMD_SIZE - 1))
#define PUD_MASK (~(PUD_SIZE - 1))
#define PGDIR_MASK (~(PGDIR_SIZE - 1))

#define _PAGE_PRESENT 0x001ull
#define _PAGE_RW 0x002ull
#define _PAGE_USER 0x004ull
#define _PAGE_PWT 0x008ull
#define _PAGE_PCD 0x010ull
#define _PAGE_ACCESSED 0x020ull
#define _PAGE_DIRTY 0x040ull
#define _PAGE_PSE 0x080ull
#define _PAGE_PAT 0x080ull
#define _PAGE_GLOBAL 0x100ull
#define _PAGE_SPECIAL 0x200ull
#define _PAGE_PAT_LARGE 0x1000ull
#define _PAGE_NX (1ull << 63)
#define PTE_PFN_MASK 0x000ffffffffff000ull
#define _KERNPG_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)

typedef struct { uint64_t pgd; } pgd_t;
typedef struct { uint64_t pud; } pud_t;
typedef struct { uint64_t pmd; } pmd_t;
typedef struct { uint64_t pte; } pte_t;

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* __va(): the heap backend's PA is the host address. */
static inline void *hw_va(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

static inline unsigned pgd_index(uint64_t a) { return (a >> PGDIR_SHIFT) & (PTRS_PER_TABLE - 1); }
static inline unsigned pud_index(uint64_t a) { return (a >> PUD_SHIFT) & (PTRS_PER_TABLE - 1); }
static inline unsigned pmd_index(uint64_t a) { return (a >> PMD_SHIFT) & (PTRS_PER_TABLE - 1); }
static inline unsigned pte_index(uint64_t a) { return (a >> PAGE_SHIFT) & (PTRS_PER_TABLE - 1); }

static inline pgd_t *pgd_offset(const struct hw_mm *mm, uint64_t a)
{
	return (pgd_t *)mm->pgd + pgd_index(a);
}
static inline pud_t *pud_offset(pgd_t *pgd, uint64_t a)
{
	return (pud_t *)hw_va(READ_ONCE(pgd->pgd) & PTE_PFN_MASK) + pud_index(a);
}
static inline pmd_t *pmd_offset(pud_t *pud, uint64_t a)
{
	return (pmd_t *)hw_va(READ_ONCE(pud->pud) & PTE_PFN_MASK) + pmd_index(a);
}
static inline pte_t *pte_offset(pmd_t *pmd, uint64_t a)
{
	return (pte_t *)hw_va(READ_ONCE(pmd->pmd) & PTE_PFN_MASK) + pte_index(a);
}

static inline bool pgd_none(pgd_t e) { return e.pgd == 0; }
static inline bool pud_none(pud_t e) { return e.pud == 0; }
static inline bool pmd_none(pmd_t e) { return e.pmd == 0; }
static inline bool pte_none(pte_t e) { return e.pte == 0; }
static inline bool pud_leaf(pud_t e) { return (e.pud & (_PAGE_PRESENT | _PAGE_PSE)) == (_PAGE_PRESENT | _PAGE_PSE); }
static inline bool pmd_leaf(pmd_t e) { return (e.pmd & (_PAGE_PRESENT | _PAGE_PSE)) == (_PAGE_PRESENT | _PAGE_PSE); }
static inline bool pte_present(pte_t e) { return e.pte & _PAGE_PRESENT; }

static inline uint64_t pgd_addr_end(uint64_t a, uint64_t end)
{
	uint64_t b = (a + PGDIR_SIZE) & PGDIR_MASK;
	return b - 1 < end - 1 ? b : end;
}
static inline uint64_t pud_addr_end(uint64_t a, uint64_t end)
{
	uint64_t b = (a + PUD_SIZE) & PUD_MASK;
	return b - 1 < end - 1 ? b : end;
}
static inline uint64_t pmd_addr_end(uint64_t a, uint64_t end)
{
	uint64_t b = (a + PMD_SIZE) & PMD_MASK;
	return b - 1 < end - 1 ? b : end;
}

static void *alloc_table(const struct hw_mm *mm, uint64_t *pa)
{
	vpte_pa_t p;
	if (mm->mem.ops->alloc(mm->mem.ctx, PAGE_SIZE, PAGE_SIZE, &p))
		return NULL;
	*pa = p.addr;
	return hw_va(p.addr);
}

static void free_table(const struct hw_mm *mm, void *table)
{
	mm->mem.ops->free(mm->mem.ctx, vpte_pa((uintptr_t)table), PAGE_SIZE);
}

/* pud_alloc() / pmd_alloc() / pte_alloc(): populate an empty entry. */
static inline int populate(const struct hw_mm *mm, uint64_t *entry)
{
	uint64_t pa;
	if (!alloc_table(mm, &pa))
		return -VPTE_ENOMEM;
	WRITE_ONCE(*entry, pa | _KERNPG_TABLE);
	return 0;
}

int hw_init(struct hw_mm *mm, struct vpte_mem mem)
{
	uint64_t pa;
	mm->mem = mem;
	mm->pgd = alloc_table(mm, &pa);
	return mm->pgd ? 0 : -VPTE_ENOMEM;
}

void hw_destroy(struct hw_mm *mm)
{
	for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
		pgd_t *pgd = (pgd_t *)mm->pgd + i;
		if (pgd_none(*pgd))
			continue;
		pud_t *pud0 = pud_offset(pgd, 0);
		for (unsigned j = 0; j < PTRS_PER_TABLE; j++) {
			pud_t *pud = pud0 + j;
			if (pud_none(*pud) || pud_leaf(*pud))
				continue;
			pmd_t *pmd0 = pmd_offset(pud, 0);
			for (unsigned k = 0; k < PTRS_PER_TABLE; k++) {
				pmd_t *pmd = pmd0 + k;
				if (!pmd_none(*pmd) && !pmd_leaf(*pmd))
					free_table(mm, pte_offset(pmd, 0));
			}
			free_table(mm, pmd0);
		}
		free_table(mm, pud0);
	}
	free_table(mm, mm->pgd);
	mm->pgd = NULL;
}

int hw_map_4k(struct hw_mm *mm, uint64_t va, uint64_t pa, uint64_t pgprot)
{
	if ((va | pa) & (PAGE_SIZE - 1))
		return -VPTE_EINVAL;
	pgd_t *pgd = pgd_offset(mm, va);
	if (pgd_none(READ_ONCE(*pgd)) && populate(mm, &pgd->pgd))
		return -VPTE_ENOMEM;
	pud_t *pud = pud_offset(pgd, va);
	pud_t pudv = READ_ONCE(*pud);
	if (pud_leaf(pudv))
		return -VPTE_EEXIST;
	if (pud_none(pudv) && populate(mm, &pud->pud))
		return -VPTE_ENOMEM;
	pmd_t *pmd = pmd_offset(pud, va);
	pmd_t pmdv = READ_ONCE(*pmd);
	if (pmd_leaf(pmdv))
		return -VPTE_EEXIST;
	if (pmd_none(pmdv) && populate(mm, &pmd->pmd))
		return -VPTE_ENOMEM;
	pte_t *pte = pte_offset(pmd, va);
	if (!pte_none(READ_ONCE(*pte)))
		return -VPTE_EEXIST;
	WRITE_ONCE(pte->pte, pa | pgprot);
	return 0;
}

static int map_pte_range(const struct hw_mm *mm, pmd_t *pmd, uint64_t addr, uint64_t end,
			 uint64_t pa, uint64_t pgprot)
{
	if (pmd_none(READ_ONCE(*pmd)) && populate(mm, &pmd->pmd))
		return -VPTE_ENOMEM;
	if (pmd_leaf(READ_ONCE(*pmd)))
		return -VPTE_EEXIST;
	pte_t *pte = pte_offset(pmd, addr);
	do {
		if (!pte_none(READ_ONCE(*pte)))
			return -VPTE_EEXIST;
		WRITE_ONCE(pte->pte, pa | pgprot);
		pa += PAGE_SIZE;
	} while (pte++, addr += PAGE_SIZE, addr != end);
	return 0;
}

static int map_pmd_range(const struct hw_mm *mm, pud_t *pud, uint64_t addr, uint64_t end,
			 uint64_t pa, uint64_t pgprot, unsigned max_shift)
{
	if (pud_none(READ_ONCE(*pud)) && populate(mm, &pud->pud))
		return -VPTE_ENOMEM;
	if (pud_leaf(READ_ONCE(*pud)))
		return -VPTE_EEXIST;
	pmd_t *pmd = pmd_offset(pud, addr);
	uint64_t next;
	do {
		next = pmd_addr_end(addr, end);
		if (max_shift >= PMD_SHIFT && next - addr == PMD_SIZE && !(pa & (PMD_SIZE - 1))) {
			/* vmap_try_huge_pmd() */
			if (!pmd_none(READ_ONCE(*pmd)))
				return -VPTE_EEXIST;
			uint64_t huge = pgprot;
			if (huge & _PAGE_PAT) /* the PAT bit moves to bit 12 */
				huge = (huge & ~_PAGE_PAT) | _PAGE_PAT_LARGE;
			WRITE_ONCE(pmd->pmd, pa | huge | _PAGE_PSE);
		} else {
			int err = map_pte_range(mm, pmd, addr, next, pa, pgprot);
			if (err)
				return err;
		}
		pa += next - addr;
	} while (pmd++, addr = next, addr != end);
	return 0;
}

static int map_pud_range(const struct hw_mm *mm, pgd_t *pgd, uint64_t addr, uint64_t end,
			 uint64_t pa, uint64_t pgprot, unsigned max_shift)
{
	if (pgd_none(READ_ONCE(*pgd)) && populate(mm, &pgd->pgd))
		return -VPTE_ENOMEM;
	pud_t *pud = pud_offset(pgd, addr);
	uint64_t next;
	do {
		next = pud_addr_end(addr, end);
		int err = map_pmd_range(mm, pud, addr, next, pa, pgprot, max_shift);
		if (err)
			return err;
		pa += next - addr;
	} while (pud++, addr = next, addr != end);
	return 0;
}

int hw_map_range(struct hw_mm *mm, uint64_t va, uint64_t pa, uint64_t size, uint64_t pgprot,
		 unsigned max_shift)
{
	if (!size || ((va | pa | size) & (PAGE_SIZE - 1)))
		return -VPTE_EINVAL;
	uint64_t addr = va, end = va + size, next;
	pgd_t *pgd = pgd_offset(mm, addr);
	do {
		next = pgd_addr_end(addr, end);
		int err = map_pud_range(mm, pgd, addr, next, pa, pgprot, max_shift);
		if (err)
			return err;
		pa += next - addr;
	} while (pgd++, addr = next, addr != end);
	return 0;
}

/* vunmap_range(): clear leaves (whole 2 MiB pages only), keep tables. */
static void unmap_pte_range(pmd_t *pmd, uint64_t addr, uint64_t end)
{
	pte_t *pte = pte_offset(pmd, addr);
	do
		WRITE_ONCE(pte->pte, 0);
	while (pte++, addr += PAGE_SIZE, addr != end);
}

static void unmap_pmd_range(pud_t *pud, uint64_t addr, uint64_t end)
{
	pmd_t *pmd = pmd_offset(pud, addr);
	uint64_t next;
	do {
		next = pmd_addr_end(addr, end);
		pmd_t v = READ_ONCE(*pmd);
		if (pmd_leaf(v) && next - addr == PMD_SIZE)
			WRITE_ONCE(pmd->pmd, 0);
		else if (!pmd_none(v) && !pmd_leaf(v))
			unmap_pte_range(pmd, addr, next);
	} while (pmd++, addr = next, addr != end);
}

static void unmap_pud_range(pgd_t *pgd, uint64_t addr, uint64_t end)
{
	pud_t *pud = pud_offset(pgd, addr);
	uint64_t next;
	do {
		next = pud_addr_end(addr, end);
		pud_t v = READ_ONCE(*pud);
		if (!pud_none(v) && !pud_leaf(v))
			unmap_pmd_range(pud, addr, next);
	} while (pud++, addr = next, addr != end);
}

void hw_unmap_range(struct hw_mm *mm, uint64_t va, uint64_t size)
{
	uint64_t addr = va, end = va + size, next;
	pgd_t *pgd = pgd_offset(mm, addr);
	do {
		next = pgd_addr_end(addr, end);
		if (!pgd_none(READ_ONCE(*pgd)))
			unmap_pud_range(pgd, addr, next);
	} while (pgd++, addr = next, addr != end);
}

/* Decode a leaf the way vpte_seek() does, for the same job done. */
static inline void decode(struct hw_leaf *out, uint64_t va, uint64_t e, unsigned level)
{
	unsigned shift = PAGE_SHIFT + 9 * level;
	uint64_t pat = level ? _PAGE_PAT_LARGE : _PAGE_PAT;
	uint32_t flags = VPTE_R;
	unsigned index = ((e & pat) ? 4u : 0u) | ((e & _PAGE_PCD) ? 2u : 0u) | ((e & _PAGE_PWT) ? 1u : 0u);
	if (e & _PAGE_RW)
		flags |= VPTE_W;
	if (e & _PAGE_USER)
		flags |= VPTE_U;
	if (!(e & _PAGE_NX))
		flags |= VPTE_X;
	if (e & _PAGE_GLOBAL)
		flags |= VPTE_G;
	if (e & _PAGE_ACCESSED)
		flags |= VPTE_A;
	if (e & _PAGE_DIRTY)
		flags |= VPTE_D;
	if (e & _PAGE_SPECIAL)
		flags |= VPTE_SPECIAL;
	out->va = va & ~((1ull << shift) - 1);
	out->pa = e & PTE_PFN_MASK & ~((1ull << shift) - 1);
	out->entry = e;
	out->level = level;
	out->shift = shift;
	out->flags = flags;
	out->memtype = index == 0 ? VPTE_MT_WB : index == 2 ? VPTE_MT_NC : index == 3 ? VPTE_MT_DEVICE
									     : VPTE_MT_OTHER;
}

int hw_lookup(const struct hw_mm *mm, uint64_t va, struct hw_leaf *out)
{
	pgd_t *pgd = pgd_offset(mm, va);
	if (pgd_none(READ_ONCE(*pgd)))
		return 0;
	pud_t *pud = pud_offset(pgd, va);
	pud_t pudv = READ_ONCE(*pud);
	if (!(pudv.pud & _PAGE_PRESENT))
		return 0;
	if (pud_leaf(pudv)) {
		decode(out, va, pudv.pud, 2);
		return 1;
	}
	pmd_t *pmd = pmd_offset(pud, va);
	pmd_t pmdv = READ_ONCE(*pmd);
	if (!(pmdv.pmd & _PAGE_PRESENT))
		return 0;
	if (pmd_leaf(pmdv)) {
		decode(out, va, pmdv.pmd, 1);
		return 1;
	}
	pte_t ptev = READ_ONCE(*pte_offset(pmd, va));
	if (!pte_present(ptev))
		return 0;
	decode(out, va, ptev.pte, 0);
	return 1;
}
