/* SPDX-License-Identifier: MIT */
/*
 * verb_dump.c - `vpte dump`: every mapping of an image as coalesced,
 * half-open ranges.  The image may be hostile (a table pointing to itself
 * or fanning out to the same tables over and over), so both the output and
 * the walk are bounded.
 */
#include <inttypes.h>
#include <stdio.h>

#include "image_table.h"
#include "prot.h"
#include "verbs.h"

#define DEFAULT_MAX_RANGES 100000u

/* Leaves merged so far: [va, va + size) -> pa. */
struct range {
	uint64_t va, size, pa;
	unsigned shift;
	struct vpte_prot prot;
};

struct dump {
	struct range cur;
	uint64_t ranges; /* ranges started, cur included */
	uint64_t max_ranges;
};

static bool same_prot(struct vpte_prot a, struct vpte_prot b)
{
	return a.flags == b.flags && a.memtype == b.memtype && a.raw == b.raw;
}

static void print_range(const struct range *r)
{
	uint64_t end = r->va + r->size;
	/* A range ending at the top of the address space ends at 2^64. */
	if (end)
		printf("0x%" PRIx64 "-0x%" PRIx64, r->va, end);
	else
		printf("0x%" PRIx64 "-0x10000000000000000", r->va);
	printf(" -> 0x%" PRIx64 " shift=%u %s\n", r->pa, r->shift, prot_text(r->prot).s);
}

/* Adds the leaf @w describes; returns false when it would start one range too many. */
static bool add_leaf(struct dump *d, const struct vpte_walk *w)
{
	struct range *r = &d->cur;
	uint64_t size = 1ull << w->shift;
	if (d->ranges && w->va.addr == r->va + r->size && w->pa.addr == r->pa + r->size &&
	    w->shift == r->shift && same_prot(w->prot, r->prot)) {
		r->size += size;
		return true;
	}
	if (d->ranges == d->max_ranges)
		return false;
	if (d->ranges)
		print_range(r);
	*r = (struct range){ w->va.addr, size, w->pa.addr, w->shift, w->prot };
	d->ranges++;
	return true;
}

/* Walks every translatable range; returns EXIT_OK, EXIT_TRUNCATED or EXIT_FAILED. */
static int dump_table(const struct vpte_table *t, uint64_t max_ranges, uint64_t max_entries)
{
	struct dump d = { .max_ranges = max_ranges };
	vpte_va_t start[2];
	uint64_t size[2];
	unsigned halves = vpte_va_space(t->fmt, start, size);
	uint64_t entries = 0;
	uint64_t next_va = 0; /* where the entry after the last one visited starts */
	int status = EXIT_OK;
	struct vpte_walk w = { 0 };

	for (unsigned i = 0; i < halves && status == EXIT_OK && !w.error; i++) {
		next_va = start[i].addr;
		/*
		 * Holes and table entries too, so that every step of the walk is
		 * counted, and so that a corrupt entry is the one at next_va.
		 */
		vpte_for_each_entry(&w, t, start[i], size[i], VPTE_ITER_ALL)
		{
			if (entries++ == max_entries || (w.kind == VPTE_LEAF && !add_leaf(&d, &w))) {
				status = EXIT_TRUNCATED;
				break;
			}
			next_va = w.va.addr + (w.kind == VPTE_TABLE ? 0 : 1ull << w.shift);
		}
	}
	if (d.ranges)
		print_range(&d.cur);
	if (status == EXIT_TRUNCATED)
		printf("# truncated: %s reached\n",
		       entries > max_entries ? "--max-entries" : "--max-ranges");
	if (w.error) {
		fprintf(stderr, "vpte: dump: %s at VA 0x%" PRIx64 "\n", vpte_strerror(w.error), next_va);
		return EXIT_FAILED;
	}
	return status;
}

int verb_dump(int argc, char **argv)
{
	struct image_args args = IMAGE_ARGS_INIT;
	uint64_t max_ranges = DEFAULT_MAX_RANGES, max_entries = IMAGE_MAX_ENTRIES;
	struct opt opts[] = {
		IMAGE_OPTIONS(&args),
		{ "--max-ranges", OPT_NUMBER, false, &max_ranges, false },
		{ "--max-entries", OPT_NUMBER, false, &max_entries, false },
	};
	int nargs = parse_options("dump", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (nargs < 0)
		return EXIT_USAGE;
	if (nargs)
		return usage_error("dump", "takes no arguments");

	struct image_table it;
	int opened = image_table_open(&it, &args, "dump");
	if (opened)
		return opened == -2 ? EXIT_USAGE : EXIT_FAILED;
	int status = dump_table(&it.table, max_ranges, max_entries);
	image_table_close(&it);
	return status;
}
