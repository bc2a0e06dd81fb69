/* SPDX-License-Identifier: MIT */
#include "limits.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pair.h"

#define LIMIT_MIN_BYTES (8ull << 20) /* each sample moves at least this much */
#define LIMIT_RANDOM_LOADS (1u << 20)

static uint8_t *buf_a, *buf_b;
static uint64_t buf_bytes;

const char *limit_name(enum bench_limit kind)
{
	switch (kind) {
	case LIMIT_MEMSET:
		return "memset";
	case LIMIT_MEMCPY:
		return "memcpy";
	case LIMIT_READ:
		return "read";
	case LIMIT_READ_RANDOM:
		return "read-random";
	case LIMIT_ATOMIC_AND:
		return "atomic-and";
	default:
		return "none";
	}
}

/* Two buffers of at least @bytes, touched so that no page fault is timed. */
static int buffers(uint64_t bytes)
{
	if (bytes <= buf_bytes)
		return 0;
	free(buf_a);
	free(buf_b);
	buf_a = aligned_alloc(4096, bytes);
	buf_b = aligned_alloc(4096, bytes);
	if (!buf_a || !buf_b)
		return -1;
	memset(buf_a, 1, bytes);
	memset(buf_b, 2, bytes);
	buf_bytes = bytes;
	return 0;
}

typedef uint64_t v2u64 __attribute__((vector_size(16)));

/* Sum the buffer with four independent vector accumulators. */
static uint64_t read_all(const uint8_t *p, uint64_t bytes)
{
	v2u64 a = { 0, 0 }, b = a, c = a, d = a;
	for (uint64_t i = 0; i + 64 <= bytes; i += 64) {
		v2u64 x, y, z, w;
		memcpy(&x, p + i, 16);
		memcpy(&y, p + i + 16, 16);
		memcpy(&z, p + i + 32, 16);
		memcpy(&w, p + i + 48, 16);
		a += x;
		b += y;
		c += z;
		d += w;
	}
	a += b + c + d;
	return a[0] + a[1];
}

static uint64_t read_random(const uint8_t *p, uint64_t bytes, unsigned loads)
{
	const uint64_t *e = (const uint64_t *)(const void *)p;
	uint64_t mask = bytes / 8 - 1, x = 0x9e3779b97f4a7c15ull, sum = 0;
	for (unsigned i = 0; i < loads; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += e[(x >> 11) & mask];
	}
	return sum;
}

/*
 * Clear a bit of every entry with a locked AND.  An edit of entries the
 * hardware may set accessed or dirty in at the same time needs one locked
 * read-modify-write per entry it changes (a compare-and-swap measured the
 * same here): a plain store could lose the hardware's dirty bit.
 */
static void and_each(uint8_t *p, uint64_t bytes)
{
	uint64_t *e = (uint64_t *)(void *)p;
	for (uint64_t i = 0; i < bytes / 8; i++)
		__atomic_fetch_and(&e[i], ~(uint64_t)2, __ATOMIC_RELAXED);
}

double limit_sample(enum bench_limit kind, uint64_t bytes)
{
	uint64_t entries = bytes / 8, inner, done = 0;
	if (buffers(bytes))
		return -1;
	uint64_t start = bench_now_ns();
	if (kind == LIMIT_READ_RANDOM) {
		bench_keep(read_random(buf_a, bytes, LIMIT_RANDOM_LOADS));
		return (double)(bench_now_ns() - start) / LIMIT_RANDOM_LOADS;
	}
	inner = (LIMIT_MIN_BYTES + bytes - 1) / bytes;
	for (uint64_t i = 0; i < inner; i++) {
		switch (kind) {
		case LIMIT_MEMSET:
			memset(buf_a, (int)(i & 0xff), bytes);
			break;
		case LIMIT_MEMCPY:
			memcpy(buf_b, buf_a, bytes);
			break;
		case LIMIT_ATOMIC_AND:
			and_each(buf_a, bytes);
			break;
		default:
			done += read_all(buf_a, bytes);
			break;
		}
		bench_keep((uint64_t)(uintptr_t)buf_a + (uint64_t)(uintptr_t)buf_b);
	}
	bench_keep(done);
	return (double)(bench_now_ns() - start) / (double)(inner * entries);
}

#define SPIN_STEPS 20000000u /* about 10 ms */

static uint64_t spin_work(void)
{
	uint64_t x = 1;
	for (unsigned i = 0; i < SPIN_STEPS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		bench_keep(x);
	}
	return x;
}

struct parallel_job {
	enum parallel_work work;
	unsigned index; /* 0 or 1: which buffer */
	uint64_t bytes;
};

static void parallel_job_run(void *arg)
{
	struct parallel_job *j = arg;
	if (j->work == PARALLEL_COMPUTE)
		bench_keep(spin_work());
	else
		memset(j->index ? buf_b : buf_a, (int)j->index + 3, j->bytes);
}

/*
 * One sample: both jobs on this thread, then one job on each of two
 * threads started together, as the two-thread case starts them
 * (bench_pair_run()).
 */
static double parallel_sample(enum parallel_work work, uint64_t bytes)
{
	struct parallel_job jobs[2] = { { work, 0, bytes }, { work, 1, bytes } };
	void *const args[2] = { &jobs[0], &jobs[1] };
	uint64_t t0 = bench_now_ns();
	parallel_job_run(&jobs[0]);
	parallel_job_run(&jobs[1]);
	uint64_t one = bench_now_ns() - t0;
	uint64_t two = bench_pair_run(parallel_job_run, args);
	return two ? (double)one / (double)two : 0;
}

double limit_parallel(enum parallel_work work, uint64_t bytes, unsigned reps)
{
	double samples[64];
	if (work == PARALLEL_MEMSET && buffers(bytes))
		return 0;
	if (reps > 64)
		reps = 64;
	parallel_sample(work, bytes); /* warm-up */
	for (unsigned r = 0; r < reps; r++) {
		samples[r] = parallel_sample(work, bytes);
		if (samples[r] == 0)
			return 0;
	}
	return bench_summarize(samples, reps).median;
}

void limit_release(void)
{
	free(buf_a);
	free(buf_b);
	buf_a = buf_b = NULL;
	buf_bytes = 0;
}
