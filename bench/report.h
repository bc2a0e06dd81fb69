/* SPDX-License-Identifier: MIT */
/*
 * report.h - results, target verdicts, and the two output forms: a table
 * for people and JSON for programs.
 */
#ifndef VPTE_BENCH_REPORT_H
#define VPTE_BENCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cases.h"

/* One case on one format. */
struct bench_result {
	const struct bench_case *c;
	const char *format;
	uint64_t entries;
	int error;                  /* a vpte error stopped the case (then no numbers) */
	struct bench_summary ns;    /* ns per entry */
	uint64_t limit_bytes;
	struct bench_summary limit; /* ns per entry of the physical limit */
	bool has_hw;
	int hw_error;
	struct bench_summary hw;    /* ns per entry of the hand-written walker */
	bool has_ref;
	struct bench_summary ref;   /* ns per entry of the case's reference (one thread) */
	double parallel;            /* speedup cases: limit_parallel() of a compute loop */
	double parallel_memset;     /* ... and of memset, half the limit's bytes a thread */
};

struct bench_machine {
	char cpu[128];
	long nproc;
	const char *compiler;
	const char *mode; /* "quick" or "full" */
	unsigned reps;
};

void machine_describe(struct bench_machine *m, bool quick, unsigned reps);

/* A target's verdict: @applies false when it cannot be judged (no
 * hand-written walker for the format, a failed case). */
struct bench_verdict {
	bool applies, met;
	double measured;
};

struct bench_verdict target_judge(const struct bench_result *r, const struct bench_target *t);

/* "ratio to memset <= 1.5", "ns/entry <= 3", ... */
void target_describe(char *buf, size_t len, const struct bench_result *r,
		     const struct bench_target *t);

void report_table(FILE *out, const struct bench_machine *m, const struct bench_result *all,
		  unsigned n);
void report_json(FILE *out, const struct bench_machine *m, const struct bench_result *all,
		 unsigned n);

#endif
