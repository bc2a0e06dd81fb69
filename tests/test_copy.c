/* SPDX-License-Identifier: MIT */
/*
 * test_copy.c - vpte_copy in every format and between every pair of formats.
 *
 *   same format   a layout with every leaf and run size, ragged edges,
 *                 punched holes and assorted attributes copies to the same
 *                 leaves, entry for entry, and the same number of tables;
 *   every pair    a layout copies to the leaves the largest-leaf rule gives
 *                 for each source leaf in the destination's format (or is
 *                 refused when the destination's granule is larger than a
 *                 source leaf); named cases: x86-64 1G to arm64-16k (a 1G
 *                 run of 32 x 32M), an arm64 64K run to x86-64 (16 x 4K), a
 *                 RISC-V 512G leaf to x86-64 (512 x 1G), arm64-64k to
 *                 RISC-V, x86-64 to arm64-4k;
 *   clipping      a range that cuts leaves copies their parts inside;
 *   attributes    accessed and dirty are copied; a run's are any member's;
 *   rows          a leaf table whose row of alike pages breaks in every
 *                 way (holes, accessed, dirty, attributes, PA) copies entry
 *                 for entry, whole, in part, to another format, with COW;
 *   uniform       a leaf table of pages alike but for PAs that do not step
 *                 (each page somewhere of its own), after 0-3 holes,
 *                 copies entry for entry, whole and from each start 0-3
 *                 entries in to each end 0-3 entries short; with one page
 *                 at a PA beyond arm64's, a copy to arm64 is refused and
 *                 changes nothing, and so does a copy with one corrupt
 *                 entry at each place of the table's first and last 64;
 *   write-protect W goes on both sides, the gather covers the source
 *                 leaves that lost it, a leaf the range cuts is refused;
 *   errors        EEXIST, EINVAL, ERANGE, EROFS, EFAULT, with both tables
 *                 unchanged, and a copy allocates exactly the tables it
 *                 keeps.
 */
#include <stdbool.h>

#include "testlib.h"

/* ------------------------------------------------------------------------
 * Leaves of a table, and the largest-leaf rule
 * ------------------------------------------------------------------------ */
struct leaves {
	long n;
	struct test_leaf *v;
};

/* The leaves meeting [va, va + size), into @l (freeing what it held). */
static void leaves_of(struct leaves *l, const struct vpte_table *t, uint64_t va, uint64_t size)
{
	long n = test_leaves(t, va, size, NULL, 0);
	CHECK(n >= 0);
	free(l->v);
	l->v = calloc((size_t)(n > 0 ? n : 0) + 1, sizeof(*l->v));
	l->n = test_leaves(t, va, size, l->v, n);
}

static bool prot_equal(struct vpte_prot a, struct vpte_prot b)
{
	return a.flags == b.flags && a.memtype == b.memtype && a.raw == b.raw;
}

/* The largest leaf or run of @f no larger than 2^max_shift that fits at
 * (va, pa) with @left bytes to go: what vpte_map chooses. */
static unsigned best_shift(const struct vpte_format *f, uint64_t va, uint64_t pa, uint64_t left,
			   unsigned max_shift)
{
	unsigned shifts[2 * VPTE_MAX_LEVELS];
	unsigned n = test_piece_shifts(f, shifts);
	for (unsigned i = n; i-- > 1;) {
		unsigned s = shifts[i];
		if (s <= max_shift && !((va | pa) & ((1ull << s) - 1)) && left >= (1ull << s))
			return s;
	}
	return f->granule_shift;
}

/*
 * check_copied - the leaves of @dst in [va, va + size) are those that
 * copying the source leaves @src (already clipped to the range) gives:
 * each source leaf cut into @dst's largest leaves no larger than itself,
 * same VA, PA and attributes (W cleared if @wrprotect).
 */
static void check_copied(const struct vpte_table *dst, const struct leaves *src, uint64_t va,
			 uint64_t size, bool wrprotect, const char *what)
{
	struct leaves got = { 0, NULL };
	long j = 0;
	leaves_of(&got, dst, va, size);
	for (long i = 0; i < src->n; i++) {
		const struct test_leaf *s = &src->v[i];
		uint64_t lo = s->va > va ? s->va : va;
		uint64_t hi = s->va + ((1ull << s->shift) - 1) < va + (size - 1)
				      ? s->va + ((1ull << s->shift) - 1)
				      : va + (size - 1);
		struct vpte_prot prot = s->prot;
		if (wrprotect)
			prot.flags &= ~VPTE_W;
		for (uint64_t pos = lo; pos - 1 != hi; j++) {
			uint64_t pa = s->pa + (pos - s->va);
			unsigned want = best_shift(dst->fmt, pos, pa, hi - pos + 1, s->shift);
			const struct test_leaf *d = j < got.n ? &got.v[j] : NULL;
			if (!d || d->va != pos || d->pa != pa || d->shift != want ||
			    !prot_equal(d->prot, prot)) {
				fprintf(stderr,
					"%s: at va 0x%" PRIx64 " want pa 0x%" PRIx64 " shift %u flags 0x%x, got ",
					what, pos, pa, want, prot.flags);
				if (d)
					fprintf(stderr, "va 0x%" PRIx64 " pa 0x%" PRIx64 " shift %u flags 0x%x\n",
						d->va, d->pa, d->shift, d->prot.flags);
				else
					fprintf(stderr, "nothing\n");
				test_failures++;
				free(got.v);
				return;
			}
			pos += 1ull << want;
		}
	}
	if (j != got.n) {
		fprintf(stderr, "%s: %s has %ld leaves more than the copy should\n", what,
			dst->fmt->name, got.n - j);
		test_failures++;
	}
	free(got.v);
}

/* The leaves of @dst in [va, va + size) are those of @src, entry for
 * entry (a copy into the same format). */
static void check_same_leaves(const struct vpte_table *src, const struct vpte_table *dst,
			      uint64_t va, uint64_t size, const char *what)
{
	struct leaves a = { 0, NULL }, b = { 0, NULL };
	leaves_of(&a, src, va, size);
	leaves_of(&b, dst, va, size);
	CHECK_EQ(a.n, b.n);
	for (long i = 0; i < a.n && i < b.n; i++)
		if (a.v[i].va != b.v[i].va || a.v[i].shift != b.v[i].shift || a.v[i].pa != b.v[i].pa ||
		    a.v[i].cont != b.v[i].cont || a.v[i].entry != b.v[i].entry ||
		    !prot_equal(a.v[i].prot, b.v[i].prot)) {
			fprintf(stderr, "%s: leaf %ld at va 0x%" PRIx64 " differs in the copy\n", what, i,
				a.v[i].va);
			test_failures++;
			break;
		}
	free(a.v);
	free(b.v);
}

/* ------------------------------------------------------------------------
 * Layouts
 * ------------------------------------------------------------------------ */
static struct vpte_prot prot_of(uint32_t flags, uint32_t memtype, uint64_t raw)
{
	struct vpte_prot p = { flags, memtype, raw };
	return p;
}

/*
 * A layout with a region per leaf and run size 2^s of @f below 2^@below:
 * [8u - 3g, 10u + 5g) for u = 2^s (so regions of distinct sizes do not
 * meet), with ragged ends, a granule punched out of its first piece, and
 * attributes that vary (dirty, special, memory types, raw bits if @raw),
 * at a PA congruent to the VA modulo 2^(s + 4).
 */
static void build_layout(struct vpte_table *t, unsigned below, bool raw)
{
	const struct vpte_format *f = t->fmt;
	unsigned shifts[2 * VPTE_MAX_LEVELS];
	unsigned n = test_piece_shifts(f, shifts);
	uint64_t g = 1ull << f->granule_shift;
	static const uint32_t flags[] = {
		VPTE_R | VPTE_W,
		VPTE_R | VPTE_X | VPTE_U,
		VPTE_R | VPTE_W | VPTE_G | VPTE_D,
		VPTE_R | VPTE_W | VPTE_U | VPTE_SPECIAL | VPTE_D,
	};
	for (unsigned i = 0; i < n && shifts[i] + 4 < below; i++) {
		uint64_t u = 1ull << shifts[i], va = 8 * u - 3 * g, size = 2 * u + 8 * g;
		uint64_t pa = va + (1ull << (shifts[i] + 4));
		uint64_t bits = raw ? f->raw_mask & (0x5555555555555555ull << (i % 2)) : 0;
		struct vpte_prot p = prot_of(flags[i % 4], i % 3, bits);
		CHECK_EQ(vpte_map(t, vpte_va(va), vpte_pa(pa), size, p, NULL), 0);
		CHECK_EQ(vpte_unmap(t, vpte_va(8 * u + 5 * g), g, NULL), 0);
	}
	/* Pages at the start of a sign-extended format's upper half. */
	if (f->sign_extend) {
		uint64_t top = ~0ull - ((1ull << (f->va_bits - 1)) - 1);
		CHECK_EQ(vpte_map(t, vpte_va(top), vpte_pa(1ull << 32), 16 * g,
				  prot_of(VPTE_R | VPTE_G, VPTE_MT_WB, 0), NULL),
			 0);
	}
}

/* Same format: the copy has the same leaves, entry for entry, and as many
 * table pages. */
static void same_format(const struct vpte_format *f)
{
	struct test_mem ms, md;
	struct vpte_table src, dst;
	struct vpte_stats sa, sb;
	vpte_va_t start[2];
	uint64_t size[2];

	test_table_new(&src, &ms, f);
	test_table_new(&dst, &md, f);
	build_layout(&src, f->va_bits - (f->sign_extend ? 1 : 0), true);
	for (unsigned h = 0; h < vpte_va_space(f, start, size); h++) {
		CHECK_EQ(vpte_copy(&dst, &src, start[h], size[h], NULL), 0);
		check_same_leaves(&src, &dst, start[h].addr, size[h], f->name);
	}
	CHECK_EQ(vpte_stats_table(&src, &sa), 0);
	CHECK_EQ(vpte_stats_table(&dst, &sb), 0);
	for (unsigned l = 0; l < VPTE_MAX_LEVELS; l++)
		CHECK_EQ(sa.table_pages[l], sb.table_pages[l]);
	/* A map allocates exactly the tables it keeps; so does a copy. */
	CHECK_EQ(md.allocs, md.live);
	test_table_done(&src, &ms);
	test_table_done(&dst, &md);
}

/* Every pair: a layout below 2^38 (valid in every format) without raw bits. */
static void format_pair(const struct vpte_format *from, const struct vpte_format *to)
{
	struct test_mem ms, md;
	struct vpte_table src, dst;
	struct leaves l = { 0, NULL };
	char what[64];
	uint64_t size = 1ull << 38;

	snprintf(what, sizeof(what), "pair %s -> %s", from->name, to->name);
	test_table_new(&src, &ms, from);
	test_table_new(&dst, &md, to);
	build_layout(&src, 38, false);
	leaves_of(&l, &src, 0, size);
	bool small = false; /* a source leaf smaller than a destination page */
	for (long i = 0; i < l.n; i++)
		small |= l.v[i].shift < to->granule_shift;
	int err = vpte_copy(&dst, &src, vpte_va(0), size, NULL);
	if (small) {
		CHECK_EQ(err, -VPTE_EINVAL);
		CHECK_EQ(md.live, 1);
	} else {
		CHECK_EQ(err, 0);
		check_copied(&dst, &l, 0, size, false, what);
		CHECK_EQ(md.allocs, md.live);
	}
	test_table_done(&src, &ms);
	test_table_done(&dst, &md);
	free(l.v);
}

/* ------------------------------------------------------------------------
 * Named cases
 * ------------------------------------------------------------------------ */
/* Map [va, va + size) -> pa in a fresh @from table, copy [cva, cva + csize)
 * into a fresh @to table, and check the destination's leaves: @count
 * leaves of shift @shift (contiguous runs if @cont) from cva. */
static void named(const char *what, const struct vpte_format *from, const struct vpte_format *to,
		  uint64_t va, uint64_t pa, uint64_t size, struct vpte_map_opts *opts, uint64_t cva,
		  uint64_t csize, unsigned count, unsigned shift, bool cont)
{
	struct test_mem ms, md;
	struct vpte_table src, dst;
	struct leaves l = { 0, NULL };
	struct vpte_prot rw = prot_of(VPTE_R | VPTE_W, VPTE_MT_WB, 0);

	test_table_new(&src, &ms, from);
	test_table_new(&dst, &md, to);
	CHECK_EQ(vpte_map(&src, vpte_va(va), vpte_pa(pa), size, rw, opts), 0);
	CHECK_EQ(vpte_copy(&dst, &src, vpte_va(cva), csize, NULL), 0);
	leaves_of(&l, &dst, cva, csize);
	if (l.n != (long)count) {
		fprintf(stderr, "%s: %ld leaves, want %u\n", what, l.n, count);
		test_failures++;
	}
	for (long i = 0; i < l.n; i++)
		if (l.v[i].shift != shift || l.v[i].cont != cont ||
		    l.v[i].va != cva + ((uint64_t)i << shift) ||
		    l.v[i].pa != pa + (cva - va) + ((uint64_t)i << shift) ||
		    l.v[i].prot.flags != (VPTE_R | VPTE_W | VPTE_A)) {
			fprintf(stderr, "%s: leaf %ld: va 0x%" PRIx64 " pa 0x%" PRIx64 " shift %u cont %d\n",
				what, i, l.v[i].va, l.v[i].pa, l.v[i].shift, l.v[i].cont);
			test_failures++;
			break;
		}
	test_table_done(&src, &ms);
	test_table_done(&dst, &md);
	free(l.v);
}

static void named_cases(void)
{
	const uint64_t K = 1ull << 10, M = 1ull << 20, G = 1ull << 30;
	struct vpte_map_opts max16 = { 16, 0 };
	named("x86-64 1G leaf to arm64-16k", &vpte_format_x86_64, &vpte_format_arm64_16k_48, G,
	      4 * G, G, NULL, G, G, 1, 30, true);
	named("arm64-4k 64K run to x86-64", &vpte_format_arm64_4k_48, &vpte_format_x86_64, 64 * K,
	      0x80010000, 64 * K, NULL, 64 * K, 64 * K, 16, 12, false);
	named("RISC-V 512G leaf to x86-64", &vpte_format_riscv_sv48, &vpte_format_x86_64, 512 * G,
	      512 * G, 512 * G, NULL, 512 * G, 512 * G, 512, 30, false);
	named("arm64-64k 2M run to RISC-V", &vpte_format_arm64_64k_48, &vpte_format_riscv_sv48,
	      2 * M, 6 * M, 2 * M, NULL, 2 * M, 2 * M, 1, 21, false);
	named("arm64-64k 512M leaf to RISC-V", &vpte_format_arm64_64k_48, &vpte_format_riscv_sv48,
	      512 * M, 512 * M, 512 * M, NULL, 512 * M, 512 * M, 256, 21, false);
	named("arm64-64k page to RISC-V: a Svnapot run", &vpte_format_arm64_64k_48,
	      &vpte_format_riscv_sv48, 64 * K, 128 * K, 64 * K, NULL, 64 * K, 64 * K, 1, 16, true);
	named("x86-64 2M leaf to arm64-4k", &vpte_format_x86_64, &vpte_format_arm64_4k_48, 2 * M,
	      4 * M, 2 * M, NULL, 2 * M, 2 * M, 1, 21, false);
	named("x86-64 2M leaf to arm64-64k: a 32 x 64K run", &vpte_format_x86_64,
	      &vpte_format_arm64_64k_42, 2 * M, 4 * M, 2 * M, NULL, 2 * M, 2 * M, 1, 21, true);
	named("arm64-4k 16G run to x86-64", &vpte_format_arm64_4k_48, &vpte_format_x86_64, 16 * G,
	      32 * G, 16 * G, NULL, 16 * G, 16 * G, 16, 30, false);
	named("RISC-V 64K run to arm64-16k", &vpte_format_riscv_sv39, &vpte_format_arm64_16k_47,
	      64 * K, 64 * K, 64 * K, NULL, 64 * K, 64 * K, 4, 14, false);
	/* x86-64 pages stay pages, even sixteen aligned ones: a copy never
	 * merges source leaves. */
	named("x86-64 4K pages to arm64-4k", &vpte_format_x86_64, &vpte_format_arm64_4k_48, 64 * K,
	      64 * K, 64 * K, &max16, 64 * K, 64 * K, 16, 12, false);
	/* Clipping: the middle of a 2M leaf, into runs and pages. */
	named("x86-64 part of a 2M leaf to arm64-4k", &vpte_format_x86_64, &vpte_format_arm64_4k_48,
	      2 * M, 4 * M, 2 * M, NULL, 2 * M + 64 * K, 128 * K, 2, 16, true);
	named("x86-64 part of a 2M leaf, same format", &vpte_format_x86_64, &vpte_format_x86_64,
	      2 * M, 4 * M, 2 * M, NULL, 2 * M + 12 * K, 8 * K, 2, 12, false);
}

/* ------------------------------------------------------------------------
 * Attributes: accessed and dirty as they are; a run's from any member
 * ------------------------------------------------------------------------ */
static void attributes(const struct vpte_format *f)
{
	struct test_mem ms, md;
	struct vpte_table src, dst;
	struct vpte_walk w;
	uint64_t g = 1ull << f->granule_shift;
	struct vpte_prot clean = prot_of(VPTE_R | VPTE_W, VPTE_MT_WB, 0);
	struct vpte_prot dirty = prot_of(VPTE_R | VPTE_W | VPTE_D, VPTE_MT_WB, 0);

	test_table_new(&src, &ms, f);
	test_table_new(&dst, &md, f);
	uint64_t a_bits, d_bits;
	test_flag_bits(&src, 1ull << 32, &a_bits, &d_bits);
	struct vpte_harvest_opts age = { VPTE_A, 0, VPTE_HARVEST_CLEAR, NULL };
	/* One dirty page, one clean page not accessed (vpte_map sets accessed:
	 * harvesting clears it). */
	CHECK_EQ(vpte_map(&src, vpte_va(1ull << 30), vpte_pa(0), g, dirty, NULL), 0);
	CHECK_EQ(vpte_map(&src, vpte_va((1ull << 30) + 2 * g), vpte_pa(2 * g), g, clean, NULL), 0);
	CHECK_EQ(vpte_harvest(&src, vpte_va((1ull << 30) + 2 * g), g, NULL, &age), 0);
	CHECK_EQ(vpte_copy(&dst, &src, vpte_va(1ull << 30), 4 * g, NULL), 0);
	CHECK_EQ(vpte_seek(&w, &dst, vpte_va(1ull << 30)), 0);
	CHECK_EQ(w.prot.flags, VPTE_R | VPTE_W | VPTE_A | VPTE_D);
	CHECK_EQ(vpte_seek(&w, &dst, vpte_va((1ull << 30) + 2 * g)), 0);
	CHECK_EQ(w.prot.flags, VPTE_R | VPTE_W);

	/* A run with one dirty member and one member not accessed: the copy's
	 * run is dirty and accessed in every member. */
	if (f->cont_bits[0]) {
		uint64_t run = g << f->cont_bits[0], va = 1ull << 33;
		CHECK_EQ(vpte_map(&src, vpte_va(va), vpte_pa(va), run, clean, NULL), 0);
		CHECK_EQ(vpte_harvest(&src, vpte_va(va), run, NULL, &age), 0);
		/* the hardware sets accessed and dirty through one member */
		*test_entry_at(&src, va + 3 * g) |= a_bits | d_bits;
		CHECK_EQ(vpte_copy(&dst, &src, vpte_va(va), run, NULL), 0);
		for (uint64_t off = 0; off < run; off += g) {
			CHECK_EQ(vpte_seek(&w, &dst, vpte_va(va + off)), 0);
			CHECK_EQ(w.shift, f->granule_shift + f->cont_bits[0]);
			CHECK_EQ(w.prot.flags, VPTE_R | VPTE_W | VPTE_A | VPTE_D);
		}
		/* Into x86-64, which has no runs: every page dirty. */
		struct test_mem mx;
		struct vpte_table x86;
		test_table_new(&x86, &mx, &vpte_format_x86_64);
		if (f->granule_shift == 12) {
			CHECK_EQ(vpte_copy(&x86, &src, vpte_va(va), run, NULL), 0);
			for (uint64_t off = 0; off < run; off += g) {
				CHECK_EQ(vpte_seek(&w, &x86, vpte_va(va + off)), 0);
				CHECK_EQ(w.prot.flags, VPTE_R | VPTE_W | VPTE_A | VPTE_D);
			}
		}
		test_table_done(&x86, &mx);
	}
	test_table_done(&src, &ms);
	test_table_done(&dst, &md);
}

/* ------------------------------------------------------------------------
 * Rows: a leaf table of alike pages is copied a row at a time
 * ------------------------------------------------------------------------ */
/*
 * A leaf table of pages whose row of alike leaves (each the previous one
 * stepped by PA) breaks in every way: a hole, a page not accessed, a page
 * the "hardware" made dirty, a read-only page, a PA jump, pages at the top
 * of the PA space (the row's PA field would carry) and a hole at the end.
 * It copies entry for entry into a table written whole, into a table
 * already there (one of its pages mapped in the destination before) from
 * mid-row, into another format, and write-protecting.
 */
static void rows(const struct vpte_format *f)
{
	struct test_mem ms, md, mx;
	struct vpte_table src, dst, other;
	struct leaves l = { 0, NULL };
	const struct vpte_format *to =
		f == &vpte_format_x86_64 ? &vpte_format_arm64_4k_48 : &vpte_format_x86_64;
	uint64_t g = 1ull << f->granule_shift, span = 1ull << vpte_level_shift(f, 1);
	uint64_t base = 2 * span, top = (1ull << f->pa_bits) - 8 * g, a_bits, d_bits;
	struct vpte_prot rw = prot_of(VPTE_R | VPTE_W, VPTE_MT_WB, 0);
	struct vpte_prot none = prot_of(0, 0, 0), w = prot_of(VPTE_W, 0, 0);
	struct vpte_map_opts pages = { f->granule_shift, 0 };
	struct vpte_harvest_opts age = { VPTE_A, 0, VPTE_HARVEST_CLEAR, NULL };
	struct vpte_copy_opts cow = { VPTE_COPY_WRPROTECT, NULL };

	test_table_new(&src, &ms, f);
	test_flag_bits(&src, 1ull << 32, &a_bits, &d_bits);
	CHECK_EQ(vpte_map(&src, vpte_va(base), vpte_pa(base), span, rw, &pages), 0);
	CHECK_EQ(vpte_unmap(&src, vpte_va(base + 5 * g), g, NULL), 0);
	CHECK_EQ(vpte_harvest(&src, vpte_va(base + 9 * g), g, NULL, &age), 0);
	*test_entry_at(&src, base + 11 * g) |= d_bits;
	CHECK_EQ(vpte_protect(&src, vpte_va(base + 13 * g), g, none, w, NULL), 0);
	CHECK_EQ(vpte_unmap(&src, vpte_va(base + 20 * g), 4 * g, NULL), 0);
	CHECK_EQ(vpte_map(&src, vpte_va(base + 20 * g), vpte_pa(8 * span), 4 * g, rw, &pages), 0);
	CHECK_EQ(vpte_unmap(&src, vpte_va(base + span - 9 * g), 9 * g, NULL), 0);
	CHECK_EQ(vpte_map(&src, vpte_va(base + span - 9 * g), vpte_pa(top), 8 * g, rw, &pages), 0);

	test_table_new(&dst, &md, f);
	CHECK_EQ(vpte_copy(&dst, &src, vpte_va(base), span, NULL), 0);
	check_same_leaves(&src, &dst, base, span, "rows, a table written whole");
	CHECK_EQ(md.allocs, md.live);
	test_table_done(&dst, &md);

	test_table_new(&dst, &md, f);
	CHECK_EQ(vpte_map(&dst, vpte_va(base + span - g), vpte_pa(0), g, rw, &pages), 0);
	CHECK_EQ(vpte_copy(&dst, &src, vpte_va(base + 3 * g), span - 4 * g, NULL), 0);
	check_same_leaves(&src, &dst, base + 3 * g, span - 4 * g, "rows, a table already there");
	test_table_done(&dst, &md);

	/* The PA at the top is beyond arm64's: the other format takes the
	 * rest. */
	test_table_new(&other, &mx, to);
	leaves_of(&l, &src, base, span - 9 * g);
	CHECK_EQ(vpte_copy(&other, &src, vpte_va(base), span - 9 * g, NULL), 0);
	check_copied(&other, &l, base, span - 9 * g, false, "rows, another format");
	CHECK_EQ(mx.allocs, mx.live);
	test_table_done(&other, &mx);

	test_table_new(&dst, &md, f);
	CHECK_EQ(vpte_copy(&dst, &src, vpte_va(base), span, &cow), 0);
	leaves_of(&l, &src, base, span);
	for (long i = 0; i < l.n; i++)
		CHECK(!(l.v[i].prot.flags & VPTE_W));
	check_same_leaves(&src, &dst, base, span, "rows, write-protecting");
	test_table_done(&dst, &md);
	test_table_done(&src, &ms);
	free(l.v);
}

/* ------------------------------------------------------------------------
 * Write-protect (copy-on-write)
 * ------------------------------------------------------------------------ */
static void wrprotect(const struct vpte_format *f)
{
	struct test_mem ms, md;
	struct vpte_table src, dst;
	struct vpte_gather g;
	struct test_inval n = { 0, 0, 0, 0 };
	struct leaves before = { 0, NULL }, after = { 0, NULL };
	uint64_t g1 = 1ull << f->granule_shift, s1 = 1ull << vpte_level_shift(f, 1);
	uint64_t base = 4 * s1;
	struct vpte_prot rw = prot_of(VPTE_R | VPTE_W | VPTE_U, VPTE_MT_WB, 0);
	struct vpte_prot ro = prot_of(VPTE_R, VPTE_MT_WB, 0);
	struct vpte_copy_opts cow = { VPTE_COPY_WRPROTECT, &g };

	test_table_new(&src, &ms, f);
	test_table_new(&dst, &md, f);
	/* A huge leaf, ragged pages and runs after it, a read-only page. */
	CHECK_EQ(vpte_map(&src, vpte_va(base), vpte_pa(base), s1 + 40 * g1, rw, NULL), 0);
	CHECK_EQ(vpte_map(&src, vpte_va(base + s1 + 41 * g1), vpte_pa(0), g1, ro, NULL), 0);
	leaves_of(&before, &src, base, 2 * s1);

	/* A range that cuts the huge leaf is refused; nothing changes. */
	struct test_snapshot s0, s1snap;
	snapshot_take(&s0, &src);
	vpte_gather_init(&g, &src, test_note_inval, &n);
	CHECK_EQ(vpte_copy(&dst, &src, vpte_va(base + g1), s1, &cow), -VPTE_EINVAL);
	uint64_t run = g1 << f->cont_bits[0];
	if (f->cont_bits[0] && run <= 40 * g1) /* a run after the huge leaf, cut in half */
		CHECK_EQ(vpte_copy(&dst, &src, vpte_va(base), s1 + run / 2, &cow), -VPTE_EINVAL);
	vpte_gather_finish(&g);
	snapshot_take(&s1snap, &src);
	CHECK(snapshot_equal(&s0, &s1snap));
	CHECK_EQ(n.calls, 0);
	CHECK_EQ(md.live, 1);
	snapshot_free(&s0);
	snapshot_free(&s1snap);

	/* The whole of it: W goes on both sides; the gather names the leaves
	 * that lost it (the read-only page did not change). */
	vpte_gather_init(&g, &src, test_note_inval, &n);
	CHECK_EQ(vpte_copy(&dst, &src, vpte_va(base), 2 * s1, &cow), 0);
	vpte_gather_finish(&g);
	CHECK_EQ(n.calls, 1);
	CHECK_EQ(n.start, base);
	CHECK_EQ(n.last, base + s1 + 40 * g1 - 1);
	CHECK_EQ(n.min_shift, f->granule_shift);
	leaves_of(&after, &src, base, 2 * s1);
	CHECK_EQ(after.n, before.n);
	for (long i = 0; i < before.n && i < after.n; i++) {
		before.v[i].prot.flags &= ~VPTE_W;
		CHECK(after.v[i].va == before.v[i].va && after.v[i].shift == before.v[i].shift &&
		      prot_equal(after.v[i].prot, before.v[i].prot));
	}
	check_copied(&dst, &after, base, 2 * s1, true, "wrprotect");

	/* A read-only source: a plain copy reads it, a write-protecting one
	 * is refused. */
	struct vpte_table ro_src;
	CHECK_EQ(vpte_table_attach(&ro_src, f, test_mem(&ms), src.root, VPTE_TABLE_READONLY), 0);
	CHECK_EQ(vpte_unmap(&dst, vpte_va(base), 2 * s1, NULL), 0);
	cow.gather = NULL;
	CHECK_EQ(vpte_copy(&dst, &ro_src, vpte_va(base), 2 * s1, &cow), -VPTE_EROFS);
	CHECK_EQ(vpte_copy(&dst, &ro_src, vpte_va(base), 2 * s1, NULL), 0);
	test_table_done(&src, &ms);
	test_table_done(&dst, &md);
	free(before.v);
	free(after.v);
}

/* ------------------------------------------------------------------------
 * Errors: both tables unchanged
 * ------------------------------------------------------------------------ */
struct pair {
	struct test_mem ms, md;
	struct vpte_table src, dst;
	struct test_snapshot snap_src, snap_dst;
};

static void pair_open(struct pair *p, const struct vpte_format *from, const struct vpte_format *to)
{
	test_table_new(&p->src, &p->ms, from);
	test_table_new(&p->dst, &p->md, to);
}

/* Expect @err from the copy, and neither table changed. */
static void expect_error(struct pair *p, const char *what, uint64_t va, uint64_t size,
			 const struct vpte_copy_opts *opts, int err)
{
	struct test_snapshot a, b;
	uint64_t live = p->md.live;
	snapshot_take(&p->snap_src, &p->src);
	snapshot_take(&p->snap_dst, &p->dst);
	int got = vpte_copy(&p->dst, &p->src, vpte_va(va), size, opts);
	snapshot_take(&a, &p->src);
	snapshot_take(&b, &p->dst);
	if (got != err || !snapshot_equal(&a, &p->snap_src) || !snapshot_equal(&b, &p->snap_dst) ||
	    p->md.live != live) {
		fprintf(stderr, "errors: %s (%s -> %s): got %d (%s), want %d; tables %s\n", what,
			p->src.fmt->name, p->dst.fmt->name, got, vpte_strerror(got), err,
			snapshot_equal(&a, &p->snap_src) && snapshot_equal(&b, &p->snap_dst)
				? "unchanged"
				: "CHANGED");
		test_failures++;
	}
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&p->snap_src);
	snapshot_free(&p->snap_dst);
}

static void pair_close(struct pair *p)
{
	test_table_done(&p->src, &p->ms);
	test_table_done(&p->dst, &p->md);
}

/*
 * A leaf table whose leaves share every bit but the PA (the direct copy
 * reads such a table with one test, copy.h), the PAs in no order.
 */
static void uniform(const struct vpte_format *f)
{
	struct vpte_prot rw = prot_of(VPTE_R | VPTE_W, VPTE_MT_WB, 0);
	struct vpte_map_opts pages = { f->granule_shift, 0 };
	uint64_t g = 1ull << f->granule_shift, span = 1ull << vpte_level_shift(f, 1);
	uint64_t per = span / g, base = 2 * span, seed = 0x5eed;
	for (unsigned holes = 0; holes < 4; holes++) {
		struct test_mem ms, md;
		struct vpte_table src, dst;
		test_table_new(&src, &ms, f);
		for (uint64_t k = holes; k < per; k++)
			CHECK_EQ(vpte_map(&src, vpte_va(base + k * g),
					  vpte_pa((test_rand(&seed) % (1ull << 20)) * g), g, rw, &pages),
				 0);
		test_table_new(&dst, &md, f);
		CHECK_EQ(vpte_copy(&dst, &src, vpte_va(base), span, NULL), 0);
		check_same_leaves(&src, &dst, base, span, "uniform, a table written whole");
		test_table_done(&dst, &md);
		for (unsigned from = 0; from < 4; from++)
			for (unsigned short_by = 0; short_by < 4; short_by++) {
				uint64_t va = base + from * g, size = span - (from + short_by) * g;
				test_table_new(&dst, &md, f);
				CHECK_EQ(vpte_copy(&dst, &src, vpte_va(va), size, NULL), 0);
				check_same_leaves(&src, &dst, va, size, "uniform, in part");
				test_table_done(&dst, &md);
			}
		test_table_done(&src, &ms);
	}
	/* A corrupt entry at each of the first and last 64 places of the
	 * table, where level 0 has one (arm64's reserved page descriptor
	 * 0b01, RISC-V's W without R: bit 1 clear on both): the one test
	 * must see it wherever it lies in its steps, and the copy fails
	 * with both tables as they were. */
	struct pair p;
	if (strncmp(f->name, "x86_64", 6)) {
		pair_open(&p, f, f);
		for (uint64_t k = 0; k < per; k++)
			CHECK_EQ(vpte_map(&p.src, vpte_va(base + k * g),
					  vpte_pa((test_rand(&seed) % (1ull << 20)) * g), g, rw, &pages),
				 0);
		for (uint64_t k = 0; k < per; k = test_edge_next(k, per)) {
			uint64_t *e = test_entry_at(&p.src, base + k * g), old = *e;
			*e = old & ~2ull;
			expect_error(&p, "uniform, a corrupt entry", base, span, NULL, -VPTE_EFAULT);
			*e = old;
		}
		pair_close(&p);
	}
	if (f != &vpte_format_x86_64)
		return;
	/* The last but one page (an even index, the end of the second
	 * range) beyond arm64-4k-48's 48 PA bits, the rest below. */
	pair_open(&p, f, &vpte_format_arm64_4k_48);
	CHECK_EQ(vpte_map(&p.src, vpte_va(base), vpte_pa(0), span, rw, &pages), 0);
	CHECK_EQ(vpte_unmap(&p.src, vpte_va(base + span - 2 * g), g, NULL), 0);
	CHECK_EQ(vpte_map(&p.src, vpte_va(base + span - 2 * g), vpte_pa(1ull << 50), g, rw, &pages),
		 0);
	expect_error(&p, "uniform, a PA beyond dst's pa_bits", base, span, NULL, -VPTE_ERANGE);
	expect_error(&p, "uniform, a PA beyond dst's pa_bits at the end", base, span - g, NULL,
		     -VPTE_ERANGE);
	pair_close(&p);
}

static void errors(void)
{
	const uint64_t K = 1ull << 10, M = 1ull << 20, G = 1ull << 30;
	struct vpte_prot rw = prot_of(VPTE_R | VPTE_W, VPTE_MT_WB, 0);
	struct pair p;

	/* x86-64 -> arm64-4k-39 */
	pair_open(&p, &vpte_format_x86_64, &vpte_format_arm64_4k_39);
	CHECK_EQ(vpte_map(&p.src, vpte_va(G), vpte_pa(G), 2 * M, rw, NULL), 0);
	CHECK_EQ(vpte_map(&p.dst, vpte_va(G + 2 * M - 4 * K), vpte_pa(0), 4 * K, rw, NULL), 0);
	expect_error(&p, "something mapped in dst", G, 4 * M, NULL, -VPTE_EEXIST);
	expect_error(&p, "misaligned VA", G + 1, 4 * K, NULL, -VPTE_EINVAL);
	expect_error(&p, "zero size", G, 0, NULL, -VPTE_EINVAL);
	expect_error(&p, "wrapping size", G, 0 - G + 4 * K, NULL, -VPTE_EINVAL);
	struct vpte_copy_opts bad = { 1u << 7, NULL };
	expect_error(&p, "bad flag", G, 2 * M, &bad, -VPTE_EINVAL);
	struct vpte_gather g;
	vpte_gather_init(&g, &p.dst, NULL, NULL);
	struct vpte_copy_opts other = { VPTE_COPY_WRPROTECT, &g };
	expect_error(&p, "gather of dst", G, 2 * M, &other, -VPTE_EINVAL);
	expect_error(&p, "VA beyond dst's 39 bits", 1ull << 40, 4 * K, NULL, -VPTE_ERANGE);
	expect_error(&p, "upper half, none in dst", 0xffff800000000000ull, 4 * K, NULL, -VPTE_ERANGE);
	/* x86-64 protection keys (raw bits 59-62) do not exist on arm64. */
	struct vpte_prot pkey = prot_of(VPTE_R, VPTE_MT_WB, 1ull << 59);
	CHECK_EQ(vpte_map(&p.src, vpte_va(2 * G), vpte_pa(0), 4 * K, pkey, NULL), 0);
	expect_error(&p, "raw bits dst lacks", 2 * G, 8 * K, NULL, -VPTE_EINVAL);
	/* A PA beyond arm64's 48 bits. */
	CHECK_EQ(vpte_map(&p.src, vpte_va(3 * G), vpte_pa(1ull << 50), 4 * K, rw, NULL), 0);
	expect_error(&p, "PA beyond dst's pa_bits", 3 * G, 4 * K, NULL, -VPTE_ERANGE);
	/* The read-only destination. */
	struct vpte_table ro;
	CHECK_EQ(vpte_table_attach(&ro, p.dst.fmt, test_mem(&p.md), p.dst.root, VPTE_TABLE_READONLY), 0);
	CHECK_EQ(vpte_copy(&ro, &p.src, vpte_va(G), 2 * M - 4 * K, NULL), -VPTE_EROFS);
	/* A corrupt source entry in the range (x86-64: PS in a PML4E). */
	uint64_t *root = (uint64_t *)(uintptr_t)p.src.root.addr, saved = root[0];
	root[0] = 0x1000 | 0x81;
	expect_error(&p, "corrupt source", 4 * G, 4 * K, NULL, -VPTE_EFAULT);
	root[0] = saved;
	pair_close(&p);

	/* RISC-V execute-only cannot be said on x86-64; 4K pages cannot be
	 * 64K pages. */
	pair_open(&p, &vpte_format_riscv_sv48, &vpte_format_x86_64);
	CHECK_EQ(vpte_map(&p.src, vpte_va(G), vpte_pa(G), 4 * K, prot_of(VPTE_X, VPTE_MT_WB, 0), NULL), 0);
	expect_error(&p, "execute-only", G, 2 * M, NULL, -VPTE_EINVAL);
	pair_close(&p);
	pair_open(&p, &vpte_format_x86_64, &vpte_format_arm64_64k_48);
	CHECK_EQ(vpte_map(&p.src, vpte_va(G), vpte_pa(G), 64 * K, rw, NULL), 0);
	expect_error(&p, "4K pages into 64K pages", G, 64 * K, NULL, -VPTE_EINVAL);
	expect_error(&p, "VA not a 64K multiple", G, 4 * K, NULL, -VPTE_EINVAL);
	pair_close(&p);
	/* A 64K page cut at 16K into x86-64: fine, its part inside. */
	pair_open(&p, &vpte_format_arm64_64k_48, &vpte_format_x86_64);
	CHECK_EQ(vpte_map(&p.src, vpte_va(G), vpte_pa(G), 64 * K, rw, NULL), 0);
	CHECK_EQ(vpte_copy(&p.dst, &p.src, vpte_va(G + 16 * K), 16 * K, NULL), 0);
	struct vpte_walk w;
	CHECK_EQ(vpte_seek(&w, &p.dst, vpte_va(G + 20 * K)), 0);
	CHECK_EQ(w.pa.addr, G + 20 * K);
	CHECK_EQ(vpte_seek(&w, &p.dst, vpte_va(G + 32 * K)), 0);
	CHECK_EQ(w.kind, VPTE_HOLE);
	pair_close(&p);
}

int main(void)
{
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	for (size_t i = 0; i < count; i++) {
		same_format(formats[i]);
		attributes(formats[i]);
		wrprotect(formats[i]);
		rows(formats[i]);
		uniform(formats[i]);
		for (size_t j = 0; j < count; j++)
			format_pair(formats[i], formats[j]);
	}
	named_cases();
	errors();
	return test_summary("test_copy");
}
