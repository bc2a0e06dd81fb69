/* SPDX-License-Identifier: MIT */
/*
 * measure.h - time and summarise: CLOCK_MONOTONIC in nanoseconds, a timer
 * that adds up the timed parts of one repetition, and median/min/max of
 * the repetitions.
 */
#ifndef VPTE_BENCH_MEASURE_H
#define VPTE_BENCH_MEASURE_H

#include <stdint.h>

/* Nanoseconds from CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/*
 * What reading the clock adds to an interval: two reads back to back,
 * median of many (bench_clock_calibrate(), once at start).  On a virtual
 * machine a read can take 20 ns, a seventh of a whole 2 MiB-leaf map of
 * 1 GiB, so every timed interval has it subtracted.
 */
extern uint64_t bench_clock_cost_ns;
void bench_clock_calibrate(void);

/* The timed parts of one repetition, added up, each less the clock's cost. */
struct bench_timer {
	uint64_t started;
	uint64_t total;
};

static inline void timer_start(struct bench_timer *tm)
{
	tm->started = bench_now_ns();
}

static inline void timer_stop(struct bench_timer *tm)
{
	uint64_t elapsed = bench_now_ns() - tm->started;
	tm->total += elapsed > bench_clock_cost_ns ? elapsed - bench_clock_cost_ns : 0;
}

/* median, min and max of n > 0 samples (the array is sorted in place). */
struct bench_summary {
	double median, min, max;
};
struct bench_summary bench_summarize(double *samples, unsigned n);

/* Keep @value alive without the compiler seeing how it is used. */
static inline void bench_keep(uint64_t value)
{
	__asm__ volatile("" : : "r"(value) : "memory");
}

#endif
