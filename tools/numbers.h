/* SPDX-License-Identifier: MIT */
/* numbers.h - the number syntax shared by the command line and scripts. */
#ifndef VPTE_TOOL_NUMBERS_H
#define VPTE_TOOL_NUMBERS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * parse_u64 - "0x1f000" (hex), "4096" (decimal) or "4K" (decimal times a
 * binary K, M, G or T).  The whole of @text must be the number.  Returns
 * false for anything else, overflow included.
 */
bool parse_u64(const char *text, uint64_t *value);

/* A byte count in its shortest exact form: 4096 -> "4K", 3 << 30 -> "3G". */
struct size_text {
	char s[24];
};
struct size_text size_text(uint64_t bytes);

#endif
