/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "measure.h"

#include <stdlib.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_clock_cost_ns;

void bench_dither(void)
{
	static _Thread_local uint64_t x = 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	for (unsigned spin = (unsigned)(x >> 56); spin; spin--)
		bench_keep(spin);
}

#define CALIBRATE_PAIRS 4001u

void bench_clock_calibrate(void)
{
	double pairs[CALIBRATE_PAIRS], sum = 0;
	unsigned kept = 0;
	for (unsigned i = 0; i < CALIBRATE_PAIRS; i++) {
		bench_dither();
		uint64_t first = bench_now_ns();
		pairs[i] = (double)(bench_now_ns() - first);
	}
	/* An interrupt between two reads is not the clock's cost: drop what
	 * lies beyond twice the median. */
	double median = bench_summarize(pairs, CALIBRATE_PAIRS).median;
	for (unsigned i = 0; i < CALIBRATE_PAIRS; i++)
		if (pairs[i] <= 2 * median) {
			sum += pairs[i];
			kept++;
		}
	bench_clock_cost_ns = sum / kept;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct bench_summary bench_summarize(double *samples, unsigned n)
{
	struct bench_summary s;
	qsort(samples, n, sizeof(*samples), cmp_double);
	s.min = samples[0];
	s.max = samples[n - 1];
	s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
	return s;
}
