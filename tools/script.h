/* SPDX-License-Identifier: MIT */
/*
 * script.h - mapping scripts: one command a line,
 *
 *   map VA PA SIZE PROT [max=SHIFT] [insert]
 *   unmap VA SIZE
 *   protect VA SIZE PROT        (attributes become PROT; accessed, dirty kept)
 *   split VA SIZE SHIFT         (leaves no larger than 2^SHIFT)
 *   collapse VA SIZE MAXSHIFT   (leaves as large as they can be, up to 2^MAXSHIFT; 0: any)
 *
 * with blank lines and '#' comments.  Numbers as in numbers.h, PROT as in
 * prot.h.
 */
#ifndef VPTE_TOOL_SCRIPT_H
#define VPTE_TOOL_SCRIPT_H

#include <stdio.h>

#include "vpte/vpte.h"

/*
 * run_script - apply every command of @in to @t, in order.  @name is the
 * script's name in messages.  Stops at the first error, which it prints
 * as "NAME:LINE: COMMAND: REASON"; returns 0 or -1.
 */
int run_script(struct vpte_table *t, FILE *in, const char *name);

#endif
