/* SPDX-License-Identifier: MIT */
/*
 * instantiate.h - stamp the engine out for one format variant.
 *
 *   VPTE_FORMAT(ident, codec, .name = "...", .levels = ..., ...)
 *
 * defines the public constant `vpte_format_<ident>` and a private twin the
 * engine reads.  The twin is static, so the compiler folds its fields into
 * the code (a public object could be interposed in a shared library and
 * would not be folded); both come from the same initializer.
 */
#ifndef VPTE_ENGINE_INSTANTIATE_H
#define VPTE_ENGINE_INSTANTIATE_H

#include "engine/collapse.h"
#include "engine/copy.h"
#include "engine/harvest.h"
#include "engine/leafbits.h"
#include "engine/map.h"
#include "engine/protect.h"
#include "engine/split.h"
#include "engine/table.h"
#include "engine/unmap.h"
#include "engine/walk.h"

#define VPTE_FORMAT(ident, codec, ...)                                                          \
	static const struct vpte_format ident##_desc;                                           \
	static __attribute__((noinline)) int ident##_seek_indirect(struct vpte_walk *w,         \
								   const struct vpte_table *t,  \
								   vpte_va_t va)                \
	{                                                                                       \
		return eng_seek(&ident##_desc, &codec, w, t, va, false);                        \
	}                                                                                       \
	static int ident##_seek(struct vpte_walk *w, const struct vpte_table *t, vpte_va_t va)  \
	{                                                                                       \
		int err = eng_seek(&ident##_desc, &codec, w, t, va, true);                      \
		if (__builtin_expect(err == WALK_INDIRECT, 0))                                  \
			return ident##_seek_indirect(w, t, va);                                 \
		return err;                                                                     \
	}                                                                                       \
	static int ident##_iter_start(struct vpte_walk *w, const struct vpte_table *t,          \
				      vpte_va_t va, uint64_t size, unsigned mode)               \
	{                                                                                       \
		return eng_iter_start(&ident##_desc, &codec, w, t, va, size, mode);             \
	}                                                                                       \
	static __attribute__((noinline)) int ident##_iter_next_full(struct vpte_walk *w)        \
	{                                                                                       \
		return eng_iter_next(&ident##_desc, &codec, w);                                 \
	}                                                                                       \
	static int ident##_iter_next(struct vpte_walk *w)                                       \
	{                                                                                       \
		if (__builtin_expect(iter_step_alike(&ident##_desc, &codec, w), 1))             \
			return 1;                                                               \
		return ident##_iter_next_full(w);                                               \
	}                                                                                       \
	static __attribute__((noinline)) int ident##_map_tables(struct vpte_table *t,           \
								const struct map_req *r)        \
	{                                                                                       \
		return eng_map_tables(&ident##_desc, &codec, t, r);                             \
	}                                                                                       \
	static __attribute__((noinline)) int ident##_map_full(struct vpte_table *t, vpte_va_t va, \
							      vpte_pa_t pa, uint64_t size,        \
							      struct vpte_prot prot,              \
							      const struct vpte_map_opts *opts)   \
	{                                                                                       \
		return eng_map(&ident##_desc, &codec, t, va, pa, size, prot, opts,              \
			       ident##_map_tables);                                             \
	}                                                                                       \
	static __attribute__((noinline)) int ident##_map_slow(struct vpte_table *t, vpte_va_t va, \
							      vpte_pa_t pa, uint64_t size,        \
							      struct vpte_prot prot)              \
	{                                                                                       \
		if (map_page_slow(&ident##_desc, &codec, t, va, pa, prot))                      \
			return 0;                                                               \
		return ident##_map_full(t, va, pa, size, prot, NULL);                           \
	}                                                                                       \
	static int ident##_map(struct vpte_table *t, vpte_va_t va, vpte_pa_t pa, uint64_t size, \
			       struct vpte_prot prot, const struct vpte_map_opts *opts)         \
	{                                                                                       \
		enum map_page_result done =                                                     \
			map_page(&ident##_desc, &codec, t, va, pa, size, prot, opts);           \
		if (__builtin_expect(done == PAGE_MAPPED, 1))                                   \
			return 0;                                                               \
		if (done == PAGE_SLOW)                                                          \
			return ident##_map_slow(t, va, pa, size, prot);                         \
		return ident##_map_full(t, va, pa, size, prot, opts);                           \
	}                                                                                       \
	static int ident##_unmap(struct vpte_table *t, vpte_va_t va, uint64_t size,             \
				 struct vpte_gather *g)                                         \
	{                                                                                       \
		return eng_unmap(&ident##_desc, &codec, t, va, size, g);                        \
	}                                                                                       \
	static int ident##_protect(struct vpte_table *t, vpte_va_t va, uint64_t size,           \
				   struct vpte_prot set, struct vpte_prot clear,                \
				   struct vpte_gather *g)                                       \
	{                                                                                       \
		return eng_protect(&ident##_desc, &codec, t, va, size, set, clear, g);          \
	}                                                                                       \
	static int ident##_split(struct vpte_table *t, vpte_va_t va, uint64_t size,             \
				 unsigned shift, struct vpte_gather *g)                         \
	{                                                                                       \
		return eng_split(&ident##_desc, &codec, t, va, size, shift, g);                 \
	}                                                                                       \
	static int ident##_collapse(struct vpte_table *t, vpte_va_t va, uint64_t size,          \
				    unsigned max_shift, struct vpte_gather *g)                  \
	{                                                                                       \
		return eng_collapse(&ident##_desc, &codec, t, va, size, max_shift, g);          \
	}                                                                                       \
	static int ident##_destroy(struct vpte_table *t)                                        \
	{                                                                                       \
		return eng_destroy(&ident##_desc, &codec, t);                                   \
	}                                                                                       \
	static int64_t ident##_map_piece(const struct vpte_table *t, const struct vpte_piece *p, \
					 struct vpte_pool *pool, struct map_cursor *cur)        \
	{                                                                                       \
		return eng_map_piece(&ident##_desc, &codec, t, p, pool, cur);                   \
	}                                                                                       \
	static int ident##_copy(struct vpte_table *dst, struct vpte_table *src, vpte_va_t va,   \
				uint64_t size, const struct vpte_copy_opts *opts)               \
	{                                                                                       \
		return eng_copy(&ident##_desc, &codec, dst, src, va, size, opts);               \
	}                                                                                       \
	static int ident##_harvest(struct vpte_table *t, vpte_va_t va, uint64_t size,           \
				   uint64_t *bitmap, const struct vpte_harvest_opts *opts)      \
	{                                                                                       \
		return eng_harvest(&ident##_desc, &codec, t, va, size, bitmap, opts);           \
	}                                                                                       \
	static const struct vpte_format_ops ident##_ops = {                                     \
		.entry_codec = &codec,                                                          \
		.seek = ident##_seek,                                                           \
		.iter_start = ident##_iter_start,                                               \
		.iter_next = ident##_iter_next,                                                 \
		.map = ident##_map,                                                             \
		.unmap = ident##_unmap,                                                         \
		.protect = ident##_protect,                                                     \
		.split = ident##_split,                                                         \
		.collapse = ident##_collapse,                                                   \
		.destroy = ident##_destroy,                                                     \
		.map_piece = ident##_map_piece,                                                 \
		.copy = ident##_copy,                                                           \
		.harvest = ident##_harvest,                                                     \
	};                                                                                      \
	static const struct vpte_format ident##_desc = { __VA_ARGS__, .ops = &ident##_ops };    \
	const struct vpte_format vpte_format_##ident = { __VA_ARGS__, .ops = &ident##_ops }

#endif
