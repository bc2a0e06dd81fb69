/* SPDX-License-Identifier: MIT */
/*
 * verb_demo.c - `vpte demo`: build one realistic address space in every
 * format and compare what each needs: table memory, leaves of each size,
 * contiguous runs and TLB entries.
 */
#include <inttypes.h>
#include <stdio.h>

#include "demo_layout.h"
#include "numbers.h"
#include "options.h"
#include "prot.h"
#include "report.h"
#include "verbs.h"
#include "vpte/hosted.h"

static int apply_step(struct vpte_table *t, const struct demo_step *s)
{
	if (s->op == DEMO_UNMAP)
		return vpte_unmap(t, vpte_va(s->va), s->size, NULL);
	return vpte_map(t, vpte_va(s->va), vpte_pa(s->pa), s->size, s->prot, NULL);
}

static void print_layout(const struct vpte_format *fmt)
{
	struct demo_step steps[DEMO_MAX_STEPS];
	size_t count = demo_layout(fmt, steps);

	printf("The address space, as laid out for %s (other formats place it to fit their VA\n"
	       "width and round it to their page size):\n",
	       fmt->name);
	for (size_t i = 0; i < count; i++) {
		printf("  %-5s %-18s 0x%016" PRIx64 " %7s", steps[i].op == DEMO_MAP ? "map" : "unmap",
		       steps[i].what, steps[i].va, size_text(steps[i].size).s);
		if (steps[i].op == DEMO_MAP)
			printf("  %s", prot_text(steps[i].prot).s);
		printf("\n");
	}
	printf("\n");
	report_header(stdout);
}

/* Builds the layout in @fmt and prints its row; returns 0 or -1 after printing why. */
static int compare_format(const struct vpte_format *fmt)
{
	struct vpte_heap heap = { 0 };
	struct vpte_table table;
	struct demo_step steps[DEMO_MAX_STEPS];
	size_t count = demo_layout(fmt, steps);
	struct vpte_stats st;

	int err = vpte_table_init(&table, fmt, vpte_heap_mem(&heap));
	if (err) {
		fprintf(stderr, "vpte: demo: %s: top table: %s\n", fmt->name, vpte_strerror(err));
		return -1;
	}
	for (size_t i = 0; !err && i < count; i++) {
		err = apply_step(&table, &steps[i]);
		if (err)
			fprintf(stderr, "vpte: demo: %s: %s: %s\n", fmt->name, steps[i].what,
				vpte_strerror(err));
	}
	if (!err && (err = vpte_stats_table(&table, &st)))
		fprintf(stderr, "vpte: demo: %s: stats: %s\n", fmt->name, vpte_strerror(err));
	if (!err)
		report_row(stdout, fmt, &st);
	vpte_table_destroy(&table);
	return err ? -1 : 0;
}

int verb_demo(int argc, char **argv)
{
	int nargs = parse_options("demo", argc, argv, NULL, 0);
	if (nargs < 0)
		return EXIT_USAGE;
	if (nargs)
		return usage_error("demo", "takes no arguments");

	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	print_layout(formats[0]);
	int status = EXIT_OK;
	for (size_t i = 0; i < count; i++)
		if (compare_format(formats[i]))
			status = EXIT_FAILED;
	printf("\n");
	report_legend(stdout);
	return status;
}
