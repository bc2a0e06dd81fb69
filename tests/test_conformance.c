/* SPDX-License-Identifier: MIT */
/*
 * test_conformance.c - vpte's tables translated by QEMU's MMU emulation.
 *
 * For every format: build a randomized address space with vpte in an arena
 * placed at a guest-RAM address (every leaf size, contiguous runs and
 * Svnapot, ragged ends, holes punched out of huge leaves, both halves of a
 * sign-extended space, the last page of the VA space), boot QEMU with that
 * image, a parameter block and a stub of our own (tests/conformance/) that
 * turns the MMU on at the root and parks, then ask QEMU's monitor over QMP
 * to translate thousands of addresses (`gva2gpa`: each leaf's first and last
 * byte, inner addresses, holes, non-canonical addresses) and compare every
 * answer with vpte_seek().  Where the monitor reports attributes, compare
 * those too: x86 `info tlb` (every leaf: address, PA, NX, G, PS, D, A, PCD,
 * PWT, U/S, R/W) and RISC-V `info mem` (r w x u g a d at each address).
 *
 * Output: one line per format, "conformance FMT: N addresses agree, M
 * disagree", then the verdict.  A disagreement prints the VA, both answers
 * and the command that reproduces it.  Exit status 0 only when everything
 * agrees; a missing QEMU or a boot that never reaches the stub fails too.
 *
 * usage: test_conformance [--seed N] [--format NAME] [--boots N]
 *                         [--stubs DIR] [--keep] [--verbose]
 * Boot b of a run with --seed S uses layout seed S + b, so a failure is
 * reproduced by --format FMT --seed S+b --boots 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vpte/hosted.h"
#include "vpte/vpte.h"

#ifndef VPTE_STUB_DIR
#define VPTE_STUB_DIR "conformance"
#endif

#define DEFAULT_SEED 0xc0f0c0f0ull
#define DEFAULT_BOOTS 2
#define BIG_LEAF_SAMPLES 800 /* leaves above the granule (and runs) probed per boot */
#define LEAF_SAMPLES 600     /* granule-sized leaves probed per boot */
#define HOLE_SAMPLES 300     /* holes probed per boot */
#define RANDOM_SAMPLES 400  /* uniformly random addresses, mostly holes */
#define MAX_REPORTS 10      /* disagreements printed per boot */
#define BOOT_TIMEOUT_MS 20000
#define IO_TIMEOUT_MS 120000

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */
static bool verbose, keep;
static const char *stub_dir = VPTE_STUB_DIR;

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A value in [0, n); n = 0 stands for 2^64. */
static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : rnd();
}

static bool chance(unsigned one_in)
{
	return rnd_below(one_in) == 0;
}

/* Keep an entry with probability budget / count. */
static bool keep_one(size_t count, size_t budget)
{
	return count <= budget || rnd_below(count) < budget;
}

static uint64_t bit(unsigned s)
{
	return s >= 64 ? 0 : 1ull << s;
}

static void prot_str(const struct vpte_prot *p, char out[32])
{
	static const char letters[] = "rwxugads";
	unsigned i;
	for (i = 0; i < 8; i++)
		out[i] = (p->flags & (1u << i)) ? letters[i] : '-';
	out[i] = 0;
	static const char *const mt[] = { "", ",nc", ",device", ",other" };
	strcat(out, mt[p->memtype & 3]);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "test_conformance: out of memory\n");
		exit(2);
	}
	return p;
}

/* ------------------------------------------------------------------------
 * Architectures: the machine QEMU emulates and where things go in its RAM
 * ------------------------------------------------------------------------ */
enum arch_kind { ARCH_X86, ARCH_ARM64, ARCH_RISCV };

struct arch {
	enum arch_kind kind;
	const char *qemu;      /* the QEMU binary */
	const char *stub;      /* stub file name in stub_dir */
	uint64_t code_pa;      /* the stub's page, mapped to itself */
	uint64_t params_pa;    /* the parameter block the stub reads */
	uint64_t arena_pa;     /* where the tables go */
	uint64_t arena_limit;  /* bytes of RAM the tables may use */
	uint64_t pa_limit;     /* leaves map PAs below this */
	const char *info;      /* monitor command reporting attributes, or NULL */
	uint64_t probe_pa;     /* the stub's probe block, mapped to itself; 0: none */
	unsigned probe_words;  /* 8-byte results per probed VA */
	const char *probe;     /* what the probes are, for the output */
};

/*
 * The stub's probe block: count, VAs, results.  arm64: PAR_EL1 after AT
 * S1E1R/W, S1E0R/W (4 words per VA); x86-64: the outcome of a load (1).
 */
#define PROBES 2000
#define PROBE_MAP (128u << 10) /* 8 + PROBES * 8 * 5 rounded up to the largest granule */
#define PROBE_DONE 0x000064656272706full /* "probed" */

static const struct arch arch_x86 = {
	.kind = ARCH_X86, .qemu = "qemu-system-x86_64", .stub = "stub-x86_64.bin",
	/* -bios: 64 KiB ending at 4 GiB; the code is in its last page. */
	.code_pa = 0xfffff000u, .params_pa = 0x1000, .arena_pa = 0x100000,
	.arena_limit = 120u << 20, .pa_limit = 1ull << 52, .info = "info tlb",
	.probe_pa = 0x8000000u, .probe_words = 1, .probe = "loads",
};
static const struct arch arch_arm64 = {
	.kind = ARCH_ARM64, .qemu = "qemu-system-aarch64", .stub = "stub-arm64.bin",
	/* virt: RAM from 1 GiB; its first MiB holds the device tree. */
	.code_pa = 0x41000000u, .params_pa = 0x41010000u, .arena_pa = 0x41100000u,
	.arena_limit = 160u << 20, .pa_limit = 1ull << 48, .info = NULL,
	.probe_pa = 0x50000000u, .probe_words = 4, .probe = "AT",
};
static const struct arch arch_riscv = {
	.kind = ARCH_RISCV, .qemu = "qemu-system-riscv64", .stub = "stub-riscv64.bin",
	/* virt: RAM from 2 GiB; -bios none jumps there. */
	.code_pa = 0x80000000u, .params_pa = 0x80010000u, .arena_pa = 0x80100000u,
	.arena_limit = 200u << 20, .pa_limit = 1ull << 56, .info = "info mem",
};

static const struct arch *arch_of(const struct vpte_format *f)
{
	if (!strncmp(f->name, "x86", 3))
		return &arch_x86;
	if (!strncmp(f->name, "arm64", 5))
		return &arch_arm64;
	if (!strncmp(f->name, "riscv", 5))
		return &arch_riscv;
	return NULL;
}

/*
 * Why QEMU 7.2 cannot model a format, or NULL when it can.  Every format
 * vpte has today is modelled; a new one QEMU lacks gets its reason here,
 * and is then named in the output, never skipped silently.
 */
static const char *not_modelled(const struct vpte_format *f)
{
	if (!arch_of(f))
		return "no QEMU machine is set up for this family (tests/test_conformance.c arch_of)";
	return NULL;
}

/* ------------------------------------------------------------------------
 * Building a randomized address space
 * ------------------------------------------------------------------------ */
/* What the operations did to a space, and how their results checked out. */
struct ops_tally {
	uint64_t copied_leaves;         /* leaves of another format's table copied in */
	uint64_t cow_copies, cow_refused; /* regions copied with VPTE_COPY_WRPROTECT */
	uint64_t protects, protects_refused;
	uint64_t splits;
	uint64_t collapses, collapsed;  /* collapses; leaves and runs they made */
	uint64_t checks, failed;        /* vpte_seek after an operation against what it was asked */
};

#define MAX_FOCUS 1024 /* addresses the operations ask QEMU about, per boot */

struct space {
	const struct vpte_format *f;
	const struct arch *arch;
	struct vpte_arena arena;
	struct vpte_table t;
	unsigned nshifts;
	unsigned shifts[2 * VPTE_MAX_LEVELS]; /* leaf and run shifts, ascending */
	unsigned nhalves;
	vpte_va_t half[2];
	uint64_t half_size[2];
	/* The generator's smallest piece: the granule, or for a copy's source
	 * the smallest of its leaf and run sizes that the target's granule
	 * divides, so that every source leaf is whole pages of the target. */
	unsigned unit_shift;
	uint64_t pa_limit;  /* leaves map PAs below this */
	bool portable;      /* only attributes every format encodes (a copy's source) */
	uint64_t seed;
	uint64_t maps, maps_refused, unmaps;
	uint64_t last_va, last_size; /* the last successful map */
	const struct vpte_format *copied_from;
	struct ops_tally ops;
	uint64_t focus[MAX_FOCUS];
	unsigned nfocus;
};

static uint64_t granule(const struct space *s)
{
	return 1ull << s->f->granule_shift;
}

static uint64_t unit(const struct space *s)
{
	return 1ull << s->unit_shift;
}

static struct vpte_prot random_prot(const struct space *s)
{
	struct vpte_prot p = { VPTE_R, VPTE_MT_WB, 0 };
	if (chance(2))
		p.flags |= VPTE_W;
	if (chance(3))
		p.flags |= VPTE_X;
	if (chance(2))
		p.flags |= VPTE_U;
	if (chance(3))
		p.flags |= VPTE_G;
	if (chance(4))
		p.flags |= VPTE_D;
	if (chance(6))
		p.flags |= VPTE_SPECIAL;
	/* RISC-V alone can express execute-only. */
	if (s->arch->kind == ARCH_RISCV && !s->portable && chance(8))
		p.flags = (p.flags & ~(VPTE_R | VPTE_W)) | VPTE_X;
	unsigned mt = (unsigned)rnd_below(4);
	p.memtype = mt == 3 ? VPTE_MT_WB : mt;
	if (!s->portable && chance(4))
		p.raw = rnd() & s->f->raw_mask;
	return p;
}

static int try_map(struct space *s, uint64_t va, uint64_t pa, uint64_t size, struct vpte_prot prot)
{
	struct vpte_map_opts opts = { 0, 0 };
	/* Sometimes cap the leaf size, so aligned middles get smaller leaves
	 * too; never so low that the range needs thousands of leaves. */
	if (chance(6)) {
		unsigned i = (unsigned)rnd_below(s->nshifts);
		while (i + 1 < s->nshifts && (size >> s->shifts[i]) > 2048)
			i++;
		opts.max_shift = s->shifts[i];
	}
	int err = vpte_map(&s->t, vpte_va(va), vpte_pa(pa), size, prot, &opts);
	if (err == -VPTE_EINVAL && prot.raw) {
		prot.raw = 0;
		err = vpte_map(&s->t, vpte_va(va), vpte_pa(pa), size, prot, &opts);
	}
	if (err) {
		s->maps_refused++;
	} else {
		s->maps++;
		s->last_va = va;
		s->last_size = size;
	}
	if (verbose)
		fprintf(stderr, "  map 0x%" PRIx64 "+0x%" PRIx64 " -> 0x%" PRIx64 ": %d, %" PRIu64 " table bytes\n",
			va, size, pa, err, s->arena.used);
	if (err && err != -VPTE_EEXIST && verbose)
		fprintf(stderr, "  map 0x%" PRIx64 "+0x%" PRIx64 " -> 0x%" PRIx64 ": %s\n", va, size,
			pa, vpte_strerror(err));
	return err;
}

/* A ragged edge for a region built around 2^shift pieces: 0, or some granules. */
static uint64_t ragged(const struct space *s, unsigned shift)
{
	if (chance(3))
		return 0;
	unsigned g = s->unit_shift;
	unsigned bits = g + (unsigned)rnd_below(shift - g + 1u);
	return rnd_below(bit(bits)) & ~(unit(s) - 1u) & (bit(shift) - 1u);
}

/*
 * Map n aligned 2^shift pieces with ragged edges r1 below and r2 above,
 * somewhere in half h: the middle gets the large leaves, the edges smaller
 * ones.  VA and PA are congruent modulo 2^shift.
 */
static void region_around(struct space *s, unsigned shift, unsigned h)
{
	uint64_t n = 1 + rnd_below(3), r1 = ragged(s, shift), r2 = ragged(s, shift);
	uint64_t core = n << shift, span = core + r1 + r2 + (1ull << shift);
	if (span > s->half_size[h] || span > s->pa_limit)
		return;
	/* Aligned VA with room for the edges inside the half. */
	uint64_t slots = (s->half_size[h] - span) >> shift;
	uint64_t va = s->half[h].addr + ((rnd_below(slots + 1u) + 1u) << shift);
	uint64_t pslots = (s->pa_limit - span) >> shift;
	uint64_t pa = (rnd_below(pslots + 1u) + 1u) << shift;
	try_map(s, va - r1, pa - r1, core + r1 + r2, random_prot(s));
}

/* A small region of random size and alignment anywhere. */
static void region_small(struct space *s)
{
	unsigned h = (unsigned)rnd_below(s->nhalves);
	unsigned g = s->unit_shift;
	uint64_t size = (1 + rnd_below(bit((unsigned)rnd_below(10)))) << g;
	if (size >= s->half_size[h])
		return;
	uint64_t va = s->half[h].addr + (rnd_below((s->half_size[h] - size) >> g) << g);
	uint64_t pa = rnd_below((s->pa_limit - size) >> g) << g;
	if (chance(2)) /* congruent to the VA modulo 2 MiB or so: larger leaves */
		pa = (pa & ~(bit(g + 9) - 1u)) | (va & (bit(g + 9) - 1u));
	if (pa + size > s->pa_limit)
		return;
	try_map(s, va, pa, size, random_prot(s));
}

/* [va, va + size) at a given place, PA random but congruent modulo the largest shift. */
static void region_at(struct space *s, uint64_t va, uint64_t size)
{
	unsigned top = s->shifts[s->nshifts - 1];
	uint64_t mask = bit(top) - 1u;
	if (size > s->pa_limit / 2)
		return;
	uint64_t pa = rnd_below((s->pa_limit / 2) >> top) << top;
	try_map(s, va, pa + (va & mask), size, random_prot(s));
}

/* Collect every leaf with a shift above @min_shift (and a run flag if asked). */
static size_t collect_leaves(struct space *s, unsigned min_shift, struct vpte_walk **out)
{
	size_t n = 0, cap = 0;
	struct vpte_walk *v = NULL, w;
	for (unsigned h = 0; h < s->nhalves; h++) {
		vpte_for_each_leaf(&w, &s->t, s->half[h], s->half_size[h]) {
			if (w.shift <= min_shift)
				continue;
			if (n == cap)
				v = xrealloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));
			v[n++] = w;
		}
	}
	*out = v;
	return n;
}

/*
 * A random range starting inside leaf @w, @unit-aligned: from one unit to
 * the leaf's size, or with @spill up to twice that (past the leaf's end);
 * kept inside the leaf's half.  Returns its size, 0 for none.
 */
static uint64_t range_in_leaf(const struct space *s, const struct vpte_walk *w, unsigned unit_shift,
			      bool spill, uint64_t *va)
{
	unsigned g = unit_shift;
	uint64_t pages = 1ull << (w->shift - g);
	uint64_t first = rnd_below(pages);
	uint64_t count = 1 + rnd_below(bit((unsigned)rnd_below(w->shift - g + 1u)));
	if (!spill && first + count > pages)
		count = pages - first;
	*va = w->va.addr + (first << g);
	uint64_t size = count << g;
	unsigned h = w->va.addr >= s->half[s->nhalves - 1].addr ? s->nhalves - 1 : 0;
	uint64_t end_off = *va - s->half[h].addr;
	return size > s->half_size[h] - end_off ? s->half_size[h] - end_off : size;
}

/* Does [va, va + size) meet the stub's page or its probe block? */
static bool touches_stub(const struct space *s, uint64_t va, uint64_t size)
{
	uint64_t last = va + (size - 1u);
	uint64_t code = s->arch->code_pa & ~(granule(s) - 1u);
	if (va <= code + (granule(s) - 1u) && code <= last)
		return true;
	uint64_t probe = s->arch->probe_pa;
	return probe && va <= probe + (PROBE_MAP - 1u) && probe <= last;
}

/* Unmap a random unit-aligned piece from inside a random large leaf or run. */
static void punch_hole(struct space *s, bool across)
{
	struct vpte_walk *v;
	size_t n = collect_leaves(s, s->unit_shift, &v);
	if (n) {
		uint64_t va, size = range_in_leaf(s, &v[rnd_below(n)], s->unit_shift, across, &va);
		if (size && !touches_stub(s, va, size)) {
			int err = vpte_unmap(&s->t, vpte_va(va), size, NULL);
			if (err && verbose)
				fprintf(stderr, "  unmap 0x%" PRIx64 "+0x%" PRIx64 ": %s\n", va, size,
					vpte_strerror(err));
			if (!err)
				s->unmaps++;
			if (verbose)
				fprintf(stderr, "  unmap 0x%" PRIx64 "+0x%" PRIx64 ": %d, %" PRIu64 " table bytes\n",
					va, size, err, s->arena.used);
		}
	}
	free(v);
}

/*
 * An empty table of @f in an arena, with the generator set for pieces of
 * 2^@unit_shift and the format's leaf and run sizes from that up.
 */
static int space_init(struct space *s, const struct vpte_format *f, unsigned unit_shift,
		      uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->arch = arch_of(f);
	s->seed = seed;
	s->unit_shift = unit_shift;
	s->pa_limit = s->arch->pa_limit;
	for (unsigned l = 0; l < f->levels; l++) {
		unsigned shift = vpte_level_shift(f, l);
		if ((f->leaf_levels & (1u << l)) && shift >= unit_shift)
			s->shifts[s->nshifts++] = shift;
		if (f->cont_bits[l] && shift + f->cont_bits[l] >= unit_shift)
			s->shifts[s->nshifts++] = shift + f->cont_bits[l];
	}
	for (unsigned i = 1; i < s->nshifts; i++) /* insertion sort */
		for (unsigned j = i; j > 0 && s->shifts[j - 1] > s->shifts[j]; j--) {
			unsigned x = s->shifts[j];
			s->shifts[j] = s->shifts[j - 1];
			s->shifts[j - 1] = x;
		}
	s->nhalves = vpte_va_space(f, s->half, s->half_size);

	int err = vpte_arena_init(&s->arena, vpte_pa(s->arch->arena_pa), s->arch->arena_limit);
	if (!err)
		err = vpte_table_init(&s->t, f, vpte_arena_mem(&s->arena));
	if (err)
		fprintf(stderr, "%s: table: %s\n", f->name, vpte_strerror(err));
	return err;
}

/*
 * Fill a space with the random layout: @per_size regions around every leaf
 * and run size in each half with ragged edges, @smalls small regions, the
 * edges of the VA space, @holes holes.
 */
static void populate(struct space *s, unsigned per_size, unsigned smalls, unsigned holes)
{
	for (unsigned i = 0; i < s->nshifts; i++)
		for (unsigned h = 0; h < s->nhalves; h++)
			for (unsigned k = 0; k < per_size; k++)
				region_around(s, s->shifts[i], h);
	for (unsigned i = 0; i < smalls; i++)
		region_small(s);

	/* The edges of the VA space: the last page (and a large piece ending
	 * there), the first page, and the edges of both halves. */
	uint64_t g = unit(s);
	unsigned last = s->nhalves - 1;
	uint64_t top = s->half[last].addr + s->half_size[last]; /* 0 = 2^64 */
	unsigned sh = s->shifts[rnd_below(s->nshifts)];
	uint64_t tail = bit(sh) + g * rnd_below(4);
	if (tail < s->half_size[last] / 2)
		region_at(s, top - tail, tail);
	region_at(s, top - g, g);
	region_at(s, s->half[0].addr, g * (1 + rnd_below(3)));
	if (s->nhalves == 2) {
		region_at(s, s->half[0].addr + s->half_size[0] - g, g);
		region_at(s, s->half[1].addr, g * (1 + rnd_below(20)));
	}

	/* Holes out of huge leaves and runs, some spilling over their ends. */
	for (unsigned i = 0; i < holes; i++)
		punch_hole(s, i % 3 == 2);
}

static void free_space(struct space *s)
{
	if (s->t.fmt)
		vpte_table_destroy(&s->t);
	vpte_arena_release(&s->arena);
}

/* ------------------------------------------------------------------------
 * The operations: every table QEMU checks has been through them
 *
 * Each operation is checked twice: here, vpte_seek() after it must say what
 * the operation was asked to do (at a few addresses in and around its
 * range); then QEMU must translate the result as vpte_seek() does.  A bug
 * that makes an operation write the wrong entry is caught by one or the
 * other, whether or not vpte's own decoder sees it.
 * ------------------------------------------------------------------------ */
#define PROTECTS 16       /* vpte_protect over random ranges */
#define SPLITS 8          /* vpte_split of random ranges */
#define RESPLITS 4        /* whole leaves split and collapsed back */
#define COW_REGIONS 8     /* regions copied in with VPTE_COPY_WRPROTECT */
#define MAX_NEW_LEAVES 1024 /* a split or a piecewise map makes at most about this many leaves */
#define CHECK_POINTS 6    /* addresses checked around each operation */
#define COPY_CHECKS 100   /* leaves of a copy checked */

/* What vpte_seek() says about one address. */
struct view {
	int err;
	bool mapped;
	uint64_t pa; /* of the address itself */
	unsigned shift;
	struct vpte_prot prot;
};

static struct view view_of(const struct vpte_table *t, uint64_t va)
{
	struct vpte_walk w;
	struct view v = { 0 };
	v.err = vpte_seek(&w, t, vpte_va(va));
	if (!v.err && w.kind == VPTE_LEAF) {
		v.mapped = true;
		v.pa = w.pa.addr + (va - w.va.addr);
		v.shift = w.shift;
		v.prot = w.prot;
	}
	return v;
}

static bool same_prot(struct vpte_prot a, struct vpte_prot b)
{
	return a.flags == b.flags && a.memtype == b.memtype && a.raw == b.raw;
}

/* Same translation: both holes, or both leaves with one PA and attributes. */
static bool same_translation(const struct view *a, const struct view *b)
{
	if (a->err || b->err)
		return a->err == b->err && a->err != -VPTE_EFAULT;
	if (a->mapped != b->mapped)
		return false;
	return !a->mapped || (a->pa == b->pa && same_prot(a->prot, b->prot));
}

static void view_str(const struct view *v, char *out, size_t n)
{
	char prot[32];
	if (v->err) {
		snprintf(out, n, "%s", vpte_strerror(v->err));
	} else if (v->mapped) {
		char shift[24] = ""; /* 0 in an expectation: any size */
		if (v->shift)
			snprintf(shift, sizeof(shift), " shift %u", v->shift);
		prot_str(&v->prot, prot);
		snprintf(out, n, "0x%" PRIx64 "%s %s raw 0x%" PRIx64, v->pa, shift, prot, v->prot.raw);
	} else {
		snprintf(out, n, "hole");
	}
}

/* An address QEMU must be asked about: it is in or next to an operation. */
static void focus(struct space *s, uint64_t va)
{
	if (s->nfocus < MAX_FOCUS)
		s->focus[s->nfocus++] = va;
}

/*
 * Count one check of an operation's result; print a failed one (what
 * vpte_seek says, what it should say) and the command that reproduces it.
 */
static void op_check(struct space *s, bool ok, const char *op, uint64_t va, const struct view *got,
		     const struct view *want, const char *why)
{
	if (ok) {
		s->ops.checks++;
		return;
	}
	if (s->ops.failed++ < MAX_REPORTS) {
		char g[128] = "", w[128] = "";
		if (got)
			view_str(got, g, sizeof(g));
		if (want)
			view_str(want, w, sizeof(w));
		printf("  WRONG after %s, VA 0x%016" PRIx64 ": %s%s%s%s%s\n"
		       "    reproduce: test_conformance --format %s --seed 0x%" PRIx64 " --boots 1\n",
		       op, va, why, got ? "; vpte_seek says " : "", g, want ? "; expected " : "", w,
		       s->f->name, s->seed);
	}
}

/* Addresses to check around [va, va + size): its ends, inside, just outside. */
static void check_points(uint64_t va, uint64_t size, uint64_t at[CHECK_POINTS])
{
	at[0] = va;
	at[1] = va + (size - 1u);
	at[2] = va + rnd_below(size);
	at[3] = va + rnd_below(size);
	at[4] = va - 1u;
	at[5] = va + size;
}

static bool inside(uint64_t a, uint64_t va, uint64_t size)
{
	return a - va < size;
}

static struct vpte_prot apply_change(struct vpte_prot p, struct vpte_prot set, struct vpte_prot clear)
{
	p.flags = (p.flags & ~clear.flags) | set.flags;
	p.raw = (p.raw & ~clear.raw) | set.raw;
	if (clear.memtype)
		p.memtype = set.memtype;
	return p;
}

/* A random attribute change: W, X, U, G, D, SPECIAL, memory type, raw bits. */
static void random_change(const struct space *s, struct vpte_prot *set, struct vpte_prot *clear)
{
	static const uint32_t flags[] = { VPTE_W, VPTE_X, VPTE_U, VPTE_G, VPTE_D, VPTE_SPECIAL };
	memset(set, 0, sizeof(*set));
	memset(clear, 0, sizeof(*clear));
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		uint64_t r = rnd_below(3);
		if (r == 0)
			set->flags |= flags[i];
		else if (r == 1)
			clear->flags |= flags[i];
	}
	if (s->arch->kind == ARCH_RISCV && chance(8)) { /* execute-only */
		set->flags = (set->flags & ~VPTE_W) | VPTE_X;
		clear->flags |= VPTE_R | VPTE_W;
	}
	if (chance(3)) {
		clear->memtype = VPTE_MT_MASK;
		set->memtype = (uint32_t)rnd_below(3);
	}
	if (chance(4)) {
		uint64_t bits = rnd() & s->f->raw_mask, on = rnd();
		set->raw = bits & on;
		clear->raw = bits & ~on;
	}
}

/* A random leaf, larger than the granule two times in three. */
static const struct vpte_walk *random_leaf(const struct space *s, const struct vpte_walk *v, size_t n)
{
	const struct vpte_walk *w = &v[rnd_below(n)];
	for (unsigned tries = 0; tries < 8 && w->shift <= s->f->granule_shift && !chance(3); tries++)
		w = &v[rnd_below(n)];
	return w;
}

/*
 * vpte_protect over random ranges that cut leaves and runs (or span
 * several): inside, each leaf's attributes change as asked and its PA
 * stays; outside, nothing changes.  A change the format cannot encode is
 * refused and must change nothing.
 */
static void protect_some(struct space *s)
{
	struct vpte_walk *v;
	size_t n = collect_leaves(s, 0, &v);
	for (unsigned i = 0; i < PROTECTS && n; i++) {
		uint64_t va, size = range_in_leaf(s, random_leaf(s, v, n), s->f->granule_shift,
						   chance(3), &va);
		if (!size || touches_stub(s, va, size))
			continue;
		struct vpte_prot set, clear;
		random_change(s, &set, &clear);
		uint64_t at[CHECK_POINTS];
		struct view before[CHECK_POINTS];
		check_points(va, size, at);
		for (unsigned k = 0; k < CHECK_POINTS; k++)
			before[k] = view_of(&s->t, at[k]);
		int err = vpte_protect(&s->t, vpte_va(va), size, set, clear, NULL);
		if (verbose)
			fprintf(stderr, "  protect 0x%" PRIx64 "+0x%" PRIx64 " set %x/%u/%" PRIx64
				" clear %x/%x/%" PRIx64 ": %d\n", va, size, set.flags, set.memtype, set.raw,
				clear.flags, clear.memtype, clear.raw, err);
		op_check(s, !err || err == -VPTE_EINVAL, "protect", va, NULL, NULL, vpte_strerror(err));
		if (err)
			s->ops.protects_refused++;
		else
			s->ops.protects++;
		for (unsigned k = 0; k < CHECK_POINTS; k++) {
			struct view want = before[k], got = view_of(&s->t, at[k]);
			want.shift = 0;
			if (!err && want.mapped && inside(at[k], va, size))
				want.prot = apply_change(want.prot, set, clear);
			op_check(s, same_translation(&got, &want), "protect", at[k], &got, &want,
				 err ? "a refused protect changed the entry"
				     : inside(at[k], va, size) ? "attributes not changed as asked"
							      : "changed outside the range");
			focus(s, at[k]);
		}
	}
	free(v);
}

/* The largest of the format's leaf and run sizes below @shift whose pieces fit MAX_NEW_LEAVES. */
static unsigned smaller_shift(const struct space *s, unsigned shift, uint64_t size)
{
	unsigned pick = 0;
	for (unsigned i = 0; i < s->nshifts && s->shifts[i] < shift; i++)
		if (!pick || (size >> pick) > MAX_NEW_LEAVES)
			pick = s->shifts[i];
	return pick;
}

/*
 * vpte_split of random ranges to random smaller shifts (leaf sizes or
 * not): the translation stays, and no leaf in the range is larger.
 */
static void split_some(struct space *s)
{
	struct vpte_walk *v;
	size_t n = collect_leaves(s, s->f->granule_shift, &v);
	for (unsigned i = 0; i < SPLITS && n; i++) {
		const struct vpte_walk *w = &v[rnd_below(n)];
		uint64_t va, size = range_in_leaf(s, w, s->f->granule_shift, chance(3), &va);
		if (!size)
			continue;
		unsigned shift = s->f->granule_shift + (unsigned)rnd_below(w->shift - s->f->granule_shift);
		while ((size >> shift) > MAX_NEW_LEAVES)
			shift++;
		uint64_t at[CHECK_POINTS];
		struct view before[CHECK_POINTS];
		check_points(va, size, at);
		for (unsigned k = 0; k < CHECK_POINTS; k++)
			before[k] = view_of(&s->t, at[k]);
		int err = vpte_split(&s->t, vpte_va(va), size, shift, NULL);
		if (verbose)
			fprintf(stderr, "  split 0x%" PRIx64 "+0x%" PRIx64 " to %u: %d\n", va, size, shift, err);
		op_check(s, !err, "split", va, NULL, NULL, vpte_strerror(err));
		s->ops.splits += !err;
		for (unsigned k = 0; k < CHECK_POINTS; k++) {
			struct view got = view_of(&s->t, at[k]), want = before[k];
			bool small = !got.mapped || !inside(at[k], va, size) || got.shift <= shift;
			want.shift = inside(at[k], va, size) ? shift : 0; /* at most */
			op_check(s, same_translation(&got, &want) && small, "split", at[k], &got, &want,
				 small ? "translation changed" : "a leaf in the range is larger than asked");
			focus(s, at[k]);
		}
	}
	free(v);
}

/*
 * Whole leaves and runs split into smaller ones, then collapsed back: the
 * collapse must give the very leaf (size, PA, attributes) that was split.
 */
static void resplit_some(struct space *s)
{
	struct vpte_walk *v;
	size_t n = collect_leaves(s, s->f->granule_shift, &v);
	for (unsigned i = 0; i < RESPLITS && n; i++) {
		const struct vpte_walk *w = &v[rnd_below(n)];
		uint64_t va = w->va.addr, size = bit(w->shift);
		struct view before = view_of(&s->t, va);
		if (!before.mapped || before.shift != w->shift || before.pa != w->pa.addr)
			continue; /* an earlier edit changed it */
		unsigned shift = smaller_shift(s, w->shift, size);
		int err = vpte_split(&s->t, vpte_va(va), size, shift, NULL);
		struct view mid = view_of(&s->t, va);
		op_check(s, !err && same_translation(&mid, &before) && mid.shift <= shift, "split", va,
			 &mid, &before, err ? vpte_strerror(err) : "a whole leaf not split as asked");
		err = vpte_collapse(&s->t, vpte_va(va), size, 0, NULL);
		struct view after = view_of(&s->t, va);
		op_check(s, !err && same_translation(&after, &before) && after.shift == before.shift,
			 "split and collapse", va, &after, &before,
			 err ? vpte_strerror(err) : "the leaf did not come back");
		if (verbose)
			fprintf(stderr, "  split 0x%" PRIx64 "+0x%" PRIx64 " to %u, collapse: %d\n", va, size,
				shift, err);
		if (!err && after.shift == before.shift)
			s->ops.collapsed++;
		s->ops.collapses++;
		focus(s, va);
		focus(s, va + (size - 1u));
		focus(s, va + rnd_below(size));
	}
	free(v);
}

struct piece {
	uint64_t va, size;
	bool dirty;
};

/*
 * One region of @blocks aligned 2^@shift blocks (ragged edges of random
 * granules below and above) mapped in pieces no larger than a smaller
 * leaf size, in random order, some of them dirty, then collapsed: each
 * block must become one leaf or run of at least 2^@shift, at its PA, dirty
 * when a piece it covers was.
 */
static void collapse_region(struct space *s, unsigned shift)
{
	unsigned h = (unsigned)rnd_below(s->nhalves);
	uint64_t blocks = 1 + rnd_below(2), core = blocks << shift;
	uint64_t r1 = ragged(s, shift), r2 = ragged(s, shift);
	uint64_t span = core + (2ull << shift);
	if (span > s->half_size[h] || span > s->pa_limit)
		return;
	uint64_t va = s->half[h].addr + ((rnd_below((s->half_size[h] - span) >> shift) + 1u) << shift);
	uint64_t pa = (rnd_below((s->pa_limit - span) >> shift) + 1u) << shift;
	uint64_t start = va - r1, size = core + r1 + r2;
	if (touches_stub(s, start, size))
		return;

	/* Cut into 1-8 pieces at random granules, mapped in random order. */
	struct piece piece[8];
	unsigned npieces = 1 + (unsigned)rnd_below(8), g = s->f->granule_shift;
	uint64_t cut[9];
	cut[0] = 0;
	cut[npieces] = size;
	for (unsigned i = 1; i < npieces; i++)
		cut[i] = rnd_below(size >> g) << g;
	for (unsigned i = 1; i < npieces; i++) /* insertion sort */
		for (unsigned j = i; j > 1 && cut[j - 1] > cut[j]; j--) {
			uint64_t x = cut[j];
			cut[j] = cut[j - 1];
			cut[j - 1] = x;
		}
	unsigned n = 0;
	for (unsigned i = 0; i < npieces; i++)
		if (cut[i + 1] > cut[i])
			piece[n++] = (struct piece){ start + cut[i], cut[i + 1] - cut[i], chance(3) };
	for (unsigned i = n; i > 1; i--) { /* shuffle */
		unsigned j = (unsigned)rnd_below(i);
		struct piece x = piece[i - 1];
		piece[i - 1] = piece[j];
		piece[j] = x;
	}
	struct vpte_prot prot = random_prot(s);
	prot.flags &= ~VPTE_D;
	struct vpte_map_opts opts = { smaller_shift(s, shift, bit(shift)), 0 };
	unsigned mapped = 0;
	int err = 0;
	for (; mapped < n && !err; mapped++) {
		struct vpte_prot p = prot;
		if (piece[mapped].dirty)
			p.flags |= VPTE_D;
		err = vpte_map(&s->t, vpte_va(piece[mapped].va), vpte_pa(pa - r1 + (piece[mapped].va - start)),
			       piece[mapped].size, p, &opts);
	}
	if (err) { /* something was mapped there already: take the pieces away again */
		for (unsigned i = 0; i + 1 < mapped; i++)
			vpte_unmap(&s->t, vpte_va(piece[i].va), piece[i].size, NULL);
		return;
	}
	unsigned max_shift = chance(2) ? 0 : shift;
	err = vpte_collapse(&s->t, vpte_va(start), size, max_shift, NULL);
	if (verbose)
		fprintf(stderr, "  collapse 0x%" PRIx64 "+0x%" PRIx64 " (%u pieces, blocks of 2^%u) max %u: %d\n",
			start, size, n, shift, max_shift, err);
	op_check(s, !err, "collapse", start, NULL, NULL, vpte_strerror(err));
	s->ops.collapses++;
	for (uint64_t b = 0; b < blocks; b++) {
		uint64_t at = va + (b << shift) + rnd_below(bit(shift));
		struct view got = view_of(&s->t, at), want = { 0 };
		want.mapped = true;
		want.pa = pa + (at - va);
		want.prot = prot;
		want.prot.flags |= VPTE_A; /* vpte_map sets it */
		want.shift = shift;
		if (got.mapped) {
			uint64_t leaf = at & ~(bit(got.shift) - 1u);
			for (unsigned i = 0; i < n; i++)
				if (piece[i].dirty && piece[i].va < leaf + bit(got.shift) &&
				    leaf < piece[i].va + piece[i].size)
					want.prot.flags |= VPTE_D;
		}
		bool big = got.shift >= shift && (!max_shift || got.shift <= max_shift);
		op_check(s, same_translation(&got, &want) && big, "collapse", at, &got, &want,
			 big ? "translation or merged dirty flag wrong" : "the block did not become one leaf");
		s->ops.collapsed += big;
		focus(s, at);
	}
	focus(s, start);
	focus(s, start + (size - 1u));
}

/*
 * Copy the mappings of a space built in another family's format (its
 * generator limited to leaves this format can take whole) into this empty
 * table, re-encoding every leaf and splitting where this format lacks the
 * size; then every source leaf must translate alike here, with leaves no
 * larger than its own.
 */
static void copy_from_other_format(struct space *s)
{
	size_t count, nc = 0;
	const struct vpte_format *const *formats = vpte_formats(&count), *cand[16];
	for (size_t i = 0; i < count && nc < 16; i++)
		if (arch_of(formats[i]) && arch_of(formats[i])->kind != s->arch->kind)
			cand[nc++] = formats[i];
	const struct vpte_format *g = cand[rnd_below(nc)];
	/* Its smallest leaf or run size that is whole pages of this format. */
	unsigned unit_shift = 64;
	for (unsigned l = 0; l < g->levels; l++) {
		unsigned shift = vpte_level_shift(g, l);
		if ((g->leaf_levels & (1u << l)) && shift >= s->f->granule_shift && shift < unit_shift)
			unit_shift = shift;
		shift += g->cont_bits[l];
		if (g->cont_bits[l] && shift >= s->f->granule_shift && shift < unit_shift)
			unit_shift = shift;
	}
	struct space d;
	if (space_init(&d, g, unit_shift, s->seed))
		goto out;
	d.portable = true;
	if (d.pa_limit > s->pa_limit)
		d.pa_limit = s->pa_limit;
	/* Where both formats translate. */
	unsigned nh = 0;
	vpte_va_t half[2];
	uint64_t half_size[2];
	for (unsigned i = 0; i < d.nhalves; i++)
		for (unsigned j = 0; j < s->nhalves; j++) {
			uint64_t lo = d.half[i].addr > s->half[j].addr ? d.half[i].addr : s->half[j].addr;
			uint64_t end_d = d.half[i].addr + (d.half_size[i] - 1u);
			uint64_t end_s = s->half[j].addr + (s->half_size[j] - 1u);
			uint64_t hi = end_d < end_s ? end_d : end_s;
			if (lo <= hi) {
				half[nh] = vpte_va(lo);
				half_size[nh++] = hi - lo + 1u;
			}
		}
	d.nhalves = nh;
	memcpy(d.half, half, sizeof(half));
	memcpy(d.half_size, half_size, sizeof(half_size));
	populate(&d, 1, 6, 6); /* half of this format's own layout: QEMU's time goes by leaves */
	for (unsigned h = 0; h < d.nhalves; h++) {
		int err = vpte_copy(&s->t, &d.t, d.half[h], d.half_size[h], NULL);
		if (verbose)
			fprintf(stderr, "  copy from %s 0x%" PRIx64 "+0x%" PRIx64 ": %d\n", g->name,
				d.half[h].addr, d.half_size[h], err);
		op_check(s, !err, "copy", d.half[h].addr, NULL, NULL, vpte_strerror(err));
	}
	s->copied_from = g;
	struct vpte_walk *v;
	size_t n = collect_leaves(&d, 0, &v);
	s->ops.copied_leaves += n;
	for (size_t i = 0; i < n; i++) {
		if (!keep_one(n, COPY_CHECKS))
			continue;
		uint64_t at[3] = { v[i].va.addr, v[i].va.addr + (bit(v[i].shift) - 1u),
				   v[i].va.addr + rnd_below(bit(v[i].shift)) };
		for (unsigned k = 0; k < 3; k++) {
			struct view got = view_of(&s->t, at[k]), want = view_of(&d.t, at[k]);
			bool fits = got.shift <= want.shift;
			op_check(s, same_translation(&got, &want) && fits, "copy", at[k], &got, &want,
				 fits ? "not translated as in the source" : "a leaf larger than the source's");
		}
		focus(s, at[2]);
	}
	free(v);
out:
	free_space(&d);
}

/*
 * Regions of a same-format table copied in with VPTE_COPY_WRPROTECT: each
 * copy has the source's leaves, attributes and PAs, and neither side is
 * writable any more.
 */
static void cow_copy(struct space *s)
{
	struct space src;
	struct { uint64_t va, size; } range[COW_REGIONS];
	unsigned nr = 0;
	if (space_init(&src, s->f, s->f->granule_shift, s->seed))
		goto out;
	for (unsigned i = 0; i < COW_REGIONS; i++) {
		uint64_t maps = src.maps;
		if (i % 2)
			region_small(&src);
		else
			region_around(&src, src.shifts[rnd_below(src.nshifts)], (unsigned)rnd_below(src.nhalves));
		if (src.maps > maps) {
			range[nr].va = src.last_va;
			range[nr++].size = src.last_size;
		}
	}
	for (unsigned i = 0; i < nr; i++) {
		uint64_t va = range[i].va, size = range[i].size;
		if (touches_stub(s, va, size))
			continue;
		uint64_t at[CHECK_POINTS];
		struct view before[CHECK_POINTS];
		check_points(va, size, at);
		for (unsigned k = 0; k < CHECK_POINTS; k++)
			before[k] = view_of(&src.t, at[k]);
		struct vpte_copy_opts opts = { VPTE_COPY_WRPROTECT, NULL };
		int err = vpte_copy(&s->t, &src.t, vpte_va(va), size, &opts);
		if (verbose)
			fprintf(stderr, "  copy-on-write 0x%" PRIx64 "+0x%" PRIx64 ": %d\n", va, size, err);
		if (err == -VPTE_EEXIST) { /* this table has something there */
			s->ops.cow_refused++;
			continue;
		}
		op_check(s, !err, "copy-on-write", va, NULL, NULL, vpte_strerror(err));
		s->ops.cow_copies += !err;
		for (unsigned k = 0; !err && k < 4; k++) { /* the points inside */
			struct view got = view_of(&s->t, at[k]), want = before[k];
			want.prot.flags &= ~VPTE_W;
			struct view src_now = view_of(&src.t, at[k]);
			op_check(s, same_translation(&got, &want) && got.shift == want.shift &&
					    same_translation(&src_now, &want),
				 "copy-on-write", at[k], &got, &want,
				 same_translation(&src_now, &want) ? "the copy differs from the source"
								   : "the source was not write-protected");
			focus(s, at[k]);
		}
	}
out:
	free_space(&src);
}

/*
 * The layout QEMU checks: first a copy of another format's random layout,
 * then the stub's pages, this format's own random layout, and the
 * operations on all of it.
 */
static int build_space(struct space *s, const struct vpte_format *f, uint64_t seed)
{
	rng_state = seed;
	int err = space_init(s, f, f->granule_shift, seed);
	if (err)
		return err;
	copy_from_other_format(s);

	/* The stub's page, to itself, so it runs on after the MMU is on (in
	 * place of whatever the copy put there). */
	struct vpte_prot code = { VPTE_R | VPTE_X | VPTE_G, VPTE_MT_WB, 0 };
	uint64_t code_pa = s->arch->code_pa & ~(granule(s) - 1u);
	err = vpte_unmap(&s->t, vpte_va(code_pa), granule(s), NULL);
	if (!err)
		err = vpte_map(&s->t, vpte_va(code_pa), vpte_pa(code_pa), granule(s), code, NULL);
	if (err) {
		fprintf(stderr, "%s: mapping the stub: %s\n", f->name, vpte_strerror(err));
		return err;
	}
	/* The probe block too, read and written by the stub through the MMU. */
	struct vpte_prot data = { VPTE_R | VPTE_W | VPTE_G | VPTE_D, VPTE_MT_WB, 0 };
	if (s->arch->probe_pa) {
		err = vpte_unmap(&s->t, vpte_va(s->arch->probe_pa), PROBE_MAP, NULL);
		if (!err)
			err = vpte_map(&s->t, vpte_va(s->arch->probe_pa), vpte_pa(s->arch->probe_pa),
				       PROBE_MAP, data, NULL);
	}
	if (err) {
		fprintf(stderr, "%s: mapping the probe block: %s\n", f->name, vpte_strerror(err));
		return err;
	}

	populate(s, 2, 16, 12);
	resplit_some(s);
	protect_some(s);
	split_some(s);
	for (unsigned i = 0; i < s->nshifts; i++)
		if (s->shifts[i] > f->granule_shift)
			collapse_region(s, s->shifts[i]);
	cow_copy(s);

	/* Each operation really ran, and collapse really made larger leaves. */
	const struct ops_tally *o = &s->ops;
	op_check(s, o->copied_leaves && o->protects && o->splits && o->collapsed && o->cow_copies,
		 "the operations", 0, NULL, NULL, "one of copy, protect, split, collapse or "
		 "copy-on-write never took effect");
	return 0;
}

/* ------------------------------------------------------------------------
 * Addresses to ask about
 * ------------------------------------------------------------------------ */
struct samples {
	uint64_t *va;
	size_t n, cap;
};

static void add(struct samples *sm, uint64_t va)
{
	if (sm->n == sm->cap)
		sm->va = xrealloc(sm->va, (sm->cap = sm->cap ? 2 * sm->cap : 1024) * sizeof(uint64_t));
	sm->va[sm->n++] = va;
}

static void pick_samples(struct space *s, struct samples *sm)
{
	size_t big = 0, small = 0, holes = 0;
	struct vpte_walk w;
	for (unsigned h = 0; h < s->nhalves; h++)
		vpte_for_each_entry(&w, &s->t, s->half[h], s->half_size[h], VPTE_ITER_HOLES) {
			if (w.kind != VPTE_LEAF)
				holes++;
			else if (w.shift > s->f->granule_shift)
				big++;
			else
				small++;
		}
	/* Each kept leaf or hole: its first byte, its last byte, one inside. */
	for (unsigned h = 0; h < s->nhalves; h++)
		vpte_for_each_entry(&w, &s->t, s->half[h], s->half_size[h], VPTE_ITER_HOLES) {
			size_t count = w.kind != VPTE_LEAF ? holes : w.shift > s->f->granule_shift ? big : small;
			size_t budget = w.kind != VPTE_LEAF ? HOLE_SAMPLES
				      : w.shift > s->f->granule_shift ? BIG_LEAF_SAMPLES : LEAF_SAMPLES;
			if (!keep_one(count, budget))
				continue;
			add(sm, w.va.addr);
			add(sm, w.va.addr + (bit(w.shift) - 1u));
			add(sm, w.va.addr + rnd_below(bit(w.shift)));
		}
	for (unsigned i = 0; i < RANDOM_SAMPLES; i++) {
		uint64_t va = rnd();
		if (i % 4 != 0) { /* mostly translatable addresses */
			unsigned h = (unsigned)rnd_below(s->nhalves);
			va = s->half[h].addr + rnd_below(s->half_size[h]);
		}
		add(sm, va);
	}
	/* Just outside the translatable ranges. */
	for (unsigned h = 0; h < s->nhalves; h++) {
		add(sm, s->half[h].addr + s->half_size[h]);
		if (s->half[h].addr)
			add(sm, s->half[h].addr - 1u);
	}
	add(sm, UINT64_MAX);
	/* Where the operations changed something. */
	for (unsigned i = 0; i < s->nfocus; i++)
		add(sm, s->focus[i]);
}

/* ------------------------------------------------------------------------
 * QEMU over QMP
 * ------------------------------------------------------------------------ */
struct qemu {
	pid_t pid;
	int in, out;  /* its stdin (we write) and stdout (we read) */
	char *buf;    /* unread output */
	size_t len, cap;
	char log[256]; /* its stderr */
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int qemu_start(struct qemu *q, char *const argv[], const char *dir)
{
	int to[2], from[2];
	memset(q, 0, sizeof(*q));
	snprintf(q->log, sizeof(q->log), "%s/qemu.log", dir);
	if (pipe(to) || pipe(from))
		return -1;
	q->pid = fork();
	if (q->pid < 0)
		return -1;
	if (q->pid == 0) {
		int log = open(q->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(to[0], 0);
		dup2(from[1], 1);
		if (log >= 0)
			dup2(log, 2);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	q->in = to[1];
	q->out = from[0];
	fcntl(q->in, F_SETFL, fcntl(q->in, F_GETFL) | O_NONBLOCK);
	fcntl(q->out, F_SETFL, fcntl(q->out, F_GETFL) | O_NONBLOCK);
	return 0;
}

static void qemu_print_log(const struct qemu *q)
{
	FILE *f = fopen(q->log, "r");
	char line[512];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  qemu: %s", line);
	fclose(f);
}

static void qemu_stop(struct qemu *q)
{
	if (q->pid <= 0)
		return;
	/* Ask it to quit; closing its stdin alone leaves it running. */
	const char *quit = "{\"execute\": \"quit\"}\n";
	if (write(q->in, quit, strlen(quit)) < 0 && verbose)
		perror("qemu quit");
	close(q->in);
	close(q->out);
	long long end = now_ms() + 3000;
	int status;
	while (waitpid(q->pid, &status, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(q->pid, SIGKILL);
			waitpid(q->pid, &status, 0);
			break;
		}
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
	q->pid = 0;
	free(q->buf);
}

/*
 * Pump: write what is left of @out (may be NULL) while reading QEMU's
 * output, until a whole line is available or @deadline passes.  Returns the
 * line (NUL-terminated, owned by the caller) or NULL on timeout or EOF.
 */
static char *qemu_line(struct qemu *q, const char **out, size_t *out_len, long long deadline)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - q->buf);
			char *line = xrealloc(NULL, n + 1);
			memcpy(line, q->buf, n);
			line[n] = 0;
			if (n && line[n - 1] == '\r')
				line[n - 1] = 0;
			memmove(q->buf, nl + 1, q->len - n - 1);
			q->len -= n + 1;
			return line;
		}
		long long left = deadline - now_ms();
		if (left <= 0)
			return NULL;
		struct pollfd p[2] = { { q->out, POLLIN, 0 }, { q->in, POLLOUT, 0 } };
		bool writing = out && *out_len;
		if (poll(p, writing ? 2 : 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			return NULL;
		if (writing && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(q->in, *out, *out_len);
			if (w > 0) {
				*out += w;
				*out_len -= (size_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				return NULL;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (q->cap - q->len < 65536)
				q->buf = xrealloc(q->buf, q->cap = q->cap * 2 + 65536);
			ssize_t r = read(q->out, q->buf + q->len, q->cap - q->len);
			if (r == 0)
				return NULL;
			if (r > 0)
				q->len += (size_t)r;
			else if (errno != EAGAIN && errno != EINTR)
				return NULL;
		}
	}
}

/* The string value of "key" in a one-line JSON object, unescaped; NULL if absent. */
static char *json_string(const char *line, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	const char *p = strstr(line, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	char *out = xrealloc(NULL, strlen(p) + 1), *o = out;
	for (; *p && *p != '"'; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		switch (*++p) {
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'b': case 'f': break;
		case 'u':
			if (strlen(p) >= 5) {
				char hex[5] = { p[1], p[2], p[3], p[4], 0 };
				unsigned long c = strtoul(hex, NULL, 16);
				*o++ = c < 128 ? (char)c : '?';
				p += 4;
			}
			break;
		case 0: p--; break;
		default: *o++ = *p; break;
		}
	}
	*o = 0;
	return out;
}

/* The numeric "id" of a response, or -1. */
static long json_id(const char *line)
{
	const char *p = strstr(line, "\"id\": ");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

/* One QMP request (with "id": 0) and its response line. */
static char *qmp_exec(struct qemu *q, const char *req, long long deadline)
{
	const char *out = req;
	size_t len = strlen(req);
	for (;;) {
		char *line = qemu_line(q, &out, &len, deadline);
		if (!line || json_id(line) == 0)
			return line;
		free(line);
	}
}

/* One monitor command and its answer (the "return" string, or the error). */
static char *qmp_hmp(struct qemu *q, const char *cmd, long long deadline)
{
	char req[256];
	snprintf(req, sizeof(req),
		 "{\"execute\": \"human-monitor-command\", \"arguments\": "
		 "{\"command-line\": \"%s\"}, \"id\": 0}\n",
		 cmd);
	char *line = qmp_exec(q, req, deadline);
	if (!line)
		return NULL;
	char *r = json_string(line, "return");
	if (!r)
		r = json_string(line, "desc");
	free(line);
	return r ? r : calloc(1, 1);
}

/* ------------------------------------------------------------------------
 * Comparing
 * ------------------------------------------------------------------------ */
struct result {
	uint64_t agree, disagree;      /* gva2gpa */
	uint64_t info_agree, info_disagree; /* info tlb / info mem */
	uint64_t at_agree, at_disagree;     /* the stub's probes: arm64 AT, x86-64 loads */
	uint64_t ops_agree, ops_disagree;   /* operations' results, checked before the boot */
	unsigned errors;               /* boots that did not get as far as comparing */
	unsigned reports;
};

/* What vpte says about @va: true and *pa when it translates. */
static bool vpte_answer(const struct space *s, uint64_t va, uint64_t *pa, struct vpte_walk *w,
			int *err)
{
	*err = vpte_seek(w, &s->t, vpte_va(va));
	if (*err || w->kind != VPTE_LEAF)
		return false;
	*pa = w->pa.addr + (va - w->va.addr);
	return true;
}

static void describe_vpte(const struct space *s, uint64_t va, char *out, size_t n)
{
	struct vpte_walk w;
	uint64_t pa;
	int err;
	char prot[32];
	if (vpte_answer(s, va, &pa, &w, &err)) {
		prot_str(&w.prot, prot);
		snprintf(out, n, "0x%" PRIx64 " (leaf 0x%" PRIx64 " shift %u level %u %s%s, entry 0x%016" PRIx64 ")",
			 pa, w.va.addr, w.shift, w.level, prot, w.cont ? " run" : "", w.entry);
	} else if (err) {
		snprintf(out, n, "not translatable (%s)", vpte_strerror(err));
	} else {
		snprintf(out, n, "hole (level %u, shift %u)", w.level, w.shift);
	}
}

static void report(struct result *r, const struct space *s, uint64_t seed, uint64_t va,
		   const char *what, const char *qemu_said)
{
	if (r->reports++ >= MAX_REPORTS) {
		if (r->reports == MAX_REPORTS + 1)
			printf("  ... (more disagreements not shown)\n");
		return;
	}
	char v[256];
	describe_vpte(s, va, v, sizeof(v));
	printf("  DISAGREE %s VA 0x%016" PRIx64 ": vpte %s; qemu %s\n"
	       "    reproduce: test_conformance --format %s --seed 0x%" PRIx64 " --boots 1\n",
	       what, va, v, qemu_said, s->f->name, seed);
}

/* x86 `info tlb`: "VA: PA XGPDACTUW" for every leaf. */
struct tlb_line {
	uint64_t va, pa;
	char flags[10];
};

static int cmp_tlb(const void *a, const void *b)
{
	uint64_t x = ((const struct tlb_line *)a)->va, y = ((const struct tlb_line *)b)->va;
	return x < y ? -1 : x > y;
}

static void x86_flags(const struct vpte_walk *w, char out[10])
{
	const struct vpte_prot *p = &w->prot;
	snprintf(out, 10, "%c%c%c%c%c%c%c%c%c", (p->flags & VPTE_X) ? '-' : 'X',
		 (p->flags & VPTE_G) ? 'G' : '-', w->shift > 12 ? 'P' : '-',
		 (p->flags & VPTE_D) ? 'D' : '-', (p->flags & VPTE_A) ? 'A' : '-',
		 p->memtype == VPTE_MT_NC || p->memtype == VPTE_MT_DEVICE ? 'C' : '-',
		 p->memtype == VPTE_MT_DEVICE ? 'T' : '-', (p->flags & VPTE_U) ? 'U' : '-',
		 (p->flags & VPTE_W) ? 'W' : '-');
}

/*
 * Every leaf vpte iterates must be one `info tlb` line with the same VA, PA
 * and flags, and every line one leaf.  QEMU prints the PA masked to bits
 * 49:12 (monitor.c's mask 0x3fffffffff000), so the PA is compared there.
 */
static void compare_info_tlb(struct result *r, const struct space *s, uint64_t seed, char *text)
{
	struct tlb_line *v = NULL;
	size_t n = 0, cap = 0;
	for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
		struct tlb_line l;
		char *end;
		l.va = strtoull(line, &end, 16);
		if (end == line || *end != ':')
			continue;
		l.pa = strtoull(end + 1, &end, 16);
		while (*end == ' ')
			end++;
		if (strlen(end) != 9)
			continue;
		memcpy(l.flags, end, 10);
		if (n == cap)
			v = xrealloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v));
		v[n++] = l;
	}
	qsort(v, n, sizeof(*v), cmp_tlb);
	const uint64_t mask = 0x3fffffffff000ull;
	size_t i = 0;
	struct vpte_walk w;
	for (unsigned h = 0; h < s->nhalves; h++) {
		vpte_for_each_leaf(&w, &s->t, s->half[h], s->half_size[h]) {
			char want[10], said[96];
			x86_flags(&w, want);
			while (i < n && v[i].va < w.va.addr) {
				snprintf(said, sizeof(said), "info tlb line 0x%" PRIx64 ": 0x%" PRIx64 " %s",
					 v[i].va, v[i].pa, v[i].flags);
				report(r, s, seed, v[i].va, "info tlb (extra line)", said);
				r->info_disagree++;
				i++;
			}
			if (i < n && v[i].va == w.va.addr && v[i].pa == (w.pa.addr & mask) &&
			    !strcmp(v[i].flags, want)) {
				r->info_agree++;
				i++;
				continue;
			}
			if (i < n && v[i].va == w.va.addr) {
				snprintf(said, sizeof(said), "info tlb 0x%" PRIx64 " %s, expected 0x%" PRIx64 " %s",
					 v[i].pa, v[i].flags, w.pa.addr & mask, want);
				i++;
			} else {
				snprintf(said, sizeof(said), "no info tlb line, expected 0x%" PRIx64 " %s",
					 w.pa.addr & mask, want);
			}
			report(r, s, seed, w.va.addr, "info tlb", said);
			r->info_disagree++;
		}
	}
	for (; i < n; i++) {
		char said[96];
		snprintf(said, sizeof(said), "info tlb line 0x%" PRIx64 ": 0x%" PRIx64 " %s", v[i].va,
			 v[i].pa, v[i].flags);
		report(r, s, seed, v[i].va, "info tlb (extra line)", said);
		r->info_disagree++;
	}
	free(v);
}

/* RISC-V `info mem`: "vaddr paddr size rwxugad" ranges. */
struct mem_range {
	uint64_t va, size;
	char attr[8];
};

static void compare_info_mem(struct result *r, const struct space *s, uint64_t seed, char *text,
			     const struct samples *sm)
{
	struct mem_range *v = NULL;
	size_t n = 0, cap = 0;
	for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
		struct mem_range m;
		char attr[16];
		uint64_t pa;
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %15s", &m.va, &pa, &m.size, attr) != 4 ||
		    strlen(attr) != 7)
			continue;
		memcpy(m.attr, attr, 8);
		if (n == cap)
			v = xrealloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v));
		v[n++] = m;
	}
	qsort(v, n, sizeof(*v), cmp_tlb); /* va is the first member of both */
	for (size_t k = 0; k < sm->n; k++) {
		uint64_t va = sm->va[k], pa;
		struct vpte_walk w;
		int err;
		bool mapped = vpte_answer(s, va, &pa, &w, &err);
		/* The last range starting at or below va. */
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (v[mid].va <= va)
				lo = mid + 1;
			else
				hi = mid;
		}
		const struct mem_range *m = lo ? &v[lo - 1] : NULL;
		if (m && va - m->va >= m->size)
			m = NULL;
		char want[8] = "-------";
		if (mapped) {
			static const char letters[] = "rwxugad";
			for (unsigned i = 0; i < 7; i++)
				if (w.prot.flags & (1u << i))
					want[i] = letters[i];
		}
		if ((!mapped && !m) || (mapped && m && !strcmp(m->attr, want))) {
			r->info_agree++;
			continue;
		}
		char said[96];
		if (m)
			snprintf(said, sizeof(said), "info mem range 0x%" PRIx64 "+0x%" PRIx64 " %s%s%s",
				 m->va, m->size, m->attr, mapped ? ", expected " : "", mapped ? want : "");
		else
			snprintf(said, sizeof(said), "not in info mem, expected %s", want);
		report(r, s, seed, va, "info mem", said);
		r->info_disagree++;
	}
	free(v);
}

/*
 * arm64 AT results.  PAR_EL1 (D17.2 "PAR_EL1"): F = bit 0; on success
 * PA[47:12], SH in bits 8:7, ATTR (the MAIR byte) in bits 63:56; on a fault
 * FST in bits 6:1: 0b0001LL translation, 0b0010LL access flag, 0b0011LL
 * permission fault at level LL.
 */
static const char *const at_names[4] = { "AT S1E1R", "AT S1E1W", "AT S1E0R", "AT S1E0W" };

static void par_str(uint64_t par, char *out, size_t n)
{
	if (par & 1) {
		unsigned fst = (unsigned)(par >> 1) & 0x3f;
		const char *kind = (fst & 0x3c) == 0x04 ? "translation" : (fst & 0x3c) == 0x08 ? "access flag"
				 : (fst & 0x3c) == 0x0c ? "permission" : "other";
		snprintf(out, n, "%s fault (FST 0x%02x)", kind, fst);
	} else {
		snprintf(out, n, "PA 0x%" PRIx64 " attr 0x%02x sh %u", (uint64_t)(par & 0x0000fffffffff000ull),
			 (unsigned)(par >> 56), (unsigned)(par >> 7) & 3);
	}
}

static void compare_at(struct result *r, const struct space *s, uint64_t seed, const uint64_t *va,
		       size_t n, const uint64_t *par)
{
	static const unsigned mair[] = { 0xff, 0x44, 0x04, 0x00 }; /* by memtype */
	for (size_t i = 0; i < n; i++) {
		uint64_t pa;
		struct vpte_walk w;
		int err;
		bool mapped = vpte_answer(s, va[i], &pa, &w, &err);
		bool ok = true;
		char said[200] = "";
		for (unsigned k = 0; k < 4 && ok; k++) {
			uint64_t p = par[4 * i + k];
			bool write = k & 1, el0 = k >= 2;
			bool allowed = mapped && (!write || (w.prot.flags & VPTE_W)) &&
				       (!el0 || (w.prot.flags & VPTE_U));
			unsigned fst = (unsigned)(p >> 1) & 0x3c;
			if (!mapped)
				ok = (p & 1) && fst == 0x04;
			else if (!allowed)
				ok = (p & 1) && fst == 0x0c;
			else
				ok = !(p & 1) && (p & 0x0000fffffffff000ull) == (pa & 0x0000fffffffff000ull) &&
				     (p >> 56) == mair[w.prot.memtype & 3];
			if (!ok) {
				char got[80], want[80];
				if (!mapped || !allowed)
					snprintf(want, sizeof(want), "a %s fault",
						 mapped ? "permission" : "translation");
				else
					snprintf(want, sizeof(want), "PA 0x%" PRIx64 " attr 0x%02x",
						 (uint64_t)(pa & 0x0000fffffffff000ull), mair[w.prot.memtype & 3]);
				par_str(p, got, sizeof(got));
				snprintf(said, sizeof(said), "%s: %s, expected %s", at_names[k], got, want);
			}
		}
		if (ok) {
			r->at_agree++;
		} else {
			report(r, s, seed, va[i], "AT", said);
			r->at_disagree++;
		}
	}
}

/*
 * x86-64 loads: 0, or 1 << 63 | vector << 32 | error code.  A page fault's
 * error code (SDM Vol. 3A 4.7): bit 0 P (a protection violation, not a
 * not-present page), bit 1 W/R, bit 2 U/S, bit 3 RSVD (a reserved bit set
 * in some paging-structure entry).
 */
static void load_str(uint64_t v, char *out, size_t n)
{
	if (!v)
		snprintf(out, n, "the load went through");
	else
		snprintf(out, n, "exception %u, error code 0x%x%s", (unsigned)(v >> 32) & 0xff,
			 (unsigned)v, (v >> 32 & 0xff) == 14 && (v & 8) ? " (reserved bit set)" : "");
}

static void compare_loads(struct result *r, const struct space *s, uint64_t seed, const uint64_t *va,
			  size_t n, const uint64_t *res)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t pa, v = res[i];
		struct vpte_walk w;
		int err;
		bool mapped = vpte_answer(s, va[i], &pa, &w, &err);
		unsigned vector = (unsigned)(v >> 32) & 0xff;
		bool ok;
		const char *want;
		if (mapped) {
			ok = v == 0;
			want = "the load to go through";
		} else if (err == -VPTE_EINVAL) {
			ok = (v >> 63) && vector == 13;
			want = "a general-protection fault (non-canonical)";
		} else {
			ok = (v >> 63) && vector == 14 && !(v & 0x9);
			want = "a not-present page fault";
		}
		if (ok) {
			r->at_agree++;
		} else {
			char got[96], said[200];
			load_str(v, got, sizeof(got));
			snprintf(said, sizeof(said), "load: %s, expected %s", got, want);
			report(r, s, seed, va[i], "load", said);
			r->at_disagree++;
		}
	}
}

/* ------------------------------------------------------------------------
 * One boot
 * ------------------------------------------------------------------------ */
static uint64_t arm64_tcr(const struct vpte_format *f)
{
	uint64_t tg0 = f->granule_shift == 12 ? 0 : f->granule_shift == 16 ? 1 : 2;
	return (uint64_t)(64 - f->va_bits) /* T0SZ */
	       | 1ull << 8 | 1ull << 10       /* IRGN0, ORGN0: write-back walks */
	       | 3ull << 12                   /* SH0: inner shareable */
	       | tg0 << 14                    /* TG0: 4K 0b00, 64K 0b01, 16K 0b10 */
	       | 25ull << 16                  /* T1SZ (unused: EPD1) */
	       | 1ull << 23                   /* EPD1: no TTBR1 walks */
	       | 2ull << 30                   /* TG1: 4K */
	       | 5ull << 32;                  /* IPS: 48-bit PA */
}

static void loader_data(char *arg, size_t n, uint64_t addr, uint64_t value)
{
	snprintf(arg, n, "loader,addr=0x%" PRIx64 ",data=0x%" PRIx64 ",data-len=8", addr, value);
}

static int boot(const struct vpte_format *f, uint64_t seed, struct result *r)
{
	const struct arch *a = arch_of(f);
	struct space s;
	struct samples sm = { NULL, 0, 0 };
	struct qemu q = { 0 };
	char dir[200];
	char img[300], stub[1024], dev_img[400], dev_stub[1100], p0[128], p1[128], p2[128], p3[128];
	char probe_in[300], probe_out[300], dev_probe[400];
	uint64_t *probe_va = NULL, *par = NULL;
	size_t nprobe = 0;
	int ret = -1;

	if (build_space(&s, f, seed))
		goto out_space;
	r->ops_agree += s.ops.checks;
	r->ops_disagree += s.ops.failed;
	pick_samples(&s, &sm);
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/vpte-conformance-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		goto out_space;
	}
	snprintf(img, sizeof(img), "%s/tables.img", dir);
	if (vpte_arena_write(&s.arena, img)) {
		fprintf(stderr, "%s: writing %s failed\n", f->name, img);
		goto out_dir;
	}
	snprintf(probe_in, sizeof(probe_in), "%s/probe.in", dir);
	snprintf(probe_out, sizeof(probe_out), "%s/probe.out", dir);
	if (a->probe_pa) {
		/* An even spread of the samples, written as the stub's probe block. */
		nprobe = sm.n < PROBES ? sm.n : PROBES;
		probe_va = xrealloc(NULL, (nprobe + 1) * sizeof(uint64_t));
		probe_va[0] = nprobe;
		for (size_t i = 0; i < nprobe; i++)
			probe_va[i + 1] = sm.va[i * sm.n / nprobe];
		FILE *pf = fopen(probe_in, "wb");
		if (!pf || fwrite(probe_va, sizeof(uint64_t), nprobe + 1, pf) != nprobe + 1 || fclose(pf)) {
			fprintf(stderr, "%s: writing %s failed\n", f->name, probe_in);
			goto out_dir;
		}
		snprintf(dev_probe, sizeof(dev_probe), "loader,file=%s,addr=0x%" PRIx64 ",force-raw=on",
			 probe_in, a->probe_pa);
	}
	snprintf(stub, sizeof(stub), "%s/%s", stub_dir, a->stub);
	if (access(stub, R_OK)) {
		fprintf(stderr, "%s: no stub %s: %s\n", f->name, stub, strerror(errno));
		goto out_dir;
	}
	snprintf(dev_img, sizeof(dev_img), "loader,file=%s,addr=0x%" PRIx64 ",force-raw=on", img,
		 a->arena_pa);
	uint64_t root = s.t.root.addr;

	/* The probe: a leaf whose PA differs from its VA, so that QEMU's answer
	 * shows whether the MMU is on yet. */
	uint64_t mmu_va = 0, mmu_pa = 0;
	bool have_mmu_va = false;
	struct vpte_walk w;
	for (unsigned h = 0; h < s.nhalves && !have_mmu_va; h++)
		vpte_for_each_leaf(&w, &s.t, s.half[h], s.half_size[h]) {
			if ((w.pa.addr & 0xffffffffu) != (w.va.addr & 0xffffffffu)) {
				mmu_va = w.va.addr;
				mmu_pa = w.pa.addr;
				have_mmu_va = true;
				break;
			}
		}

	const char *argv[40];
	unsigned n = 0;
	argv[n++] = a->qemu;
	const char *common[] = { "-nodefaults", "-no-user-config", "-display", "none", "-accel",
				 "tcg", "-m", "512", "-qmp", "stdio", "-device", dev_img };
	for (unsigned i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		argv[n++] = common[i];
	switch (a->kind) {
	case ARCH_X86:
		argv[n++] = "-machine";
		argv[n++] = "pc";
		argv[n++] = "-cpu";
		argv[n++] = "max,phys-bits=52"; /* MAXPHYADDR 52, as docs/formats.md assumes */
		argv[n++] = "-bios";
		argv[n++] = stub;
		loader_data(p0, sizeof(p0), a->params_pa, root);
		loader_data(p1, sizeof(p1), a->params_pa + 8, f->levels == 5 ? 1u << 12 : 0);
		loader_data(p2, sizeof(p2), a->params_pa + 16, a->probe_pa);
		argv[n++] = "-device";
		argv[n++] = p0;
		argv[n++] = "-device";
		argv[n++] = p1;
		argv[n++] = "-device";
		argv[n++] = p2;
		argv[n++] = "-device";
		argv[n++] = dev_probe;
		break;
	case ARCH_ARM64:
		argv[n++] = "-machine";
		argv[n++] = "virt";
		argv[n++] = "-cpu";
		argv[n++] = "max";
		snprintf(dev_stub, sizeof(dev_stub), "loader,file=%s,addr=0x%" PRIx64 ",cpu-num=0,force-raw=on",
			 stub, a->code_pa);
		argv[n++] = "-device";
		argv[n++] = dev_stub;
		loader_data(p0, sizeof(p0), a->params_pa, root);
		loader_data(p1, sizeof(p1), a->params_pa + 8, arm64_tcr(f));
		loader_data(p2, sizeof(p2), a->params_pa + 16, 0x444ffu);
		argv[n++] = "-device";
		argv[n++] = p0;
		argv[n++] = "-device";
		argv[n++] = p1;
		argv[n++] = "-device";
		argv[n++] = p2;
		loader_data(p3, sizeof(p3), a->params_pa + 24, a->probe_pa);
		argv[n++] = "-device";
		argv[n++] = p3;
		argv[n++] = "-device";
		argv[n++] = dev_probe;
		break;
	case ARCH_RISCV:
		argv[n++] = "-machine";
		argv[n++] = "virt";
		argv[n++] = "-cpu";
		argv[n++] = "rv64,svnapot=on,svpbmt=on";
		argv[n++] = "-bios";
		argv[n++] = "none";
		snprintf(dev_stub, sizeof(dev_stub), "loader,file=%s,addr=0x%" PRIx64 ",force-raw=on", stub,
			 a->code_pa);
		argv[n++] = "-device";
		argv[n++] = dev_stub;
		loader_data(p0, sizeof(p0), a->params_pa, (uint64_t)(f->levels + 5u) << 60 | root >> 12);
		argv[n++] = "-device";
		argv[n++] = p0;
		break;
	}
	argv[n] = NULL;
	if (verbose || keep) {
		fprintf(stderr, "%s seed 0x%" PRIx64 ": %" PRIu64 " maps (%" PRIu64 " refused), %" PRIu64
			" holes punched, %" PRIu64 " leaves copied from %s, %" PRIu64 " copy-on-write copies (%"
			PRIu64 " refused), %" PRIu64 " protects (%" PRIu64 " refused), %" PRIu64 " splits, %"
			PRIu64 " collapses making %" PRIu64 " leaves, %" PRIu64 " table bytes, %zu addresses;"
			" probe 0x%" PRIx64 "\n ",
			f->name, seed, s.maps, s.maps_refused, s.unmaps, s.ops.copied_leaves,
			s.copied_from ? s.copied_from->name : "nothing", s.ops.cow_copies, s.ops.cow_refused,
			s.ops.protects, s.ops.protects_refused, s.ops.splits, s.ops.collapses, s.ops.collapsed,
			s.arena.used, sm.n, mmu_va);
		for (unsigned i = 0; i < n; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, "\n");
	}
	if (!have_mmu_va) {
		fprintf(stderr, "%s: no leaf to probe the MMU with\n", f->name);
		goto out_dir;
	}

	if (qemu_start(&q, (char *const *)argv, dir)) {
		perror("starting qemu");
		goto out_dir;
	}
	/* Greeting, capabilities. */
	long long deadline = now_ms() + BOOT_TIMEOUT_MS;
	const char *caps = "{\"execute\": \"qmp_capabilities\", \"id\": -2}\n";
	size_t caps_len = strlen(caps);
	bool ready = false;
	for (char *line; !ready && (line = qemu_line(&q, &caps, &caps_len, deadline));) {
		ready = json_id(line) == -2 && strstr(line, "\"return\"");
		free(line);
	}
	if (!ready) {
		printf("  %s: QEMU did not answer on QMP (%s)\n", f->name, a->qemu);
		qemu_print_log(&q);
		goto out_qemu;
	}
	/* Wait until the stub has the MMU on: the probe translates. */
	char cmd[64], want[64];
	snprintf(cmd, sizeof(cmd), "gva2gpa 0x%" PRIx64, mmu_va);
	snprintf(want, sizeof(want), "gpa: 0x%" PRIx64, mmu_pa);
	ready = false;
	while (!ready && now_ms() < deadline) {
		char *ans = qmp_hmp(&q, cmd, deadline);
		if (!ans)
			break;
		ready = !strncmp(ans, want, strlen(want)) && (ans[strlen(want)] == '\r' || ans[strlen(want)] == '\n');
		free(ans);
		if (!ready) {
			struct timespec ts = { 0, 20 * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	if (!ready) {
		printf("  %s: the stub never turned the MMU on (probe 0x%" PRIx64 " never gave 0x%" PRIx64
		       "); reproduce: test_conformance --format %s --seed 0x%" PRIx64 " --boots 1 --keep\n",
		       f->name, mmu_va, mmu_pa, f->name, seed);
		char *regs = qmp_hmp(&q, "info registers", now_ms() + 2000);
		if (regs)
			printf("%s", regs);
		free(regs);
		qemu_print_log(&q);
		goto out_qemu;
	}

	if (verbose)
		fprintf(stderr, "  MMU on after %lld ms\n", now_ms() - deadline + BOOT_TIMEOUT_MS);
	if (nprobe) {
		/* Wait for the stub's "probed", then save its results. */
		char xp[64], *said = NULL;
		bool done = false;
		snprintf(xp, sizeof(xp), "xp /1gx 0x%" PRIx64, a->probe_pa);
		while (!done && now_ms() < deadline) {
			free(said);
			said = qmp_hmp(&q, xp, deadline);
			const char *colon = said ? strchr(said, ':') : NULL;
			done = colon && strtoull(colon + 1, NULL, 16) == PROBE_DONE;
			if (!done) {
				struct timespec ts = { 0, 20 * 1000000 };
				nanosleep(&ts, NULL);
			}
		}
		free(said);
		char save[512];
		snprintf(save, sizeof(save),
			 "{\"execute\": \"pmemsave\", \"arguments\": {\"val\": %" PRIu64
			 ", \"size\": %zu, \"filename\": \"%s\"}, \"id\": 0}\n",
			 a->probe_pa + 8 + nprobe * 8, nprobe * 8 * a->probe_words, probe_out);
		said = done ? qmp_exec(&q, save, deadline) : NULL;
		FILE *pf = said ? fopen(probe_out, "rb") : NULL;
		par = xrealloc(NULL, nprobe * 8 * a->probe_words);
		if (!pf || fread(par, 8 * a->probe_words, nprobe, pf) != nprobe) {
			printf("  %s: the stub's probes never finished (%s): it could not run "
			       "or reach its probe block through vpte's tables; reproduce: "
			       "test_conformance --format %s --seed 0x%" PRIx64 " --boots 1 --keep\n",
			       f->name, done ? "no results" : "no \"probed\"", f->name, seed);
			char *regs = qmp_hmp(&q, "info registers", now_ms() + 2000);
			if (regs)
				printf("%.*s\n", (int)strcspn(regs + strspn(regs, "\r\n"), "\r\n"), regs + strspn(regs, "\r\n"));
			free(regs);
			if (said)
				printf("  %s: %s: %s\n", f->name, save, said);
			free(said);
			if (pf)
				fclose(pf);
			qemu_print_log(&q);
			goto out_qemu;
		}
		fclose(pf);
		free(said);
		if (a->kind == ARCH_ARM64)
			compare_at(r, &s, seed, probe_va + 1, nprobe, par);
		else
			compare_loads(r, &s, seed, probe_va + 1, nprobe, par);
	}
	long long asked = now_ms();
	/* All the questions at once, answered in order. */
	size_t cap = sm.n * 112 + 1, len = 0;
	char *batch = xrealloc(NULL, cap);
	for (size_t i = 0; i < sm.n; i++)
		len += (size_t)snprintf(batch + len, cap - len,
					"{\"execute\": \"human-monitor-command\", \"arguments\": "
					"{\"command-line\": \"gva2gpa 0x%" PRIx64 "\"}, \"id\": %zu}\n",
					sm.va[i], i + 1);
	char **answers = calloc(sm.n, sizeof(char *));
	const char *outp = batch;
	size_t got = 0;
	deadline = now_ms() + IO_TIMEOUT_MS;
	while (got < sm.n) {
		char *line = qemu_line(&q, &outp, &len, deadline);
		if (!line)
			break;
		long id = json_id(line);
		if (id >= 1 && (size_t)id <= sm.n && !answers[id - 1]) {
			answers[id - 1] = json_string(line, "return");
			if (!answers[id - 1])
				answers[id - 1] = json_string(line, "desc");
			if (!answers[id - 1])
				answers[id - 1] = calloc(1, 1);
			got++;
		}
		free(line);
	}
	free(batch);
	if (got < sm.n) {
		printf("  %s: QEMU answered %zu of %zu questions\n", f->name, got, sm.n);
		qemu_print_log(&q);
		for (size_t i = 0; i < sm.n; i++)
			free(answers[i]);
		free(answers);
		goto out_qemu;
	}

	for (size_t i = 0; i < sm.n; i++) {
		uint64_t va = sm.va[i], pa = 0, qpa = 0;
		struct vpte_walk vw;
		int err;
		bool mapped = vpte_answer(&s, va, &pa, &vw, &err);
		const char *ans = answers[i];
		bool qmapped = !strncmp(ans, "gpa: ", 5);
		bool qunmapped = !strncmp(ans, "Unmapped", 8);
		if (qmapped)
			qpa = strtoull(ans + 5, NULL, 16);
		bool ok = err != -VPTE_EFAULT &&
			  ((mapped && qmapped && pa == qpa) || (!mapped && qunmapped));
		if (ok) {
			r->agree++;
		} else {
			char said[128];
			snprintf(said, sizeof(said), "%.*s", (int)strcspn(ans, "\r\n"), ans);
			report(r, &s, seed, va, "gva2gpa", said);
			r->disagree++;
		}
		free(answers[i]);
	}
	free(answers);
	if (verbose)
		fprintf(stderr, "  %zu answers in %lld ms\n", sm.n, now_ms() - asked);

	if (a->info) {
		char *text = qmp_hmp(&q, a->info, now_ms() + IO_TIMEOUT_MS);
		if (!text) {
			printf("  %s: no answer to %s\n", f->name, a->info);
			goto out_qemu;
		}
		if (a->kind == ARCH_X86)
			compare_info_tlb(r, &s, seed, text);
		else
			compare_info_mem(r, &s, seed, text, &sm);
		free(text);
	}
	ret = 0;

out_qemu:
	qemu_stop(&q);
out_dir:
	if (keep) {
		fprintf(stderr, "  kept %s (tables.img at 0x%" PRIx64 ", root 0x%" PRIx64 ")\n", dir,
			a->arena_pa, s.t.root.addr);
	} else {
		unlink(img);
		unlink(probe_in);
		unlink(probe_out);
		char log[300];
		snprintf(log, sizeof(log), "%s/qemu.log", dir);
		unlink(log);
		rmdir(dir);
	}
out_space:
	free(sm.va);
	free(probe_va);
	free(par);
	free_space(&s);
	if (ret)
		r->errors++;
	return ret;
}

/* ------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------ */
static void usage(void)
{
	fprintf(stderr, "usage: test_conformance [--seed N] [--format NAME] [--boots N] "
			"[--stubs DIR] [--keep] [--verbose]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = DEFAULT_SEED;
	unsigned boots = DEFAULT_BOOTS;
	const char *only = NULL;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--format") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--boots") && i + 1 < argc)
			boots = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--stubs") && i + 1 < argc)
			stub_dir = argv[++i];
		else if (!strcmp(argv[i], "--keep"))
			keep = true;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else
			usage();
	}
	if (only && !vpte_format_by_name(only)) {
		fprintf(stderr, "test_conformance: unknown format %s\n", only);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	uint64_t agree = 0, disagree = 0;
	unsigned checked = 0, failed = 0, unmodelled = 0;
	long long start = now_ms();
	for (size_t i = 0; i < count; i++) {
		const struct vpte_format *f = formats[i];
		if (only && strcmp(only, f->name))
			continue;
		const char *why = not_modelled(f);
		if (why) {
			printf("conformance %s: NOT MODELLED by QEMU 7.2: %s\n", f->name, why);
			unmodelled++;
			continue;
		}
		struct result r = { 0 };
		for (unsigned b = 0; b < boots; b++) {
			r.reports = 0;
			boot(f, seed + b, &r);
		}
		checked++;
		printf("conformance %s: %" PRIu64 " addresses agree, %" PRIu64 " disagree", f->name,
		       r.agree, r.disagree);
		if (arch_of(f)->info)
			printf(" (%s: %" PRIu64 " %s agree, %" PRIu64 " disagree)", arch_of(f)->info,
			       r.info_agree, arch_of(f)->kind == ARCH_X86 ? "leaves" : "addresses",
			       r.info_disagree);
		if (arch_of(f)->probe_pa)
			printf(" (%s: %" PRIu64 " addresses agree, %" PRIu64 " disagree)", arch_of(f)->probe,
			       r.at_agree, r.at_disagree);
		printf(" (operations: %" PRIu64 " results as asked, %" PRIu64 " not)", r.ops_agree,
		       r.ops_disagree);
		if (r.errors)
			printf("; %u of %u boots FAILED to compare", r.errors, boots);
		printf("\n");
		agree += r.agree;
		disagree += r.disagree + r.info_disagree + r.at_disagree + r.ops_disagree;
		if (r.disagree || r.info_disagree || r.at_disagree || r.ops_disagree || r.errors)
			failed++;
	}
	double secs = (double)(now_ms() - start) / 1000.0;
	if (failed || !checked)
		printf("conformance: FAILED: %u of %u formats disagree with QEMU or did not boot "
		       "(seed 0x%" PRIx64 ", %u boots each, %.1f s)\n",
		       failed, checked, seed, boots, secs);
	else
		printf("conformance: PASSED: %u formats, %" PRIu64 " addresses agree with QEMU's MMU"
		       "%s (seed 0x%" PRIx64 ", %u boots each, %.1f s)\n",
		       checked, agree, unmodelled ? "; some formats not modelled, named above" : "", seed,
		       boots, secs);
	(void)disagree;
	return failed || !checked ? 1 : 0;
}
