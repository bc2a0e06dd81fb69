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
 * What reading the clock adds to an interval: two reads back to back, the
 * mean of many (bench_clock_calibrate(), once at start).  On a virtual
 * machine a read can take 20 ns, a fifth of a whole 2 MiB-leaf map of
 * 1 GiB, so every timed interval has it subtracted.  A mean, not a median,
 * because the clock may advance in steps (10 ns on the machine of
 * docs/performance.md): a median of values that are all 20 or 30 is one of
 * the two, where the mean of dithered reads is the cost itself.
 */
extern double bench_clock_cost_ns;
void bench_clock_calibrate(void);

/*
 * bench_dither - wait a pseudo-random 0 to about 100 ns before a clock
 * read that starts an interval, so that where the interval starts within
 * a step of a coarse clock is uniform: a short call timed alone then
 * reads high or low by up to a step, and the mean of many is its time.
 * Undithered, a loop of equal calls can start each at the same point of
 * a step, and every one then reads the same rounded value
 * (docs/performance-log.md item 61).
 */
void bench_dither(void);

/* The timed parts of one repetition, added up, each less the clock's cost. */
struct bench_timer {
	uint64_t started;
	double total;
};

static inline void timer_start(struct bench_timer *tm)
{
	bench_dither();
	tm->started = bench_now_ns();
}

static inline void timer_stop(struct bench_timer *tm)
{
	double elapsed = (double)(bench_now_ns() - tm->started) - bench_clock_cost_ns;
	tm->total += elapsed > 0 ? elapsed : 0;
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
