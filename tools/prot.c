/* SPDX-License-Identifier: MIT */
/* prot.c - PROT parsing and printing. */
#include "prot.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "numbers.h"

/* The letters in print order; flag_letters[i] stands for flag_bits[i]. */
static const char flag_letters[] = "rwxugads";
static const uint32_t flag_bits[] = { VPTE_R, VPTE_W, VPTE_X, VPTE_U,
				      VPTE_G, VPTE_A, VPTE_D, VPTE_SPECIAL };

/* Indexed by enum vpte_memtype; "other" is printed only, never parsed. */
static const char *const memtype_names[] = { "wb", "nc", "device", "other" };

static bool parse_flags(const char *letters, uint32_t *flags, const char **why)
{
	for (; *letters; letters++) {
		if (*letters == '-')
			continue;
		const char *letter = strchr(flag_letters, *letters);
		if (!letter) {
			*why = "unknown attribute letter (use r w x u g a d s)";
			return false;
		}
		*flags |= flag_bits[letter - flag_letters];
	}
	return true;
}

static bool parse_suffix(const char *suffix, struct vpte_prot *prot, const char **why)
{
	static const char raw_key[] = "raw=";
	for (unsigned mt = VPTE_MT_WB; mt < VPTE_MT_OTHER; mt++) {
		if (!strcmp(suffix, memtype_names[mt])) {
			prot->memtype = mt;
			return true;
		}
	}
	if (!strncmp(suffix, raw_key, sizeof(raw_key) - 1u) &&
	    parse_u64(suffix + sizeof(raw_key) - 1u, &prot->raw))
		return true;
	*why = "unknown attribute suffix (use ,wb ,nc ,device or ,raw=N)";
	return false;
}

bool parse_prot(const char *text, struct vpte_prot *prot, const char **why)
{
	char parts[64]; /* text, split in place at its commas */
	if (strlen(text) >= sizeof(parts)) {
		*why = "too long";
		return false;
	}
	strcpy(parts, text);
	*prot = (struct vpte_prot){ 0, VPTE_MT_WB, 0 };
	char *comma = strchr(parts, ',');
	if (comma)
		*comma = '\0';
	if (!parse_flags(parts, &prot->flags, why))
		return false;
	while (comma) {
		char *suffix = comma + 1;
		if ((comma = strchr(suffix, ',')))
			*comma = '\0';
		if (!parse_suffix(suffix, prot, why))
			return false;
	}
	return true;
}

struct prot_text prot_text(struct vpte_prot prot)
{
	struct prot_text t;
	size_t n = 0;
	for (size_t i = 0; i < sizeof(flag_bits) / sizeof(flag_bits[0]); i++)
		t.s[n++] = (prot.flags & flag_bits[i]) ? flag_letters[i] : '-';
	t.s[n] = '\0';
	if (prot.memtype != VPTE_MT_WB)
		n += (size_t)snprintf(t.s + n, sizeof(t.s) - n, ",%s",
				      memtype_names[prot.memtype <= VPTE_MT_OTHER ? prot.memtype
										: VPTE_MT_OTHER]);
	if (prot.raw)
		snprintf(t.s + n, sizeof(t.s) - n, ",raw=0x%" PRIx64, prot.raw);
	return t;
}
