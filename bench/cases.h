/* SPDX-License-Identifier: MIT */
/*
 * cases.h - what the benchmark measures.  A case is one entry of the
 * table in cases.c: a starting state built untimed, the timed call (or a
 * loop that times its own parts), how many entries it handles, which
 * physical limit it is compared with, its hand-written x86-64 counterpart
 * if there is one, and its targets.  An operation that does not exist yet
 * is an entry with .pending set: listed as "not yet available", never run.
 */
#ifndef VPTE_BENCH_CASES_H
#define VPTE_BENCH_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "handwritten.h"
#include "limits.h"
#include "measure.h"
#include "vpte/hosted.h"
#include "vpte/vpte.h"

/* The state a repetition starts from (built untimed, torn down untimed). */
enum bench_state {
	ST_EMPTY, /* an empty table */
	ST_FULL,  /* the region mapped with granule (4 KiB) leaves */
	ST_FULL_RO, /* ST_FULL, read-only */
	ST_FULL_DIRTY, /* ST_FULL, every leaf dirty (every page written) */
	ST_HUGE,  /* the region mapped with the largest leaves (1 GiB) */
	ST_SLOTS, /* every leaf table of the region exists, holding one resident
		   * leaf in its last entry: room for region/granule single maps */
	ST_RING,  /* ring_tables leaf tables, each with a resident leaf in its
		   * last entry: 256-entry maps and unmaps reuse them */
	ST_COPY,  /* ST_FULL, and an empty destination table e->t2 of the format */
	ST_COPY_OTHER, /* ST_FULL, and an empty e->t2 of e->other */
	ST_EMPTY_CONCURRENT, /* an empty concurrent table (e->epoch its grace
			      * period): edits from several threads at once */
};

/* Everything a case works with, for one format. */
struct bench_env {
	const struct vpte_format *fmt;
	bool handwritten;      /* the format is x86_64: the hand-written walker applies */
	unsigned gshift;       /* granule shift: 12 */
	unsigned l1shift;      /* shift of a level-1 entry: 21 */
	unsigned per_table;    /* entries of a table below the top: 512 */
	uint64_t region;       /* 1 GiB */
	uint64_t va, pa;       /* where the region is mapped, 1 GiB aligned */
	unsigned seeks;        /* random lookups per repetition */
	unsigned ring_tables;  /* tables of ST_RING */
	unsigned ring_rounds;  /* map/unmap rounds per repetition */
	struct vpte_prot prot; /* read-write, write-back */
	const struct vpte_format *other; /* another 4 KiB-granule format (copies) */
	uint64_t *bitmap;      /* region / granule bits (harvest) */
	uint64_t *scattered;   /* the ST_SLOTS offsets in random order */
	/* ST_EMPTY_CONCURRENT's grace period, and a reader for each thread
	 * of the pair (bench/pair.h): [0] the calling thread, [1] the second */
	struct vpte_epoch *epoch;
	struct vpte_epoch_reader *readers[2];

	/* the current repetition; the heap's page counter (written by every
	 * allocation, from both threads of the two-thread case) gets a cache
	 * line of its own, away from the table that every walk reads */
	_Alignas(64) struct vpte_heap heap;
	_Alignas(64) struct vpte_table t;
	struct vpte_table t2; /* ST_COPY*: the destination; t2.fmt NULL otherwise */
	struct hw_mm hw;
	struct bench_timer timer;
};

enum bench_target_kind {
	T_NONE,
	T_LIMIT,   /* ratio to the physical limit at most .bound */
	T_HW,      /* ratio to the hand-written walker at most .bound (x86_64) */
	T_NS,      /* ns per entry at most .bound */
	T_SPEEDUP, /* (ns per entry of .ref_call) / (ns per entry) at least .bound */
};

struct bench_target {
	enum bench_target_kind kind;
	double bound;
	const char *ref;
};

#define BENCH_TARGETS 2

struct bench_case {
	const char *op;      /* name in the output */
	const char *what;    /* one line for people */
	const char *pending; /* set: the operation does not exist yet (what it waits for) */
	enum bench_state state;
	uint64_t (*entries)(const struct bench_env *e);
	enum bench_limit limit;
	/* bytes the limit is measured over; NULL: entries * 8 */
	uint64_t (*limit_bytes)(const struct bench_env *e);
	/* the limit's bytes are all the case writes, more than 8 an entry (the
	 * new tables of a map): their cost is shared among the entries */
	bool limit_whole;
	/* timed whole by the runner ... */
	int (*call)(struct bench_env *e);
	/* ... or timing its own parts with e->timer */
	int (*run)(struct bench_env *e);
	/* a repetition is the mean of this many calls, each timed alone from
	 * its own fresh state (0: one): for a call that lasts only a few of
	 * the clock's steps, whose single reading is off by up to a step */
	unsigned calls_per_rep;
	/* the same work by the hand-written walker on e->hw (x86_64), or NULL */
	int (*hw_run)(struct bench_env *e);
	/* checks the state after the first (warm-up) repetition, or NULL */
	int (*check)(struct bench_env *e);
	struct bench_target targets[BENCH_TARGETS];
	/* the same work done another way in the same state (one thread instead
	 * of two), timed whole and interleaved with the case; NULL if none */
	int (*ref_call)(struct bench_env *e);
	const char *ref_what; /* what the reference is, for the output */
};

/* The timed calls a repetition of @c is the mean of. */
static inline unsigned case_calls_per_rep(const struct bench_case *c)
{
	return c->calls_per_rep ? c->calls_per_rep : 1u;
}

extern const struct bench_case bench_cases[];
extern const unsigned bench_case_count;

/* Fill the geometry of @e for @fmt; @quick: smaller loops.  Returns 0 or
 * -VPTE_ENOMEM; env_release() frees what it allocated. */
int env_init(struct bench_env *e, const struct vpte_format *fmt, bool quick);
void env_release(struct bench_env *e);

/* Build / tear down a state on e->t (vpte) or e->hw (hand-written). */
int state_setup(struct bench_env *e, enum bench_state st);
int state_teardown(struct bench_env *e);
int hw_state_setup(struct bench_env *e, enum bench_state st);
void hw_state_teardown(struct bench_env *e);

#endif
