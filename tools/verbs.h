/* SPDX-License-Identifier: MIT */
/*
 * verbs.h - the tool's verbs.  Each takes the words after the verb name
 * and returns an enum tool_exit code.
 */
#ifndef VPTE_TOOL_VERBS_H
#define VPTE_TOOL_VERBS_H

int verb_formats(int argc, char **argv);
int verb_build(int argc, char **argv);
int verb_translate(int argc, char **argv);
int verb_dump(int argc, char **argv);
int verb_demo(int argc, char **argv);
int verb_convert(int argc, char **argv);
int verb_replay(int argc, char **argv);
int verb_stats(int argc, char **argv);

/* The most memory a verb that writes an image (build, convert) grows its
 * arena to unless told (--limit): enough for any sane table, small enough
 * that a typo or a hostile input cannot eat the host. */
#define DEFAULT_ARENA_LIMIT (1ull << 30)

#endif
