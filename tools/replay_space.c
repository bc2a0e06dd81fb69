/* SPDX-License-Identifier: MIT */
/* replay_space.c - rebuilding a process's address space in a format. */
#include "replay_space.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define GiB (1ull << 30)
#define UPPER_HALF (1ull << 63) /* the kernel's half on x86-64 (vsyscall): never replayed */

/* The lowest VA beyond the format's (lower) user space. */
static uint64_t user_limit(const struct vpte_format *fmt)
{
	return 1ull << (fmt->va_bits - (fmt->sign_extend ? 1u : 0u));
}

static uint64_t round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1u) & ~(align - 1u);
}

/* Where placing has got to: host VA @va is at @at in the table. */
struct cursor {
	uint64_t va, at;
};

/* Where host VA @va (at or above c->va) goes: as far on, or a gap over
 * 1 GiB shortened to what keeps @va's offset within its 1 GiB. */
static uint64_t advance(struct cursor *c, uint64_t va, bool compact)
{
	uint64_t gap = va - c->va;
	c->at = compact && gap > GiB ? round_up(c->at, GiB) + (va & (GiB - 1u)) : c->at + gap;
	c->va = va;
	return c->at;
}

/* Sets the extents' deltas and the mappings' ranges: as on the host when the
 * process fits, else with the long gaps shortened. */
static void place(struct replay_space *rs, const struct proc_space *s)
{
	uint64_t limit = user_limit(rs->fmt);
	for (size_t i = 0; i < s->nvmas; i++)
		if (s->vmas[i].start < UPPER_HALF && s->vmas[i].end > limit)
			rs->compacted = true;
	struct cursor c = { 0, 0 };
	size_t e = 0;
	for (size_t i = 0; i < s->nvmas && s->vmas[i].start < UPPER_HALF; i++) {
		rs->range[i][0] = advance(&c, s->vmas[i].start, rs->compacted);
		for (; e < s->nextents && s->extents[e].vma == i; e++) {
			rs->delta[e] = s->extents[e].va - advance(&c, s->extents[e].va, rs->compacted);
			advance(&c, s->extents[e].va + s->extents[e].size, false);
		}
		rs->range[i][1] = advance(&c, s->vmas[i].end, rs->compacted);
	}
}

void replay_space_range(const struct replay_space *rs, const struct proc_space *s, size_t i,
			uint64_t *start, uint64_t *size)
{
	(void)s;
	uint64_t granule = 1ull << rs->fmt->granule_shift;
	*start = rs->range[i][0] & ~(granule - 1u);
	*size = round_up(rs->range[i][1], granule) - *start;
}

static struct vpte_prot vma_prot(const struct proc_vma *v)
{
	struct vpte_prot prot = { VPTE_R | VPTE_U, VPTE_MT_WB, 0 };
	if (v->perms[1] == 'w')
		prot.flags |= VPTE_W;
	if (v->perms[2] == 'x')
		prot.flags |= VPTE_X;
	return prot;
}

/* Maps every extent; returns 0 or -1 after printing why. */
static int map_extents(struct replay_space *rs, const struct proc_space *s)
{
	const struct vpte_format *fmt = rs->fmt;
	unsigned gshift = fmt->granule_shift;
	uint64_t granule = 1ull << gshift, mapped_end = 0;
	bool real_pa = gshift == s->page_shift; /* else PA = VA, see replay_space.h */
	for (size_t i = 0; i < s->nextents; i++) {
		const struct proc_extent *e = &s->extents[i];
		const struct proc_vma *v = &s->vmas[e->vma];
		if (v->start >= UPPER_HALF) {
			rs->skipped += e->size;
			continue;
		}
		uint64_t start = (e->va - rs->delta[i]) & ~(granule - 1u);
		uint64_t end = round_up(e->va - rs->delta[i] + e->size, granule);
		if (start < mapped_end) /* a granule page the previous extent mapped */
			start = mapped_end;
		if (start >= end)
			continue;
		uint64_t pa = e->piece_shift || !real_pa ? start : e->pa;
		struct vpte_map_opts opts = { 0, 0 };
		if (e->piece_shift)
			opts.max_shift = e->piece_shift > gshift ? e->piece_shift : gshift;
		int err = vpte_map(&rs->table, vpte_va(start), vpte_pa(pa), end - start, vma_prot(v),
				   &opts);
		if (err) {
			fprintf(stderr, "vpte: replay: %s: mapping 0x%" PRIx64 "-0x%" PRIx64
				" %s at 0x%" PRIx64 ": %s\n", fmt->name, v->start, v->end, v->path,
				start, vpte_strerror(err));
			return -1;
		}
		mapped_end = end;
	}
	return 0;
}

int replay_space_build(struct replay_space *rs, const struct vpte_format *fmt,
		       const struct proc_space *s)
{
	*rs = (struct replay_space){ .fmt = fmt };
	rs->delta = calloc(s->nextents ? s->nextents : 1u, sizeof(*rs->delta));
	rs->range = calloc(s->nvmas ? s->nvmas : 1u, sizeof(*rs->range));
	int err = rs->delta && rs->range ? vpte_table_init(&rs->table, fmt, vpte_heap_mem(&rs->heap))
					 : -VPTE_ENOMEM;
	if (err) {
		fprintf(stderr, "vpte: replay: %s: top table: %s\n", fmt->name, vpte_strerror(err));
		free(rs->delta);
		free(rs->range);
		rs->delta = NULL;
		rs->range = NULL;
		return -1;
	}
	place(rs, s);
	if (map_extents(rs, s))
		return -1;
	if ((err = vpte_stats_table(&rs->table, &rs->stats))) {
		fprintf(stderr, "vpte: replay: %s: stats: %s\n", fmt->name, vpte_strerror(err));
		return -1;
	}
	return 0;
}

void replay_space_release(struct replay_space *rs)
{
	if (rs->delta)
		vpte_table_destroy(&rs->table);
	free(rs->delta);
	free(rs->range);
	rs->delta = NULL;
	rs->range = NULL;
}
