/* SPDX-License-Identifier: MIT */
/*
 * pair.h - one job on two threads at once: the calling thread and a second
 * thread kept for the whole run.
 */
#ifndef VPTE_BENCH_PAIR_H
#define VPTE_BENCH_PAIR_H

#include <stdint.h>

/*
 * bench_pair_run - run @job(@args[0]) on the calling thread and
 * @job(@args[1]) on the pair's second thread, started together: both spin
 * until both are ready (a sleeping barrier adds a wake-up, milliseconds on
 * a busy VM).  The second thread is started on the first call and kept,
 * so that a repetition times the work, not a thread's creation and its
 * placement: a new thread per repetition started its job 70-110 us after
 * the caller in about one repetition of four (docs/performance-log.md item
 * 23).  After a job it spins 20 ms for the next (keeping its CPU from
 * one repetition to the next), then sleeps, taking no CPU from
 * single-thread cases.  Found on the caller's CPU when a job starts, it is
 * moved to another (its affinity: every CPU the caller may use but that
 * one), so the two jobs do not take turns on one CPU.
 * VPTE_BENCH_PIN=1 in the environment pins the two to CPUs 0 and 1.
 *
 * Returns the nanoseconds from the first start to the last end; 0 when
 * the thread cannot be started.
 */
uint64_t bench_pair_run(void (*job)(void *arg), void *const args[2]);

/* bench_pair_stop - end the second thread, if started. */
void bench_pair_stop(void);

#endif
