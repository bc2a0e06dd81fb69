/* SPDX-License-Identifier: MIT */
/*
 * proc_space.c - reading a live process's address space from /proc.
 *
 * File formats: Linux Documentation/admin-guide/mm/pagemap.rst (pagemap
 * entries, /proc/kpageflags, the PAGEMAP_SCAN ioctl) and
 * Documentation/filesystems/proc.rst (maps, smaps).
 */
#define _GNU_SOURCE
#include "proc_space.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "grow.h"

/* A pagemap entry: one per page, 64 bits. */
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_PFN_MASK ((1ull << 55) - 1u) /* bits 0-54; zero without CAP_SYS_ADMIN */
#define KPF_THP 22                      /* /proc/kpageflags: part of a transparent huge page */

/* PAGEMAP_SCAN (Linux 6.7, include/uapi/linux/fs.h): the page ranges with
 * given properties, found by a page-table walk that skips empty tables. */
#define PAGE_IS_PRESENT (1ull << 3)
#define PAGE_IS_SWAPPED (1ull << 4)
#define PAGE_IS_HUGE (1ull << 6) /* PMD-mapped THP or HugeTLB */
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

#define PAGES_PER_READ 4096u
#define SCAN_REGIONS 512u

/* Present pages of one mapping, as read: [va, va + size), huge or not, and
 * physically contiguous from pa when frames are known. */
struct page_run {
	uint64_t va, size, pa;
	bool huge;
};

struct reader {
	struct proc_space *s;
	int pagemap, kpageflags;
	bool scan; /* PAGEMAP_SCAN works */
	uint64_t kpf_block, kpf[512]; /* the cached block of kpageflags, block + 1 (0: none) */
	struct page_run *runs;
	size_t nruns, runs_cap;
	proc_progress_fn *progress;
	void *progress_ctx;
	uint64_t done, total; /* pages */
};

static int fail(const struct proc_space *s, const char *what, int err)
{
	if (err == ENOENT || err == ESRCH)
		fprintf(stderr, "vpte: replay: no process %d (%s: it does not exist or exited)\n",
			(int)s->pid, what);
	else
		fprintf(stderr, "vpte: replay: /proc/%d/%s: %s%s\n", (int)s->pid, what, strerror(err),
			err == EACCES || err == EPERM
				? " (another user's process needs root or CAP_SYS_PTRACE)"
				: "");
	return -1;
}

static FILE *open_proc(const struct proc_space *s, const char *what)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)s->pid, what);
	return fopen(path, "re");
}

static int read_maps(struct proc_space *s)
{
	FILE *in = open_proc(s, "maps");
	if (!in)
		return fail(s, "maps", errno);
	char *line = NULL;
	size_t cap = 0, vmas_cap = 0;
	int status = 0;
	while (getline(&line, &cap, in) > 0) {
		struct proc_vma v = { 0 };
		int path_at = 0;
		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %*s %*s %*s %n", &v.start, &v.end,
			   v.perms, &path_at) < 3 ||
		    !path_at || v.end <= v.start) {
			fprintf(stderr, "vpte: replay: /proc/%d/maps: unexpected line '%s'\n",
				(int)s->pid, line);
			status = -1;
			break;
		}
		struct proc_vma *grown = grow_array(s->vmas, &vmas_cap, s->nvmas, sizeof(*grown));
		if (!grown) {
			status = fail(s, "maps", ENOMEM);
			break;
		}
		s->vmas = grown;
		if (!(v.path = strdup(line + path_at))) {
			status = fail(s, "maps", ENOMEM);
			break;
		}
		s->vmas[s->nvmas++] = v;
	}
	if (!status && ferror(in))
		status = fail(s, "maps", errno);
	free(line);
	fclose(in);
	if (!status && !s->nvmas) /* a zombie's maps are empty */
		status = fail(s, "maps", ESRCH);
	return status;
}

static struct proc_vma *find_vma(struct proc_space *s, uint64_t start)
{
	size_t lo = 0, hi = s->nvmas;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->vmas[mid].start == start)
			return &s->vmas[mid];
		if (s->vmas[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Rss, Swap, AnonHugePages and FilePmdMapped of each mapping; missing smaps is not an error. */
static void read_smaps(struct proc_space *s)
{
	FILE *in = open_proc(s, "smaps");
	if (!in)
		return;
	char *line = NULL;
	size_t cap = 0;
	struct proc_vma *v = NULL;
	while (getline(&line, &cap, in) > 0) {
		uint64_t start, end, kb;
		char key[32];
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &start, &end) == 2) {
			if ((v = find_vma(s, start)) && v->end != end)
				v = NULL; /* the mapping changed since maps was read */
			if (v)
				v->smaps_seen = true;
		} else if (v && sscanf(line, "%31[^:]: %" SCNu64 " kB", key, &kb) == 2) {
			if (!strcmp(key, "Rss"))
				v->smaps_rss_bytes = kb << 10;
			else if (!strcmp(key, "Swap"))
				v->smaps_swap_bytes = kb << 10;
			else if (!strcmp(key, "AnonHugePages") || !strcmp(key, "FilePmdMapped"))
				v->smaps_huge_bytes += kb << 10;
		}
	}
	free(line);
	fclose(in);
}

static int add_run(struct reader *r, uint64_t va, uint64_t size, uint64_t pa, bool huge)
{
	struct page_run *last = r->nruns ? &r->runs[r->nruns - 1] : NULL;
	bool pfns = r->s->pfns_known;
	if (last && last->va + last->size == va && last->huge == huge &&
	    (!pfns || last->pa + last->size == pa)) {
		last->size += size;
		return 0;
	}
	struct page_run *grown = grow_array(r->runs, &r->runs_cap, r->nruns, sizeof(*grown));
	if (!grown)
		return -1;
	r->runs = grown;
	r->runs[r->nruns++] = (struct page_run){ va, size, pa, huge };
	return 0;
}

/* Whether page frame @pfn is part of a transparent huge page (false when unreadable). */
static bool frame_is_huge(struct reader *r, uint64_t pfn)
{
	if (r->kpageflags < 0)
		return false;
	uint64_t block = pfn / 512u;
	if (r->kpf_block != block + 1) {
		ssize_t got = pread(r->kpageflags, r->kpf, sizeof(r->kpf), (off_t)(block * 4096u));
		if (got < (ssize_t)sizeof(r->kpf))
			memset((char *)r->kpf + (got > 0 ? got : 0), 0,
			       sizeof(r->kpf) - (size_t)(got > 0 ? got : 0));
		r->kpf_block = block + 1;
	}
	return r->kpf[pfn % 512u] >> KPF_THP & 1u;
}

static void progress(struct reader *r, uint64_t pages)
{
	uint64_t before = r->done;
	r->done += pages;
	if (r->progress && (r->done >> 16 != before >> 16 || r->done == r->total))
		r->progress(r->progress_ctx, r->done, r->total);
}

/*
 * Reads the pagemap entries of [va, end) of @v; @huge is what the scan
 * said (false without a scan, then kpageflags decides); @count: report
 * progress (the scan reports its own).  Returns 0 or an errno.
 */
static int read_entries(struct reader *r, struct proc_vma *v, uint64_t va, uint64_t end,
			bool huge, bool count)
{
	static uint64_t entries[PAGES_PER_READ];
	unsigned shift = r->s->page_shift;
	while (va < end) {
		uint64_t pages = (end - va) >> shift;
		size_t want = pages < PAGES_PER_READ ? (size_t)pages : PAGES_PER_READ;
		ssize_t got = pread(r->pagemap, entries, want * 8u, (off_t)((va >> shift) * 8u));
		if (got < 0)
			return errno;
		size_t n = (size_t)got / 8u;
		if (!n) { /* beyond what pagemap shows (vsyscall), or the process exited */
			n = want;
			memset(entries, 0, want * 8u);
		}
		for (size_t i = 0; i < n; i++, va += 1ull << shift) {
			uint64_t e = entries[i], pfn = e & PM_PFN_MASK;
			if (e & PM_SWAPPED)
				v->swapped_bytes += 1ull << shift;
			if (!(e & PM_PRESENT))
				continue;
			v->present_bytes += 1ull << shift;
			bool page_huge = huge || (r->s->pfns_known && frame_is_huge(r, pfn));
			if (add_run(r, va, 1ull << shift, pfn << shift, page_huge))
				return ENOMEM;
		}
		if (count)
			progress(r, n);
	}
	return 0;
}

/* Reads the present and swapped pages of @v with PAGEMAP_SCAN, then their entries. */
static int scan_vma(struct reader *r, struct proc_vma *v)
{
	struct page_region regions[SCAN_REGIONS];
	uint64_t at = v->start;
	while (at < v->end) {
		struct pm_scan_arg arg = {
			.size = sizeof(arg), .start = at, .end = v->end,
			.vec = (uint64_t)(uintptr_t)regions, .vec_len = SCAN_REGIONS,
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_HUGE,
		};
		int n = ioctl(r->pagemap, PAGEMAP_SCAN, &arg);
		/* The scan refuses a range above the user address space (x86's
		 * [vsyscall]: EFAULT, on the first call as it checks the whole
		 * range), where pagemap reads show no page.  smaps says the
		 * mapping is empty and it is skipped, unless the process exited
		 * before smaps was read. */
		if (n < 0 && errno == EFAULT && at == v->start)
			return read_entries(r, v, v->start, v->end, false, true);
		if (n < 0)
			return errno;
		for (int i = 0; i < n; i++) {
			int err = read_entries(r, v, regions[i].start, regions[i].end,
					       regions[i].categories & PAGE_IS_HUGE, false);
			if (err)
				return err;
		}
		if (arg.walk_end <= at)
			return EIO;
		progress(r, (arg.walk_end - at) >> r->s->page_shift);
		at = arg.walk_end;
	}
	return 0;
}

static int add_extent(struct proc_space *s, struct proc_extent e)
{
	struct proc_extent *last = s->nextents ? &s->extents[s->nextents - 1] : NULL;
	if (last && last->vma == e.vma && last->piece_shift == e.piece_shift && e.piece_shift &&
	    last->va + last->size == e.va) {
		last->size += e.size; /* synthesised PAs: pa == va */
		last->pa = last->va;
		return 0;
	}
	struct proc_extent *grown = grow_array(s->extents, &s->extents_cap, s->nextents,
					       sizeof(*grown));
	if (!grown)
		return -1;
	s->extents = grown;
	s->extents[s->nextents++] = e;
	return 0;
}

/*
 * The bytes of @run in huge pages.  PAGEMAP_SCAN's PAGE_IS_HUGE means
 * PMD-mapped; KPF_THP marks every page of a transparent huge page, also
 * one mapped by 4 KiB entries, so with kpageflags only the spans a PMD
 * could map count: huge-aligned in VA and PA, and whole.
 */
static uint64_t huge_part(const struct proc_space *s, const struct page_run *run)
{
	uint64_t huge = 1ull << s->huge_shift;
	if (s->huge_from != HUGE_FROM_KPAGEFLAGS)
		return run->size;
	if ((run->va ^ run->pa) & (huge - 1u))
		return 0;
	uint64_t first = (run->va + huge - 1u) & ~(huge - 1u);
	uint64_t end = (run->va + run->size) & ~(huge - 1u);
	return end > first ? end - first : 0;
}

/*
 * Turns the runs of mapping @index into extents.  Real frames: a run is
 * physically contiguous, whatever its size.  Hidden frames: only a huge
 * page is known to be; where the scan and kpageflags could not say which
 * pages are huge, smaps' count of huge bytes is placed at the mapping's
 * first fully present, huge-aligned spans.
 */
static int make_extents(struct reader *r, size_t index)
{
	struct proc_space *s = r->s;
	struct proc_vma *v = &s->vmas[index];
	uint64_t huge = 1ull << s->huge_shift;
	uint64_t budget = s->huge_from == HUGE_FROM_SMAPS ? v->smaps_huge_bytes / huge : 0;
	if (budget && s->pfns_known) { /* the frames place the pages; smaps only counts */
		v->huge_bytes = v->smaps_huge_bytes;
		budget = 0;
	}
	for (size_t i = 0; i < r->nruns; i++) {
		const struct page_run *run = &r->runs[i];
		if (run->huge)
			v->huge_bytes += huge_part(s, run);
		if (s->pfns_known) {
			if (add_extent(s, (struct proc_extent){ run->va, run->pa, run->size, 0, index }))
				return -1;
			continue;
		}
		for (uint64_t va = run->va, end = run->va + run->size, next; va < end; va = next) {
			bool is_huge = run->huge;
			if (is_huge) {
				next = end;
			} else if (budget && !(va & (huge - 1u)) && end - va >= huge) {
				is_huge = true;
				next = va + huge;
				budget--;
				v->huge_bytes += huge;
			} else { /* loose pages, up to where a huge span could start */
				uint64_t boundary = (va | (huge - 1u)) + 1u;
				next = budget && boundary < end ? boundary : end;
			}
			struct proc_extent e = { va, va, next - va,
						 is_huge ? s->huge_shift : s->page_shift, index };
			if (add_extent(s, e))
				return -1;
		}
	}
	return 0;
}

static int read_vma(struct reader *r, size_t index)
{
	struct proc_vma *v = &r->s->vmas[index];
	int err = 0;
	r->nruns = 0;
	/* smaps says nothing is there: skip reading (a sanitizer's terabytes of shadow) */
	if (v->smaps_seen && !v->smaps_rss_bytes && !v->smaps_swap_bytes)
		progress(r, (v->end - v->start) >> r->s->page_shift);
	else if (r->scan)
		err = scan_vma(r, v);
	else
		err = read_entries(r, v, v->start, v->end, false, true);
	if (!err && make_extents(r, index))
		err = ENOMEM;
	return err;
}

/* Whether the process still has its memory: a zombie's maps read empty. */
static bool still_alive(const struct proc_space *s)
{
	FILE *in = open_proc(s, "maps");
	if (!in)
		return false;
	bool alive = fgetc(in) != EOF;
	fclose(in);
	return alive;
}

static void read_comm(struct proc_space *s)
{
	FILE *in = open_proc(s, "comm");
	if (!in)
		return;
	if (fgets(s->command, sizeof(s->command), in))
		s->command[strcspn(s->command, "\n")] = 0;
	fclose(in);
}

/* Frames are shown to CAP_SYS_ADMIN only: is one present page's frame non-zero?
 * (The first 64 pages of each mapping are looked at.) */
static bool frames_visible(const struct proc_space *s, int pagemap)
{
	for (size_t i = 0; i < s->nvmas; i++) {
		uint64_t e, page = 1ull << s->page_shift;
		for (uint64_t va = s->vmas[i].start; va < s->vmas[i].end && va - s->vmas[i].start <
		     64 * page; va += page)
			if (pread(pagemap, &e, 8, (off_t)((va >> s->page_shift) * 8u)) == 8 &&
			    (e & PM_PRESENT))
				return (e & PM_PFN_MASK) != 0;
	}
	return false;
}

int proc_space_read(struct proc_space *s, pid_t pid, bool presence_only, bool use_scan,
		    proc_progress_fn *progress_fn, void *progress_ctx)
{
	*s = (struct proc_space){ .pid = pid };
	long page = sysconf(_SC_PAGESIZE);
	while ((1l << s->page_shift) < page)
		s->page_shift++;
	s->huge_shift = s->page_shift + 9u; /* a PMD of 512 entries: 2 MiB with 4 KiB pages */
	read_comm(s);
	if (read_maps(s))
		return proc_space_release(s), -1;
	read_smaps(s);

	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	struct reader r = { .s = s, .kpageflags = -1, .progress = progress_fn,
			    .progress_ctx = progress_ctx };
	if ((r.pagemap = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int err = errno;
		proc_space_release(s);
		return fail(s, "pagemap", err);
	}
	for (size_t i = 0; i < s->nvmas; i++)
		r.total += (s->vmas[i].end - s->vmas[i].start) >> s->page_shift;

	/* An empty scan: does the kernel have PAGEMAP_SCAN (Linux 6.7)? */
	struct pm_scan_arg probe = { .size = sizeof(probe), .start = s->vmas[0].start,
				     .end = s->vmas[0].start };
	r.scan = use_scan && ioctl(r.pagemap, PAGEMAP_SCAN, &probe) == 0;
	s->pfns_known = !presence_only && frames_visible(s, r.pagemap);
	if (s->pfns_known && !r.scan)
		r.kpageflags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	s->huge_from = HUGE_FROM_NONE;
	if (r.scan)
		s->huge_from = HUGE_FROM_SCAN;
	else if (r.kpageflags >= 0)
		s->huge_from = HUGE_FROM_KPAGEFLAGS;
	else if (s->nvmas && s->vmas[0].smaps_seen)
		s->huge_from = HUGE_FROM_SMAPS;

	int err = 0;
	for (size_t i = 0; i < s->nvmas && !err; i++)
		err = read_vma(&r, i);
	free(r.runs);
	close(r.pagemap);
	if (r.kpageflags >= 0)
		close(r.kpageflags);
	if (!err && !still_alive(s))
		err = ESRCH;
	if (err) {
		proc_space_release(s);
		if (err == ESRCH)
			fprintf(stderr, "vpte: replay: process %d exited while it was read\n",
				(int)pid);
		else
			fail(s, "pagemap", err);
		return -1;
	}
	return 0;
}

void proc_space_release(struct proc_space *s)
{
	for (size_t i = 0; i < s->nvmas; i++)
		free(s->vmas[i].path);
	free(s->vmas);
	free(s->extents);
	s->vmas = NULL;
	s->extents = NULL;
	s->nvmas = s->nextents = s->extents_cap = 0;
}
