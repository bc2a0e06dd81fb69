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

/* The timed parts of one repetition, added up. */
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
	tm->total += bench_now_ns() - tm->started;
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
