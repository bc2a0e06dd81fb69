/* SPDX-License-Identifier: MIT */
/*
 * vpte.h - one level-agnostic API for hardware radix page tables.
 *
 * A *format* (struct vpte_format) describes a hardware layout; a *table*
 * (struct vpte_table) is one address space in that format, built in memory
 * the caller provides through callbacks; a *walk* (struct vpte_walk) is a
 * position in a table that knows its level.  Every function here is
 * freestanding: no libc, no allocation of its own.
 *
 * Conventions
 *   - Addresses are typed: vpte_va_t is a virtual address, vpte_pa_t a
 *     physical one.  Build them with vpte_va() and vpte_pa().
 *   - Sizes are byte counts (uint64_t) or shifts (log2 of a byte count);
 *     never counts of pages.
 *   - Ranges are half-open: [va, va + size).  The last page of the address
 *     space is reachable: va + size may equal 2^64.
 *   - Levels count up from 0, the level whose entries map the smallest pages.
 *   - Functions return 0 or a negative VPTE_E* code; see "Errors".
 */
#ifndef VPTE_VPTE_H
#define VPTE_VPTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Errors.  Equal to Linux's errno values, defined here because errno.h is
 * not a freestanding header.
 * ------------------------------------------------------------------------ */
#define VPTE_EPERM 1   /* refused by request: a special leaf (VPTE_SEEK_NO_SPECIAL) */
#define VPTE_ENOMEM 12 /* a table page could not be allocated; nothing changed */
#define VPTE_EFAULT 14 /* corrupt table: bad table address or invalid entry bits */
#define VPTE_EEXIST 17 /* the range overlaps an existing mapping */
#define VPTE_EINVAL 22 /* misaligned, zero or overflowing size, non-canonical VA, bad option */
#define VPTE_EROFS 30  /* the table was attached read-only */
#define VPTE_ERANGE 34 /* VA or PA beyond the format's widths */

/*
 * vpte_strerror - name a vpte error code.
 * @err: a value returned by a vpte function (negative) or its absolute value.
 *
 * Returns a static string such as "EEXIST: range overlaps an existing
 * mapping"; "unknown error" for anything else.  Never NULL.
 */
const char *vpte_strerror(int err);

/* ------------------------------------------------------------------------
 * Addresses
 * ------------------------------------------------------------------------ */
typedef struct { uint64_t addr; } vpte_va_t; /* virtual (input) address */
typedef struct { uint64_t addr; } vpte_pa_t; /* physical (output) address */

static inline vpte_va_t vpte_va(uint64_t addr) { vpte_va_t va = { addr }; return va; }
static inline vpte_pa_t vpte_pa(uint64_t addr) { vpte_pa_t pa = { addr }; return pa; }

/* ------------------------------------------------------------------------
 * Attributes
 * ------------------------------------------------------------------------ */
#define VPTE_R (1u << 0)       /* readable */
#define VPTE_W (1u << 1)       /* writable */
#define VPTE_X (1u << 2)       /* executable */
#define VPTE_U (1u << 3)       /* accessible from user mode (EL0, U-mode, CPL 3) */
#define VPTE_G (1u << 4)       /* global: not tagged with an address-space id */
#define VPTE_A (1u << 5)       /* accessed */
#define VPTE_D (1u << 6)       /* dirty */
#define VPTE_SPECIAL (1u << 7) /* PFN mapping with no struct page behind it */
#define VPTE_PROT_FLAGS 0xffu  /* every defined flag */

enum vpte_memtype {
	VPTE_MT_WB = 0,     /* normal memory, write-back cacheable */
	VPTE_MT_NC = 1,     /* normal memory, non-cacheable */
	VPTE_MT_DEVICE = 2, /* device memory (strongly ordered / uncached) */
	VPTE_MT_OTHER = 3,  /* read back only: a type vpte has no name for (see w->entry) */
};

/*
 * struct vpte_prot - format-neutral leaf attributes.
 * @flags:   VPTE_R | VPTE_W | ...
 * @memtype: enum vpte_memtype.
 * @raw:     format-specific bits passed through untouched; only bits in the
 *           format's raw_mask may be set (x86-64 protection keys, software
 *           bits, ...).
 *
 * Each format documents how it maps these to hardware bits.  Not every
 * combination exists on every format: write without read never does, and
 * only RISC-V can express execute-only.  vpte_map() returns -VPTE_EINVAL
 * for a combination the format cannot encode.
 */
struct vpte_prot {
	uint32_t flags;
	uint32_t memtype;
	uint64_t raw;
};

/* ------------------------------------------------------------------------
 * Formats
 * ------------------------------------------------------------------------ */
#define VPTE_MAX_LEVELS 6

struct vpte_format_ops; /* private: the format's compiled-in engine */

/*
 * struct vpte_format - a hardware page-table layout.  A format is a constant
 * value; find one with vpte_format_by_name() or walk vpte_formats().
 * @name:           the user-facing name ("x86_64", "arm64-4k-48", ...).
 * @levels:         levels in use; the top table is at level levels - 1.
 * @va_bits:        translated VA width.
 * @pa_bits:        largest output address width the format can encode.
 * @granule_shift:  shift of the smallest page and of every table page.
 * @sign_extend:    VAs are canonical when bits 63..va_bits all equal bit
 *                  va_bits - 1 (x86-64, RISC-V); otherwise they must be 0
 *                  (arm64 TTBR0 region).
 * @level_bits:     index bits of each level; the top level may have fewer.
 * @leaf_levels:    bit L set when level L may hold leaves.
 * @cont_bits:      log2 of the contiguous-run length at each level (arm64
 *                  contiguous bit, RISC-V Svnapot), 0 when none.
 * @raw_mask:       bits that struct vpte_prot.raw may carry.
 * @ops:            private.
 */
struct vpte_format {
	const char *name;
	uint8_t levels;
	uint8_t va_bits;
	uint8_t pa_bits;
	uint8_t granule_shift;
	bool sign_extend;
	uint8_t level_bits[VPTE_MAX_LEVELS];
	uint32_t leaf_levels;
	uint8_t cont_bits[VPTE_MAX_LEVELS];
	uint64_t raw_mask;
	const struct vpte_format_ops *ops;
};

/* The built-in formats, also reachable by name.  A build may have fewer
 * (CMake's VPTE_FORMATS, docs/formats.md): vpte_formats() lists those it
 * has, and naming one it lacks fails to link. */
extern const struct vpte_format vpte_format_x86_64;       /* "x86_64": 4-level, 48-bit VA */
extern const struct vpte_format vpte_format_x86_64_la57;  /* "x86_64-la57": 5-level, 57-bit VA */
extern const struct vpte_format vpte_format_arm64_4k_39;  /* "arm64-4k-39" */
extern const struct vpte_format vpte_format_arm64_4k_48;  /* "arm64-4k-48" */
extern const struct vpte_format vpte_format_arm64_16k_47; /* "arm64-16k-47" */
extern const struct vpte_format vpte_format_arm64_16k_48; /* "arm64-16k-48" */
extern const struct vpte_format vpte_format_arm64_64k_42; /* "arm64-64k-42" */
extern const struct vpte_format vpte_format_arm64_64k_48; /* "arm64-64k-48" */
extern const struct vpte_format vpte_format_riscv_sv39;   /* "riscv-sv39" */
extern const struct vpte_format vpte_format_riscv_sv48;   /* "riscv-sv48" */
extern const struct vpte_format vpte_format_riscv_sv57;   /* "riscv-sv57" */

/*
 * vpte_formats - every format the build has (all, unless VPTE_FORMATS names fewer).
 * @count: set to the number of formats.
 *
 * Returns an array of pointers in a stable order: x86-64, arm64, RISC-V.
 */
const struct vpte_format *const *vpte_formats(size_t *count);

/*
 * vpte_format_by_name - look up a built-in format.
 * @name: a NUL-terminated format name such as "riscv-sv48".
 *
 * Returns the format, or NULL if no format has that name.
 */
const struct vpte_format *vpte_format_by_name(const char *name);

/*
 * vpte_level_shift - shift of the span one entry at @level covers.
 * vpte_top_level - the highest level of @fmt.
 */
static inline unsigned vpte_level_shift(const struct vpte_format *fmt, unsigned level)
{
	unsigned shift = fmt->granule_shift;
	for (unsigned l = 0; l < level; l++)
		shift += fmt->level_bits[l];
	return shift;
}

static inline unsigned vpte_top_level(const struct vpte_format *fmt)
{
	return fmt->levels - 1u;
}

/* ------------------------------------------------------------------------
 * Memory callbacks and tables
 * ------------------------------------------------------------------------ */

/*
 * struct vpte_mem_ops - how the engine gets at table memory.  The engine
 * never allocates on its own.
 * @alloc:        allocate one zeroed table page of @size bytes aligned to
 *                @align; store its physical address in *@pa.  Return 0, or
 *                a negative code (the engine reports -VPTE_ENOMEM).
 * @free:         return a page obtained from @alloc, @alloc_uninit or
 *                @alloc_batch.
 * @phys_to_virt: a pointer to @size bytes at physical address @pa, or NULL
 *                when those bytes are not backed (the engine then reports
 *                -VPTE_EFAULT).  Must not fail for pages from @alloc,
 *                @alloc_uninit or @alloc_batch.
 * @alloc_uninit: optional; as @alloc, but the page's contents are
 *                unspecified (not zeroed).  The engine asks for such a page
 *                only for a table it writes in full before it links the
 *                table into the tree (a map's table whose whole span lies in
 *                the range), so that zeroing it would be wasted work.  NULL:
 *                the engine uses @alloc for those too.  Appended last, so a
 *                positional initialiser of the first three members still
 *                compiles (-Wmissing-field-initializers asks for a fourth
 *                NULL).
 * @alloc_batch:  optional; allocate up to @n pages as @alloc_uninit does
 *                (@size bytes aligned to @align, contents unspecified),
 *                storing their physical addresses in @pa[0] to @pa[n - 1].
 *                Returns how many it stored; fewer than @n means it could
 *                not allocate more, and the engine then gives back the ones
 *                it got through @free and fails with -VPTE_ENOMEM.  The
 *                engine then takes every page of an edit from it, at most
 *                64 a call, and zeroes itself those it needs zeroed
 *                (through @fill where there is one), so a backend pays its
 *                fixed costs (a lock, a counter) once for many pages;
 *                @alloc serves only vpte_table_init().  NULL:
 *                the engine calls @alloc and @alloc_uninit a page at a
 *                time.  Appended after @alloc_uninit, like it.
 * @fill:         optional; store the @n 8-byte entries @first + i * @step,
 *                i = 0 to @n - 1, at @entries (8-byte aligned, all inside
 *                one table page).  The engine calls it for a run of at
 *                least 64 entries in a table that nothing links to yet and
 *                that it publishes afterwards with a release store, so any
 *                stores serve, in any order and of any width; and to zero
 *                a whole page from @alloc_batch (@first and @step 0),
 *                which the wider stores do faster than memset's 4 KiB
 *                path here (docs/performance-log.md item 56).  It is there
 *                for what the engine cannot know: whether it may use the
 *                CPU's widest stores here.  The engine is built for the
 *                baseline target (16-byte stores on x86-64), and a kernel
 *                must not touch vector registers unannounced; where 32-byte
 *                stores are allowed they fill a table up to twice as fast
 *                (docs/memory.md).  The heap and arena backends give one
 *                that uses AVX2 when the CPU has it.  NULL: the engine's
 *                own stores.  Appended after @alloc_batch.
 */
struct vpte_mem_ops {
	int (*alloc)(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa);
	void (*free)(void *ctx, vpte_pa_t pa, uint64_t size);
	void *(*phys_to_virt)(void *ctx, vpte_pa_t pa, uint64_t size);
	int (*alloc_uninit)(void *ctx, uint64_t size, uint64_t align, vpte_pa_t *pa);
	uint64_t (*alloc_batch)(void *ctx, uint64_t size, uint64_t align, uint64_t n,
				vpte_pa_t *pa);
	void (*fill)(void *ctx, uint64_t *entries, uint64_t n, uint64_t first, uint64_t step);
};

/*
 * struct vpte_direct_map - a window where physical-to-virtual is linear
 * (a kernel's direct map; the heap backend, whose PA is the host address;
 * the arena's buffer): physical [@pa_base, @pa_base + @size) is at host
 * address @virt + (pa - @pa_base).
 */
struct vpte_direct_map {
	uint64_t pa_base;
	uint64_t size;
	uintptr_t virt;
};

/*
 * struct vpte_mem - a backend: its callbacks and their context.
 * @direct: optional fast path, NULL for none.  A table page lying wholly
 *          inside the window is reached without calling phys_to_virt (an
 *          indirect call on every level of every walk); any other address
 *          still goes to phys_to_virt, so a window may cover part of the
 *          memory, or none of it yet.  The backend owns the window and may
 *          move or grow it inside @alloc (the engine holds no pointer into
 *          a table across an allocation), at no other time while the table
 *          is in use.  Initialise struct vpte_mem by member name
 *          ({ .ops = &ops, .ctx = ctx }) so that members added later are
 *          zero.
 */
struct vpte_mem {
	const struct vpte_mem_ops *ops;
	void *ctx;
	const struct vpte_direct_map *direct;
};

/*
 * vpte_mem_ptr - how the engine reaches @size bytes at physical @pa: through
 * @mem's direct window when it holds them all, else phys_to_virt (NULL when
 * the backend has no memory there).
 */
static inline void *vpte_mem_ptr(const struct vpte_mem *mem, vpte_pa_t pa, uint64_t size)
{
	const struct vpte_direct_map *d = mem->direct;
	if (d) {
		uint64_t off = pa.addr - d->pa_base;
		if (off < d->size && d->size - off >= size)
			return (void *)(d->virt + (uintptr_t)off);
	}
	return mem->ops->phys_to_virt(mem->ctx, pa, size);
}


#define VPTE_TABLE_READONLY (1u << 0) /* edits fail with -VPTE_EROFS */
/*
 * VPTE_TABLE_NO_HW_UPDATES - the caller promises that nothing but vpte
 * writes the table's entries: no MMU or IOMMU sets accessed or dirty in
 * them while vpte edits them (a guest's tables built before the guest
 * runs, an IOMMU with A/D updates off, an image, an emulator whose
 * software MMU updates A/D through vpte), and no other software does.
 * vpte_protect() and vpte_harvest() then replace entries with plain
 * stores instead of a compare-and-swap each.  Results are the same
 * either way; a broken promise can lose an accessed or dirty flag the
 * hardware set during the call.  Set with vpte_table_attach() or
 * vpte_table_set_hw_updates(); see docs/concurrency.md.
 */
#define VPTE_TABLE_NO_HW_UPDATES (1u << 1)

/*
 * struct vpte_reclaim - the grace period before a table page is freed, for
 * a table that other threads walk or edit while it changes
 * (docs/concurrency.md).
 * @retire: called by vpte_gather_finish(), after the gather's invalidate,
 *          instead of freeing each table page an edit unhooked: the page
 *          may still be read by walks that reached it before it was
 *          unhooked.  The callee frees it, with
 *          mem->ops->free(mem->ctx, pa, size), once every such walk has
 *          ended: an RCU grace period (call_rcu()), an epoch
 *          (vpte_epoch_reclaim() in vpte/hosted.h).  @mem is the table's
 *          and stays valid for the call only.  Must not block: edits call
 *          it from inside the caller's read section.  Cannot fail.
 * @ctx:    passed to @retire.
 */
struct vpte_reclaim {
	void (*retire)(void *ctx, const struct vpte_mem *mem, vpte_pa_t pa, uint64_t size);
	void *ctx;
};

struct vpte_observer;

/*
 * struct vpte_map_hint - private to the engine: never read or write it.
 * What the last single-page vpte_map found: the path to its leaf table
 * (the span of its VAs, the root and direct window it was reached
 * through, and for each level above it the entry read and where), and
 * its attributes with their encoding.  A later single-page map in that
 * span compares those entries again from the root down and skips the
 * descent only when every one still holds what was read, so the hint is
 * never trusted and needs no invalidation: a copied struct vpte_table, an
 * unmap or collapse through another copy, entries edited by hand, a window
 * moved by an allocation all make a compare fail (and the map descends as
 * before).  The encoding is reused only for attributes equal in every
 * field, by the format that made it.  Written only by edits of a table
 * that is not concurrent (which the caller serialises), never by
 * vpte_seek().
 */
struct vpte_map_hint {
	uint64_t span; /* the span's key; 0: no path */
	uint64_t last; /* the key of the last map that descended */
	const struct vpte_format *format; /* that recorded it; NULL: nothing */
	struct vpte_prot prot;
	uint64_t leaf; /* prot's leaf at PA 0 */
	const struct vpte_direct_map *direct;
	uint64_t pa_base, size;
	uintptr_t virt;
	uint64_t root;
	void *slot[VPTE_MAX_LEVELS - 1]; /* from the top level down */
	uint64_t entry[VPTE_MAX_LEVELS - 1];
	void *leaf_table;
};

/*
 * struct vpte_table - one address space.  Treat the fields as read-only;
 * set them up with vpte_table_init() or vpte_table_attach(), the observer
 * with vpte_table_set_observer().  @hint is private (struct vpte_map_hint);
 * copying a table copies it, which is safe.
 */
struct vpte_table {
	const struct vpte_format *fmt;
	vpte_pa_t root;
	struct vpte_mem mem;
	uint32_t flags;
	const struct vpte_observer *observer;
	const struct vpte_reclaim *reclaim;
	struct vpte_map_hint hint;
};

/*
 * vpte_table_init - create an empty table.
 * @t:   the table to set up.
 * @fmt: its format.
 * @mem: where its pages come from.
 *
 * Allocates the top table page (a whole granule page, even when the top
 * level has fewer entries).  Returns 0, -VPTE_EINVAL for a NULL argument, or
 * -VPTE_ENOMEM.
 */
int vpte_table_init(struct vpte_table *t, const struct vpte_format *fmt, struct vpte_mem mem);

/*
 * vpte_table_attach - use an existing top table (an image, a guest's tables).
 * @root:  physical address of the top table; must be granule-aligned.
 * @flags: VPTE_TABLE_READONLY to refuse edits; VPTE_TABLE_NO_HW_UPDATES
 *         when nothing but vpte writes the entries.
 *
 * Nothing is read yet: a corrupt table is reported (-VPTE_EFAULT) by the
 * walks that meet it.  Returns 0, -VPTE_EINVAL for a misaligned root, or
 * -VPTE_ERANGE for a root beyond the format's PA width.
 */
int vpte_table_attach(struct vpte_table *t, const struct vpte_format *fmt, struct vpte_mem mem,
		      vpte_pa_t root, uint32_t flags);

/*
 * vpte_table_destroy - free every table page, root included, through the
 * memory callbacks.  Leaves are not memory the table owns and are untouched;
 * a leaf table is freed without reading its entries.  For a read-only table
 * nothing is freed.  Returns 0 or -VPTE_EFAULT if a corrupt table entry
 * stopped the teardown (pages already reached are freed).
 */
int vpte_table_destroy(struct vpte_table *t);

/*
 * struct vpte_observer - hooks an edit calls as it changes leaves, so that
 * a caller can keep map counts (a folio's mapcount, an IOMMU's pinned
 * pages).  Every hook is optional (NULL); @ctx is passed to each.  A leaf
 * is a single entry or a contiguous run, named by its first VA, the PA it
 * maps there and its effective shift, as iteration reports it.
 *
 * @install: a leaf appeared (vpte_map; the copies vpte_copy makes).
 * @remove:  a leaf went (vpte_unmap).
 * @split:   the leaf [va, va + 2^shift) -> pa is now 2^(shift - new_shift)
 *           leaves of 2^new_shift, translating alike (vpte_split, and the
 *           edges of vpte_unmap and vpte_protect).  A leaf split over
 *           several levels is reported one level at a time, larger pieces
 *           first, so every call names a leaf the caller has been told of.
 * @merge:   the @parts leaves that mapped [va, va + 2^shift) -> pa are now
 *           one leaf of 2^shift (vpte_collapse).
 *
 * The HugeTLB rule "a huge page mapped and then split stays mapped once
 * until its last piece goes" is then: count the pieces of each huge page
 * (+1 on install, + 2^(shift - new_shift) - 1 on split, - (parts - 1) on
 * merge, -1 on remove) and call it mapped while the count is not zero.
 *
 * Hooks run inside the edit, after the edit can no longer fail (a failed
 * edit calls none), while the table is being changed: they must not edit
 * or walk the table, and memory a removed leaf mapped stays in use by the
 * TLB until the gather is finished.
 */
struct vpte_observer {
	void (*install)(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift);
	void (*remove)(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift);
	void (*split)(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift, unsigned new_shift);
	void (*merge)(void *ctx, vpte_va_t va, vpte_pa_t pa, unsigned shift, uint64_t parts);
	void *ctx;
};

/*
 * vpte_table_set_observer - attach @observer to @t (NULL detaches).  The
 * observer must stay valid while attached; edits call its hooks.
 */
void vpte_table_set_observer(struct vpte_table *t, const struct vpte_observer *observer);

/*
 * vpte_table_set_reclaim - make @t a concurrent table: table pages its
 * edits unhook are retired through @reclaim (struct vpte_reclaim) instead
 * of freed, and its edits follow the protocol that lets vpte_map,
 * vpte_unmap and vpte_protect of disjoint ranges run at once while
 * vpte_seek and iteration run anywhere (docs/concurrency.md).  NULL makes
 * it a single-threaded table again (pages freed at once, no protocol
 * costs).  Set it before other threads use the table.  @reclaim must stay
 * valid while set.
 */
void vpte_table_set_reclaim(struct vpte_table *t, const struct vpte_reclaim *reclaim);

/*
 * vpte_table_set_hw_updates - say whether anything but vpte may write the
 * entries of @t (VPTE_TABLE_NO_HW_UPDATES): @hw_updates true (the
 * default) when an MMU or IOMMU may set accessed or dirty in them while
 * vpte edits them, false when nothing does, so that vpte_protect() and
 * vpte_harvest() use plain stores.  Set it while no other thread uses the
 * table.
 */
void vpte_table_set_hw_updates(struct vpte_table *t, bool hw_updates);

/* ------------------------------------------------------------------------
 * Walking
 * ------------------------------------------------------------------------ */
enum vpte_kind {
	VPTE_HOLE = 0,  /* an empty entry: maps nothing */
	VPTE_LEAF = 1,  /* maps memory */
	VPTE_TABLE = 2, /* points to the next lower table */
};

/* Iteration modes for vpte_iter_start(). */
#define VPTE_ITER_LEAVES 0u         /* leaves only */
#define VPTE_ITER_HOLES (1u << 0)   /* also empty entries */
#define VPTE_ITER_TABLES (1u << 1)  /* also table entries, before their contents */
#define VPTE_ITER_ALL (VPTE_ITER_HOLES | VPTE_ITER_TABLES)

/*
 * struct vpte_walk - a position in a table.
 *
 * The public part describes the entry the walk stands on:
 * @kind:   hole, leaf or table entry.
 * @level:  the level of that entry.
 * @shift:  the span it covers; for a leaf the effective shift, so a
 *          contiguous run of sixteen 4 KiB entries reports 16 (64 KiB).
 * @va:     the first VA of that span (canonical form).  The span may reach
 *          beyond the range being iterated.
 * @pa:     leaf: the PA @va maps to; table entry: the lower table's PA.
 * @prot:   leaf attributes.
 * @cont:   the leaf is a contiguous run.
 * @entry:  the raw entry the walk read: for a run, the member covering the
 *          looked-up address (its own output address, accessed, dirty).
 *
 * The private part (path of tables above the entry, iteration bounds) lets
 * iteration move up only as far as needed, sideways, then down: there is
 * no recursion and the level lives here, never in an entry type.
 */
struct vpte_walk {
	enum vpte_kind kind;
	unsigned level;
	unsigned shift;
	vpte_va_t va;
	vpte_pa_t pa;
	struct vpte_prot prot;
	bool cont;
	uint64_t entry;
	int error; /* set when an iteration stopped on an error */

	/* private */
	const struct vpte_table *table;
	void *path[VPTE_MAX_LEVELS]; /* the table at each level along the path */
	uint64_t index_addr;         /* VA bits below va_bits of the current entry */
	uint64_t index_first;        /* iteration range, in index addresses */
	uint64_t index_last;
	unsigned mode;
	bool done;
};

/*
 * vpte_seek - find what translates one address (the lockless lookup).
 * @w:  walk state to fill.
 * @t:  table.
 * @va: any address inside the page of interest.
 *
 * Descends to the leaf or hole covering @va and describes it in @w (kind,
 * level, shift, va, pa, prot).  The PA of @va itself is
 * w->pa.addr + (va - w->va.addr) for a leaf.  Safe against concurrent
 * writers: each entry is read once with an acquire load.
 *
 * Returns 0 (for a hole too: check w->kind), -VPTE_EINVAL for a
 * non-canonical VA, -VPTE_ERANGE for a VA beyond the format's width, or
 * -VPTE_EFAULT for a corrupt table on the path.
 */
int vpte_seek(struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va);

/* Modes for vpte_seek_flags(). */
#define VPTE_SEEK_NO_SPECIAL (1u << 0) /* refuse a special leaf (VPTE_SPECIAL) */

/*
 * vpte_seek_flags - vpte_seek() with a mode: with VPTE_SEEK_NO_SPECIAL, a
 * lockless "get user pages"-style lookup that must take a reference on the
 * page behind a leaf refuses a special leaf (a PFN mapping with no struct
 * page behind it: remap_pfn_range, VFIO BARs).
 *
 * Returns what vpte_seek() returns, -VPTE_EINVAL for an unknown mode bit,
 * or -VPTE_EPERM when the leaf found is special; @w then still describes
 * it.
 */
int vpte_seek_flags(struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va,
		    unsigned flags);

/*
 * vpte_iter_start / vpte_iter_next - iterate the entries intersecting
 * [va, va + size) in address order.
 * @mode: VPTE_ITER_LEAVES, or VPTE_ITER_HOLES / VPTE_ITER_TABLES for a
 *        detailed walk.
 *
 * Each leaf is visited once, a contiguous run once with its effective shift.
 * Holes are reported as the largest empty entry (a whole empty top-level
 * entry is one hole).  A table entry is visited before its contents.
 *
 * Both return 1 when @w describes an entry, 0 at the end, or a negative
 * error (also stored in w->error): -VPTE_EINVAL / -VPTE_ERANGE for a bad
 * range from vpte_iter_start(), -VPTE_EFAULT for a corrupt table.
 */
int vpte_iter_start(struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va, uint64_t size,
		    unsigned mode);
int vpte_iter_next(struct vpte_walk *w);

/*
 * vpte_for_each_leaf / vpte_for_each_entry - loop forms of the iterator.
 * After the loop, (w)->error is 0 or the error that stopped it.
 *
 *   struct vpte_walk w;
 *   vpte_for_each_leaf(&w, &table, vpte_va(0), 1ull << 30)
 *           printf("%llx %u\n", (unsigned long long)w.va.addr, w.shift);
 *   if (w.error) ...
 */
#define vpte_for_each_entry(w, t, va, size, mode)                                              \
	for (int vpte_it_ = vpte_iter_start((w), (t), (va), (size), (mode)); vpte_it_ > 0;     \
	     vpte_it_ = vpte_iter_next(w))
#define vpte_for_each_leaf(w, t, va, size) vpte_for_each_entry(w, t, va, size, VPTE_ITER_LEAVES)

/* ------------------------------------------------------------------------
 * The gather: what the caller must do after an edit
 * ------------------------------------------------------------------------ */
#define VPTE_GATHER_BATCH 32

/*
 * struct vpte_gather - collects, across one or more edits:
 * @start, @last:   the VA range (inclusive last) holding every change:
 *                  leaves removed, changed, split or merged, table pages
 *                  unhooked; valid when @leaves_changed.
 * @min_shift:      the smallest span among those changes (a leaf's
 *                  effective shift, the span an unhooked table held): the
 *                  stride a ranged TLB invalidation may use.
 * @leaves_changed: some translation was removed or changed, or some TLB
 *                  entry may hold a leaf of the old size or a table
 *                  unhooked.
 * @tables_changed: some table entry changed: flush walk caches too, over
 *                  [start, last] (all of them when !@leaves_changed).
 * @pages:          table pages to free once the invalidation is done.
 *
 * Set up with vpte_gather_init(); finish with vpte_gather_finish(), which
 * calls @invalidate (if set) and then frees the pages (retires them, on a
 * table with a reclaim hook: vpte_table_set_reclaim()).  When more than
 * VPTE_GATHER_BATCH pages pile up during one edit, the edit finishes the
 * gather early (invalidate, free) and goes on: the table is consistent at
 * that point.
 */
struct vpte_gather {
	const struct vpte_table *table;
	void (*invalidate)(void *ctx, const struct vpte_gather *g);
	void *ctx;
	uint64_t start, last;
	unsigned min_shift;
	bool leaves_changed;
	bool tables_changed;
	unsigned nr_pages;
	vpte_pa_t pages[VPTE_GATHER_BATCH];
};

/*
 * vpte_gather_init - prepare a gather for edits of @t.
 * @invalidate: called by vpte_gather_finish() before pages are freed, with
 *              the accumulated ranges; NULL when nothing caches
 *              translations (building an image, a software-only walker).
 *              On arm64 also called mid-edit, with just the range of a
 *              leaf that changes size, between the break and the make of
 *              break-before-make (docs/concurrency.md).
 */
void vpte_gather_init(struct vpte_gather *g, const struct vpte_table *t,
		      void (*invalidate)(void *ctx, const struct vpte_gather *g), void *ctx);

/*
 * vpte_gather_finish - invalidate, free the gathered table pages (or hand
 * them to the table's struct vpte_reclaim, which frees them after its grace
 * period), and reset @g for reuse.
 */
void vpte_gather_finish(struct vpte_gather *g);

/* ------------------------------------------------------------------------
 * Edits.  Each validates everything before it changes anything; a failed
 * edit (allocation failure included) leaves the table exactly as it was.
 * ------------------------------------------------------------------------ */
#define VPTE_MAP_INSERT (1u << 0) /* accept entries that already map the same PA, same attributes */

/*
 * struct vpte_map_opts - options for vpte_map().
 * @max_shift: largest leaf (or contiguous run) to use, 0 for no limit: "the
 *             caller can provide pieces of at most 2^max_shift bytes".  Must
 *             be 0 or at least the granule shift.
 * @flags:     VPTE_MAP_INSERT.
 */
struct vpte_map_opts {
	unsigned max_shift;
	unsigned flags;
};

/*
 * vpte_map - map [va, va + size) to [pa, pa + size).
 * @opts: NULL for defaults.
 *
 * Uses the largest leaves that VA and PA alignment, the format and
 * @opts->max_shift allow, contiguous runs where a whole aligned run fits,
 * and smaller leaves at unaligned ends.  Leaves are installed with the
 * accessed flag set.  A new lower table is complete before it is published.
 *
 * Returns 0, or: -VPTE_EINVAL (size zero or not a multiple of the granule,
 * VA or PA misaligned, non-canonical VA, range wrapping, bad prot or
 * option), -VPTE_ERANGE (range leaves the VA space or its canonical half,
 * PA beyond pa_bits), -VPTE_EEXIST (something in the range is mapped; with
 * VPTE_MAP_INSERT only a mapping of another PA or other attributes counts),
 * -VPTE_ENOMEM, -VPTE_EFAULT, -VPTE_EROFS.
 */
int vpte_map(struct vpte_table *t, vpte_va_t va, vpte_pa_t pa, uint64_t size,
	     struct vpte_prot prot, const struct vpte_map_opts *opts);

/*
 * vpte_unmap - remove every translation in [va, va + size).
 * @gather: collects invalidations and freed tables; NULL to free at once
 *          (only when nothing caches translations or walks concurrently).
 *
 * A huge leaf or contiguous run partly inside the range is split first, so
 * that exactly the range is unmapped; tables left empty are freed (through
 * @gather).  Unmapping a range with nothing mapped succeeds.  Returns 0,
 * -VPTE_EINVAL / -VPTE_ERANGE (as vpte_map()), -VPTE_ENOMEM (a split needed
 * a table), -VPTE_EFAULT, -VPTE_EROFS.
 */
int vpte_unmap(struct vpte_table *t, vpte_va_t va, uint64_t size, struct vpte_gather *gather);

/* In a clear.memtype of vpte_protect(): replace the memory type. */
#define VPTE_MT_MASK 0xffffffffu

/*
 * vpte_protect - change the attributes of every leaf in [va, va + size).
 * @set, @clear: the change: each leaf's flags become
 *               (flags & ~clear.flags) | set.flags, its raw bits likewise.
 *               The memory type is a value, not a set of bits: it is kept
 *               with clear.memtype = 0 (set.memtype must then be 0) and
 *               replaced by set.memtype with clear.memtype = VPTE_MT_MASK.
 *               A flag in both is set.
 * @gather:      collects the leaves changed (and the tables of edge
 *               splits); NULL to free at once, as for vpte_unmap().
 *
 * Exactly the range changes: a huge leaf or contiguous run that the range
 * cuts is split first, as vpte_unmap() splits it (the run loses its flag;
 * members outside the range keep their attributes).  A run wholly inside
 * the range stays a run: its members change alike.  Each entry keeps its
 * own PA and, unless @set or @clear names them, accessed and dirty; only
 * the bits that encode what changed are flipped, so bits of a foreign
 * entry that vpte has no name for stay.  An entry the hardware may still
 * change (accessed clear, or writable and not dirty) is replaced by
 * compare-and-swap, so flags the hardware sets meanwhile are kept; any
 * other is stored plainly, as the hardware sets nothing more in it.  An
 * entry the change leaves as it was is not written (nor gathered).  Holes
 * stay holes.
 *
 * Validated first: every leaf's new attributes must be encodable by the
 * format (clearing VPTE_R is -VPTE_EINVAL on x86-64 and arm64, whose
 * pages are always readable), and a leaf the range cuts must be
 * re-encodable as it is.  Returns 0, or: -VPTE_EINVAL (as vpte_unmap(),
 * flags or raw bits outside VPTE_PROT_FLAGS / the format's raw_mask in
 * @set or @clear, a bad memory-type change, a result the format cannot
 * encode, a gather of another table), -VPTE_ERANGE, -VPTE_ENOMEM (an edge
 * split needed a table), -VPTE_EFAULT, -VPTE_EROFS.
 */
int vpte_protect(struct vpte_table *t, vpte_va_t va, uint64_t size, struct vpte_prot set,
		 struct vpte_prot clear, struct vpte_gather *gather);

/*
 * vpte_split - re-express the leaves in [va, va + size) with leaves no
 * larger than 2^shift, translations unchanged (HugeTLB high-granularity
 * mapping: a 1 GiB leaf becomes 2 MiB leaves, or 4 KiB leaves, or a mix
 * after later edits).
 * @shift:  from the granule shift to 63; need not be a leaf size (the
 *          leaves become the largest that are no larger).
 * @gather: collects the leaves split, which TLB entries of the old size may
 *          still hold; NULL when nothing caches translations.
 *
 * Every leaf that meets the range and is larger than 2^shift is split, and
 * only as far as that needs: its pieces outside the range stay as large as
 * they are one level down, as contiguous runs where the format has them.
 * A contiguous run larger than 2^shift loses its flag (all of it, even
 * members outside the range).  A split leaf's new tables are complete
 * before one store publishes the topmost, so a concurrent walker sees the
 * old leaf or the new leaves.  Attributes, accessed and dirty included, are
 * copied to every piece.  Holes stay holes; a split that has nothing to do
 * succeeds.  The caller holds the range exclusively.
 *
 * All or nothing: the tables are counted and allocated before anything is
 * written.  Returns 0, or: -VPTE_EINVAL (as vpte_unmap(), a shift out of
 * range, a leaf to split whose attributes cannot be re-encoded, a gather
 * of another table), -VPTE_ERANGE, -VPTE_ENOMEM, -VPTE_EFAULT, -VPTE_EROFS.
 */
int vpte_split(struct vpte_table *t, vpte_va_t va, uint64_t size, unsigned shift,
	       struct vpte_gather *gather);

/*
 * vpte_collapse - replace the leaves in [va, va + size) with the largest
 * leaves and contiguous runs that they can become (MADV_COLLAPSE; HugeTLB
 * high-granularity mappings merged back).
 * @max_shift: the largest leaf or run to make, 0 for no limit: collapse
 *             only a 2 MiB piece of what could become 1 GiB.  Must be 0 or
 *             at least the granule shift.
 * @gather:    collects the leaves replaced and the tables freed; NULL to
 *             free at once, as for vpte_unmap().
 *
 * A piece collapses when it is aligned (VA and PA) to a leaf or run size
 * of the format, lies wholly inside the range, and is fully mapped, by
 * leaves wholly inside the range, to one physically contiguous region with
 * the same attributes (accessed and dirty aside) that the format can
 * encode: the pieces are those vpte_map() would use for that region.  The
 * new leaf (every member of a new run) carries the OR of the accessed and
 * dirty flags of the leaves it replaces.  Tables this empties are freed
 * through @gather.  Leaves already as large, holes, and leaves the range
 * cuts stay as they are; a collapse with nothing to do succeeds.  The
 * caller holds the range exclusively.  Collapsing allocates nothing.
 *
 * Returns 0, or: -VPTE_EINVAL (as vpte_unmap(), a bad max_shift, a gather
 * of another table), -VPTE_ERANGE, -VPTE_EFAULT (a corrupt table in the
 * range: found before anything changes), -VPTE_EROFS.
 */
int vpte_collapse(struct vpte_table *t, vpte_va_t va, uint64_t size, unsigned max_shift,
		  struct vpte_gather *gather);

/* ------------------------------------------------------------------------
 * Copying a range between tables (fork), possibly across formats
 * ------------------------------------------------------------------------ */
#define VPTE_COPY_WRPROTECT (1u << 0) /* copy-on-write: clear W on both sides */

/*
 * struct vpte_copy_opts - options for vpte_copy().
 * @flags:  VPTE_COPY_WRPROTECT.
 * @gather: with VPTE_COPY_WRPROTECT, collects the source translations that
 *          lost W (a gather of @src); NULL when nothing caches them.
 */
struct vpte_copy_opts {
	unsigned flags;
	struct vpte_gather *gather;
};

/*
 * vpte_copy - copy the mappings of @src in [va, va + size) into @dst, which
 * may be of another format (fork's copy_pt_range; converting an address
 * space between architectures).
 * @dst:  the destination; nothing may be mapped in the range.
 * @src:  the source; may be attached read-only unless write-protecting.
 * @opts: NULL for defaults.
 *
 * One walk of @src: each leaf (a leaf partly inside the range: its part
 * inside) is mapped into @dst at the same VA and PA with the same
 * attributes, accessed and dirty included (the copy of a contiguous run is
 * accessed, or dirty, when any member is), with the largest leaves and runs
 * of @dst's format that alignment allows, but none larger than the source
 * leaf: a copy into the same format has the source's leaf structure; into
 * another format a leaf is split where @dst lacks its size (a 1 GiB x86-64
 * leaf becomes a run of 32 x 32 MiB on arm64 with a 16 KiB granule, a
 * 64 KiB run sixteen 4 KiB pages on x86-64).  Holes stay holes.
 *
 * With VPTE_COPY_WRPROTECT, W is cleared on the source leaves in the range
 * (atomically, keeping accessed/dirty updates the hardware makes meanwhile;
 * each change is recorded in @opts->gather) and on their copies.  The range
 * must then not cut a source leaf or run.
 *
 * The caller holds the range of both tables exclusively (the hardware may
 * still set accessed and dirty).  All or nothing: on an error neither table
 * changed.  Returns 0, or: -VPTE_EINVAL (VA or size not a multiple of
 * @dst's granule, non-canonical VA in either format, bad option, a gather
 * of another table, a piece of a source leaf that is not a whole number of
 * @dst's pages, attributes or raw bits @dst cannot encode, with
 * VPTE_COPY_WRPROTECT a source leaf the range cuts), -VPTE_ERANGE (the range
 * is beyond either format's VA space, a PA beyond @dst's pa_bits),
 * -VPTE_EEXIST (something is mapped in @dst's range), -VPTE_ENOMEM,
 * -VPTE_EFAULT (either table is corrupt in the range), -VPTE_EROFS (@dst,
 * or with VPTE_COPY_WRPROTECT @src, is read-only).
 */
int vpte_copy(struct vpte_table *dst, struct vpte_table *src, vpte_va_t va, uint64_t size,
	      const struct vpte_copy_opts *opts);

/* ------------------------------------------------------------------------
 * Accessed and dirty harvesting (live migration, VFIO dirty tracking)
 * ------------------------------------------------------------------------ */
#define VPTE_HARVEST_CLEAR (1u << 0) /* test and clear */

/*
 * struct vpte_harvest_opts - what vpte_harvest() reports.
 * @flag:         VPTE_A (accessed) or VPTE_D (dirty).
 * @bitmap_shift: bit i of the bitmap covers [va + i * 2^bitmap_shift,
 *                va + (i + 1) * 2^bitmap_shift); at least the format's
 *                granule shift, at most 63; 0 means the granule shift.
 * @flags:        VPTE_HARVEST_CLEAR: clear the flag in the leaves found
 *                with it (test and clear).
 * @gather:       with VPTE_HARVEST_CLEAR, collects the leaves cleared, which
 *                the caller must invalidate (a TLB entry that holds the
 *                flag set would not set it again); NULL when nothing caches
 *                translations.
 */
struct vpte_harvest_opts {
	uint32_t flag;
	unsigned bitmap_shift;
	unsigned flags;
	struct vpte_gather *gather;
};

/*
 * vpte_harvest - report, and optionally clear, the accessed or dirty flag
 * of every leaf in [va, va + size) as a bitmap.
 * @bitmap: ceil(size / 2^bitmap_shift) bits, 64 to a uint64_t, bit i in
 *          word i / 64 at position i % 64; NULL to clear without reporting.
 * @opts:   required: which flag, the bitmap's granule, clearing.
 *
 * Sets bit i when a leaf with the flag overlaps the span of bit i (a dirty
 * 2 MiB leaf sets all 512 bits of a 4 KiB bitmap); never clears a bit, so
 * zero the bitmap first, or keep it to accumulate several calls or tables.
 * A contiguous run is one TLB entry that the hardware may update through any
 * member: the run has the flag when any member has it, and clearing clears
 * every member.  On arm64, dirty is software bit 55 (see docs/harvest.md).
 *
 * With VPTE_HARVEST_CLEAR, each entry is cleared with an atomic
 * compare-and-swap, so accessed/dirty updates the hardware makes meanwhile
 * are not lost, and each cleared leaf is added to @opts->gather.  A leaf or
 * run that the range cuts is reported but not cleared: its part outside the
 * range would lose its flag; align the range or split the leaf.
 *
 * Returns 0, or: -VPTE_EINVAL (VA or size not a multiple of the granule,
 * non-canonical VA, wrapping range, NULL @opts, a flag other than VPTE_A or
 * VPTE_D, a bad bitmap_shift or option, a gather of another table),
 * -VPTE_ERANGE (beyond the VA space), -VPTE_EFAULT (corrupt table; when
 * clearing, found before anything is cleared), -VPTE_EROFS (clearing a
 * read-only table).
 */
int vpte_harvest(struct vpte_table *t, vpte_va_t va, uint64_t size, uint64_t *bitmap,
		 const struct vpte_harvest_opts *opts);

/* ------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------ */
/*
 * struct vpte_stats - what a table holds.
 * @table_pages:  table pages per level (the top table included).
 * @table_bytes:  bytes of those pages.
 * @leaves:       mappings per effective shift (a contiguous run counts once,
 *                at its run shift): each is one TLB entry.
 * @runs:         how many of @leaves[s] are contiguous runs.
 * @tlb_entries:  sum of @leaves.
 * @mapped_bytes: bytes mapped.
 */
struct vpte_stats {
	uint64_t table_pages[VPTE_MAX_LEVELS];
	uint64_t table_bytes[VPTE_MAX_LEVELS];
	uint64_t leaves[64];
	uint64_t runs[64];
	uint64_t tlb_entries;
	uint64_t mapped_bytes;
};

/*
 * vpte_stats - count tables and leaves in [va, va + size): the top table,
 * the lower tables the range reaches, and the leaves intersecting it (each
 * counted whole).
 * Returns 0 or an iteration error (-VPTE_EINVAL, -VPTE_ERANGE, -VPTE_EFAULT).
 */
int vpte_stats(const struct vpte_table *t, vpte_va_t va, uint64_t size, struct vpte_stats *st);

/*
 * vpte_stats_table - vpte_stats() over the whole address space (both halves
 * of a sign-extended format), the top table counted once.
 */
int vpte_stats_table(const struct vpte_table *t, struct vpte_stats *st);

/*
 * vpte_va_space - the translatable address ranges of @fmt, in address
 * order: [0, 2^va_bits) for a format without sign extension; the lower
 * half [0, 2^(va_bits-1)) and the upper half [2^64 - 2^(va_bits-1), 2^64)
 * for one with it.  Fills @start and @size and returns the number of
 * ranges (1 or 2).  Handy for "every address" walks.
 */
unsigned vpte_va_space(const struct vpte_format *fmt, vpte_va_t start[2], uint64_t size[2]);

#ifdef __cplusplus
}
#endif
#endif /* VPTE_VPTE_H */
