/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include "pair.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "measure.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started;
	/* the jobs handed out so far (also read spinning), then under lock
	 * the current one and the end */
	atomic_uint handed;
	void (*job)(void *arg);
	void *arg;
	bool stop;
	/* the start and end handshake of the current job, spun on */
	atomic_bool ready, go, done;
	/* the CPU the second thread runs on, kept while it waits for go */
	atomic_int cpu;
	uint64_t t0, t1;
} pair = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

/* How long the second thread spins for the next job before it sleeps. */
#define PAIR_SPIN_NS 20000000u

/*
 * After a job the second thread spins for the next one a while, so that
 * the repetitions of a case find it running on its own CPU: woken from a
 * sleep, the scheduler may put it on the waker's CPU (wake-affine), and
 * the two jobs then share that CPU until a load balance moves one (memset
 * of 2 MiB a thread measured 1.1x one thread so, against 1.5-1.9 when a new
 * thread was placed on the idle CPU at its creation).  Beyond the spin it
 * sleeps, so single-thread cases run without it.
 */
static void await_job(unsigned seen)
{
	uint64_t until = bench_now_ns() + PAIR_SPIN_NS;
	while (atomic_load(&pair.handed) == seen && bench_now_ns() < until)
		sched_yield();
}

static void *second_main(void *unused)
{
	unsigned seen = 0;
	(void)unused;
	for (;;) {
		await_job(seen);
		pthread_mutex_lock(&pair.lock);
		while (atomic_load(&pair.handed) == seen && !pair.stop)
			pthread_cond_wait(&pair.wake, &pair.lock);
		if (pair.stop) {
			pthread_mutex_unlock(&pair.lock);
			return NULL;
		}
		seen = atomic_load(&pair.handed);
		void (*job)(void *) = pair.job;
		void *arg = pair.arg;
		pthread_mutex_unlock(&pair.lock);

		atomic_store(&pair.cpu, sched_getcpu());
		atomic_store(&pair.ready, true);
		while (!atomic_load(&pair.go)) {
			sched_yield();
			atomic_store(&pair.cpu, sched_getcpu());
		}
		pair.t0 = bench_now_ns();
		job(arg);
		pair.t1 = bench_now_ns();
		atomic_store(&pair.done, true);
	}
}

static void pin(pthread_t th, unsigned cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (getenv("VPTE_BENCH_PIN") && sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		pthread_setaffinity_np(th, sizeof(set), &set);
}

/* How long the caller waits for the second thread to leave its CPU. */
#define PAIR_MOVE_NS 1000000u

/*
 * The second thread, ready, is on the caller's CPU: move it to another the
 * caller may run on.  The scheduler put it there in one of three runs
 * looked at (wake-affine, or at its creation), and as it spins between
 * jobs it stayed for the whole case: the two jobs ran one after the
 * other, 0.9x one thread (docs/performance-log.md item 60).
 */
static void separate(void)
{
	int mine = sched_getcpu();
	cpu_set_t set;
	if (mine < 0 || atomic_load(&pair.cpu) != mine ||
	    sched_getaffinity(0, sizeof(set), &set))
		return;
	CPU_CLR(mine, &set);
	if (!CPU_COUNT(&set) || pthread_setaffinity_np(pair.thread, sizeof(set), &set))
		return;
	uint64_t until = bench_now_ns() + PAIR_MOVE_NS;
	while (atomic_load(&pair.cpu) == mine && bench_now_ns() < until)
		sched_yield();
}

uint64_t bench_pair_run(void (*job)(void *arg), void *const args[2])
{
	if (!pair.started) {
		if (pthread_create(&pair.thread, NULL, second_main, NULL))
			return 0;
		pair.started = true;
		pin(pair.thread, 1);
		pin(pthread_self(), 0);
	}
	atomic_store(&pair.ready, false);
	atomic_store(&pair.go, false);
	atomic_store(&pair.done, false);
	pthread_mutex_lock(&pair.lock);
	pair.job = job;
	pair.arg = args[1];
	atomic_fetch_add(&pair.handed, 1);
	pthread_cond_signal(&pair.wake);
	pthread_mutex_unlock(&pair.lock);

	while (!atomic_load(&pair.ready))
		sched_yield();
	separate();
	atomic_store(&pair.go, true);
	uint64_t t0 = bench_now_ns();
	job(args[0]);
	uint64_t t1 = bench_now_ns();
	while (!atomic_load(&pair.done))
		sched_yield();
	if (pair.t0 < t0)
		t0 = pair.t0;
	if (pair.t1 > t1)
		t1 = pair.t1;
	return t1 - t0;
}

void bench_pair_stop(void)
{
	if (!pair.started)
		return;
	pthread_mutex_lock(&pair.lock);
	pair.stop = true;
	pthread_cond_signal(&pair.wake);
	pthread_mutex_unlock(&pair.lock);
	pthread_join(pair.thread, NULL);
	pair.started = false;
	pair.stop = false;
}
