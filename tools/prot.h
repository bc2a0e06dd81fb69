/* SPDX-License-Identifier: MIT */
/*
 * prot.h - the PROT syntax: attribute letters, then optional ",MEMTYPE" and
 * ",raw=N" parts.  Printing gives eight fixed columns "rwxugads" with '-'
 * for a clear flag, so one printed PROT is also accepted by the parser.
 */
#ifndef VPTE_TOOL_PROT_H
#define VPTE_TOOL_PROT_H

#include <stdbool.h>

#include "vpte/vpte.h"

/*
 * parse_prot - "rw", "rw-ug,device", "r-x,raw=0x400".
 * Returns false and sets *@why to a reason for a syntax error.
 */
bool parse_prot(const char *text, struct vpte_prot *prot, const char **why);

struct prot_text {
	char s[64];
};
struct prot_text prot_text(struct vpte_prot prot);

#endif
