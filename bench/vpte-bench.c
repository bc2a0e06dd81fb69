/* SPDX-License-Identifier: MIT */
/*
 * vpte-bench - every operation as nanoseconds per entry, against the
 * physical limit (memset/memcpy/read of the same bytes) and, for x86_64,
 * against a hand-written pgd/pud/pmd/pte walker, all in one process.
 *
 * usage: vpte-bench [--quick] [--json] [--format NAME]... [--case OP]...
 *                   [--reps N] [--list]
 *
 * Each case is the median of N repetitions (default 11, --quick 5) with
 * min and max; a warm-up repetition before them is not counted.  The
 * targets are printed with their verdicts; none is asserted (the exit
 * status is 0 unless a case failed).  See docs/performance.md.
 */
#define _DEFAULT_SOURCE
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cases.h"
#include "pair.h"
#include "report.h"

#define MAX_FORMATS 16
#define MAX_FILTERS 16
#define MAX_REPS 64

static const char *default_formats[] = { "x86_64", "arm64-4k-48", "riscv-sv48" };

struct options {
	bool quick, json, list;
	unsigned reps;
	unsigned nformats, ncases;
	const struct vpte_format *formats[MAX_FORMATS];
	const char *cases[MAX_FILTERS];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vpte-bench [--quick] [--json] [--format NAME]... [--case OP]... [--reps N] [--list]\n"
		"  --quick        smaller loops and 5 repetitions (well under a minute)\n"
		"  --json         JSON instead of the table\n"
		"  --format NAME  a format to measure (repeatable; default: x86_64, arm64-4k-48,\n"
		"                 riscv-sv48; 'all' for every format)\n"
		"  --case OP      only the case OP; shell patterns work: 'map-*' (repeatable)\n"
		"  --reps N       repetitions per case (default 11, quick 5; fewer than 5 only\n"
		"                 for profiling)\n"
		"  --list         list the cases and exit\n");
}

static int add_format(struct options *o, const char *name)
{
	if (!strcmp(name, "all")) {
		size_t n;
		const struct vpte_format *const *all = vpte_formats(&n);
		for (size_t i = 0; i < n && o->nformats < MAX_FORMATS; i++)
			o->formats[o->nformats++] = all[i];
		return 0;
	}
	const struct vpte_format *f = vpte_format_by_name(name);
	if (!f) {
		fprintf(stderr, "vpte-bench: unknown format '%s' (see 'vpte formats')\n", name);
		return -1;
	}
	if (o->nformats < MAX_FORMATS)
		o->formats[o->nformats++] = f;
	return 0;
}

static int parse(struct options *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--quick")) {
			o->quick = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--list")) {
			o->list = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--format") && v) {
			if (add_format(o, v))
				return -1;
			i++;
		} else if (!strcmp(a, "--case") && v) {
			if (o->ncases < MAX_FILTERS)
				o->cases[o->ncases++] = v;
			i++;
		} else if (!strcmp(a, "--reps") && v) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);
			if (*end || n < 1 || n > MAX_REPS) {
				fprintf(stderr, "vpte-bench: --reps takes 1 to %d\n", MAX_REPS);
				return -1;
			}
			o->reps = (unsigned)n;
			i++;
		} else {
			fprintf(stderr, "vpte-bench: bad argument '%s'\n", a);
			usage(stderr);
			return -1;
		}
	}
	if (!o->nformats)
		for (unsigned i = 0; i < sizeof(default_formats) / sizeof(*default_formats); i++)
			add_format(o, default_formats[i]);
	if (!o->reps)
		o->reps = o->quick ? 5 : 11;
	return 0;
}

static bool selected(const struct options *o, const struct bench_case *c)
{
	if (!o->ncases)
		return true;
	for (unsigned i = 0; i < o->ncases; i++)
		if (!fnmatch(o->cases[i], c->op, 0))
			return true;
	return false;
}

enum run_kind {
	RUN_VPTE, /* the case */
	RUN_HW,   /* its hand-written counterpart */
	RUN_REF,  /* its reference (one thread) */
};

/* One timed call: build the state, time the case, check, tear down.  Adds
 * the timed nanoseconds to e->timer.total. */
static int run_call(struct bench_env *e, const struct bench_case *c, enum run_kind kind,
		    bool check)
{
	bool hw = kind == RUN_HW;
	int err = hw ? hw_state_setup(e, c->state) : state_setup(e, c->state);
	if (!err) {
		if (hw) {
			err = c->hw_run(e);
		} else if (kind == RUN_REF || c->call) {
			timer_start(&e->timer);
			err = kind == RUN_REF ? c->ref_call(e) : c->call(e);
			timer_stop(&e->timer);
		} else {
			err = c->run(e);
		}
	}
	if (!err && check && !hw && c->check)
		err = c->check(e);
	if (hw) {
		hw_state_teardown(e);
		return err;
	}
	int terr = state_teardown(e);
	return err ? err : terr;
}

/* One repetition: the mean of the case's calls_per_rep timed calls (one
 * if unset), the first checked when @check is set.  Stores the
 * nanoseconds of one call in *ns. */
static int run_once(struct bench_env *e, const struct bench_case *c, enum run_kind kind,
		    bool check, double *ns)
{
	unsigned calls = case_calls_per_rep(c);
	int err = 0;
	e->timer.total = 0;
	for (unsigned i = 0; i < calls && !err; i++)
		err = run_call(e, c, kind, check && i == 0);
	*ns = e->timer.total / calls;
	return err;
}

static void run_case(const struct options *o, const struct vpte_format *f,
		     const struct bench_case *c, struct bench_result *r)
{
	struct bench_env e;
	double ns[MAX_REPS], hw_ns[MAX_REPS], ref_ns[MAX_REPS], limit_ns[MAX_REPS];
	*r = (struct bench_result){ .c = c, .format = f->name };
	if (c->pending)
		return;
	if ((r->error = env_init(&e, f, o->quick)))
		return;
	r->entries = c->entries(&e);
	r->has_hw = e.handwritten && c->hw_run;
	r->has_ref = c->ref_call != NULL;
	r->limit_bytes = c->limit_bytes ? c->limit_bytes(&e) : r->entries * 8;
	/* the limit's warm-up sample, which also finds out whether its
	 * buffers can be had */
	bool has_limit = c->limit != LIMIT_NONE && r->limit_bytes >= 64 &&
			 limit_sample(c->limit, r->limit_bytes) >= 0;
	/* warm-up (and the correctness checks), then the repetitions, the
	 * hand-written walker, the reference and the limit interleaved with
	 * the case */
	r->error = run_once(&e, c, RUN_VPTE, true, &ns[0]);
	if (r->has_hw)
		r->hw_error = run_once(&e, c, RUN_HW, false, &hw_ns[0]);
	if (r->has_ref && !r->error)
		r->error = run_once(&e, c, RUN_REF, true, &ref_ns[0]);
	for (unsigned i = 0; i < o->reps && !r->error; i++) {
		r->error = run_once(&e, c, RUN_VPTE, false, &ns[i]);
		ns[i] /= (double)r->entries;
		if (r->has_hw && !r->hw_error) {
			r->hw_error = run_once(&e, c, RUN_HW, false, &hw_ns[i]);
			hw_ns[i] /= (double)r->entries;
		}
		if (r->has_ref && !r->error) {
			r->error = run_once(&e, c, RUN_REF, false, &ref_ns[i]);
			ref_ns[i] /= (double)r->entries;
		}
		if (has_limit)
			limit_ns[i] = limit_sample(c->limit, r->limit_bytes);
	}
	env_release(&e);
	if (r->error)
		return;
	r->ns = bench_summarize(ns, o->reps);
	if (r->has_hw && !r->hw_error)
		r->hw = bench_summarize(hw_ns, o->reps);
	if (r->has_ref)
		r->ref = bench_summarize(ref_ns, o->reps);
	if (has_limit)
		r->limit = bench_summarize(limit_ns, o->reps);
	if (c->limit_whole) {
		double words_per_entry = (double)(r->limit_bytes / 8) / (double)r->entries;
		r->limit.median *= words_per_entry;
		r->limit.min *= words_per_entry;
		r->limit.max *= words_per_entry;
	}
	for (unsigned k = 0; k < BENCH_TARGETS; k++)
		if (c->targets[k].kind == T_SPEEDUP) {
			r->parallel = limit_parallel(PARALLEL_COMPUTE, 0, o->reps);
			r->parallel_memset = limit_parallel(PARALLEL_MEMSET, r->limit_bytes / 2,
							    o->reps);
		}
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	if (parse(&o, argc, argv))
		return 2;
	if (o.list) {
		for (unsigned i = 0; i < bench_case_count; i++)
			printf("%-22s %s%s%s\n", bench_cases[i].op, bench_cases[i].what,
			       bench_cases[i].pending ? ": " : "",
			       bench_cases[i].pending ? bench_cases[i].pending : "");
		return 0;
	}
#ifdef __GLIBC__
	/* Keep freed table pages in the process: every repetition then reuses
	 * memory that is already faulted in, for vpte and the hand-written
	 * walker alike, instead of timing the kernel's page faults. */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
#endif
	bench_clock_calibrate();
	struct bench_result *results = calloc((size_t)o.nformats * bench_case_count, sizeof(*results));
	unsigned n = 0;
	int failed = 0;
	if (!results)
		return 1;
	for (unsigned fi = 0; fi < o.nformats; fi++) {
		for (unsigned ci = 0; ci < bench_case_count; ci++) {
			if (!selected(&o, &bench_cases[ci]))
				continue;
			run_case(&o, o.formats[fi], &bench_cases[ci], &results[n]);
			failed |= results[n].error || results[n].hw_error;
			n++;
		}
	}
	struct bench_machine m;
	machine_describe(&m, o.quick, o.reps);
	if (o.json)
		report_json(stdout, &m, results, n);
	else
		report_table(stdout, &m, results, n);
	bench_pair_stop();
	limit_release();
	free(results);
	return failed ? 1 : 0;
}
