/* SPDX-License-Identifier: MIT */
/* progress.c - the progress line. */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

void progress_start(struct progress *p, const char *what)
{
	p->shown = isatty(STDERR_FILENO);
	p->what = what;
	p->percent = 101;
}

void progress_update(struct progress *p, uint64_t done, uint64_t total)
{
	unsigned percent = total ? (unsigned)(done * 100.0 / (double)total) : 100;
	if (!p->shown || percent == p->percent)
		return;
	p->percent = percent;
	fprintf(stderr, "\rvpte: %s %3u%%", p->what, percent);
	fflush(stderr);
}

void progress_end(struct progress *p)
{
	if (p->shown && p->percent != 101)
		fprintf(stderr, "\r\033[K");
	p->percent = 101;
}
