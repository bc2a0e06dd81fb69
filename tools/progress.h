/* SPDX-License-Identifier: MIT */
/*
 * progress.h - a one-line progress indicator on stderr for long work,
 * shown only when stderr is a terminal (never in pipes, files or tests).
 */
#ifndef VPTE_TOOL_PROGRESS_H
#define VPTE_TOOL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool shown; /* stderr is a terminal */
	const char *what;
	unsigned percent; /* last shown, 101 for none yet */
};

/* progress_start - begin a step named @what ("reading pages"). */
void progress_start(struct progress *p, const char *what);

/* progress_update - @done of @total; redraws when the percentage changes. */
void progress_update(struct progress *p, uint64_t done, uint64_t total);

/* progress_end - erase the line. */
void progress_end(struct progress *p);

#endif
