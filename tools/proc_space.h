/* SPDX-License-Identifier: MIT */
/*
 * proc_space.h - a live process's address space as Linux shows it:
 * /proc/PID/maps (the mappings), /proc/PID/pagemap (which pages are
 * present, and their page frames when the reader may see them),
 * /proc/kpageflags (which frames belong to transparent huge pages, when
 * readable) and /proc/PID/smaps (each mapping's AnonHugePages and
 * FilePmdMapped, the fallback for huge pages when frames are hidden).
 *
 * The result is a list of *extents*: runs of present pages of one mapping
 * that are known to be physically contiguous, the unit `vpte replay` maps
 * with one vpte_map() call.
 */
#ifndef VPTE_TOOL_PROC_SPACE_H
#define VPTE_TOOL_PROC_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One line of /proc/PID/maps, with what the other files say about it. */
struct proc_vma {
	uint64_t start, end;
	char perms[5]; /* "rw-p" */
	char *path;    /* "" for anonymous memory */
	uint64_t present_bytes; /* pagemap: present pages */
	uint64_t swapped_bytes; /* pagemap: swapped pages */
	uint64_t huge_bytes;    /* in transparent huge pages, by kpageflags or smaps */
	uint64_t smaps_rss_bytes, smaps_swap_bytes; /* smaps: Rss, Swap */
	uint64_t smaps_huge_bytes;                  /* smaps: AnonHugePages + FilePmdMapped */
	bool smaps_seen;
};

/*
 * Physical memory [pa, pa + size) at [va, va + size).  @piece_shift is the
 * largest power-of-two piece known to be physically contiguous: 0 when the
 * real page frames say the whole extent is (pa is then real), otherwise the
 * page shift or the huge-page shift, with pa synthesised as va.
 */
struct proc_extent {
	uint64_t va, pa, size;
	unsigned piece_shift;
	size_t vma;
};

enum huge_source {
	HUGE_FROM_NONE,       /* none of the below could be read */
	HUGE_FROM_SCAN,       /* PAGEMAP_SCAN's PAGE_IS_HUGE (Linux 6.7) */
	HUGE_FROM_KPAGEFLAGS, /* KPF_THP on the frames */
	HUGE_FROM_SMAPS,      /* smaps byte counts, placed at the first fully present spans */
};

struct proc_space {
	pid_t pid;
	char command[64]; /* /proc/PID/comm */
	unsigned page_shift, huge_shift;
	bool pfns_known;
	enum huge_source huge_from;
	struct proc_vma *vmas;
	size_t nvmas;
	struct proc_extent *extents;
	size_t nextents, extents_cap;
};

/* Called now and then while pages are read: @done of @total pages. */
typedef void proc_progress_fn(void *ctx, uint64_t done, uint64_t total);

/*
 * proc_space_read - read process @pid's address space into @s.
 * @presence_only: ignore page frames even where readable (what an
 *                 unprivileged reader sees).
 * @use_scan:      find present pages with the PAGEMAP_SCAN ioctl where the
 *                 kernel has it, rather than reading every entry.
 * @progress:      called now and then, NULL for none.
 *
 * Returns 0, or -1 after printing why, as "vpte: replay: ...": no such
 * process, permission denied, the process exited while it was read.
 */
int proc_space_read(struct proc_space *s, pid_t pid, bool presence_only, bool use_scan,
		    proc_progress_fn *progress, void *progress_ctx);

void proc_space_release(struct proc_space *s);

#endif
