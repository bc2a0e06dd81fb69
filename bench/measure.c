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

uint64_t bench_clock_cost_ns;

void bench_clock_calibrate(void)
{
	double pairs[1001];
	for (unsigned i = 0; i < 1001; i++) {
		uint64_t first = bench_now_ns();
		pairs[i] = (double)(bench_now_ns() - first);
	}
	bench_clock_cost_ns = (uint64_t)bench_summarize(pairs, 1001).median;
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
