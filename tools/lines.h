/* SPDX-License-Identifier: MIT */
/* lines.h - line-oriented input: scripts and VA lists. */
#ifndef VPTE_TOOL_LINES_H
#define VPTE_TOOL_LINES_H

#include <stddef.h>
#include <stdio.h>

/* Longest input line accepted, newline excluded. */
#define LINE_BYTES 1024

enum line_status {
	LINE_OK,
	LINE_EOF,
	LINE_TOO_LONG, /* the rest of the line was skipped */
};

/* read_line - the next line of @in into @buf (LINE_BYTES + 2 bytes), newline removed. */
enum line_status read_line(FILE *in, char buf[LINE_BYTES + 2]);

/*
 * split_words - split @line in place at blanks, dropping a '#' comment.
 * Stores up to @max word pointers and returns how many words there were
 * (possibly more than @max).
 */
size_t split_words(char *line, char **words, size_t max);

#endif
