/* SPDX-License-Identifier: MIT */
/*
 * limits.h - the physical limit: what it costs just to write, copy or read
 * the bytes an operation's entries occupy (8 bytes an entry), or to change
 * each of them atomically, measured in the same process as the operation.
 */
#ifndef VPTE_BENCH_LIMITS_H
#define VPTE_BENCH_LIMITS_H

#include <stdint.h>

#include "measure.h"

enum bench_limit {
	LIMIT_NONE,
	LIMIT_MEMSET,      /* memset() of the entries' bytes */
	LIMIT_MEMCPY,      /* memcpy() of them to another buffer */
	LIMIT_READ,        /* a plain sequential read (sum) of them */
	LIMIT_READ_RANDOM, /* one 8-byte load at a random entry, per lookup */
	LIMIT_ATOMIC_AND,  /* a locked AND of each entry: what an edit pays where
			    * the hardware may update the entries at once */
};

const char *limit_name(enum bench_limit kind);

/*
 * limit_sample - one sample of @kind over a buffer of @bytes (at least 64;
 * a power of two for LIMIT_READ_RANDOM): nanoseconds per 8-byte entry, or
 * a negative number
 * when the buffers cannot be allocated.  A sample repeats the operation
 * until it has moved at least 8 MiB.  The benchmark takes one after each
 * repetition of a case, so that the case and its limit see the same
 * moments of a noisy host.
 */
double limit_sample(enum bench_limit kind, uint64_t bytes);

enum parallel_work {
	PARALLEL_COMPUTE, /* a multiply chain: no memory traffic */
	PARALLEL_MEMSET,  /* memset of a buffer of the given bytes, one per thread */
};

/*
 * limit_parallel - the speedup the machine gives two threads right now for
 * @work: one job on each of two threads started together, against both
 * jobs on one thread, median of @reps.  The compute loop shows whether two
 * CPUs are free (about 2 when idle; 1 when other work holds one of them);
 * the memset, of @bytes a thread, what the memory system gives two threads
 * writing that much each (0 when it cannot be measured).
 */
double limit_parallel(enum parallel_work work, uint64_t bytes, unsigned reps);

/* Free the buffers. */
void limit_release(void);

#endif
