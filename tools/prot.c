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

static bool parse_flags(const char *text, size_t len, uint32_t *flags, const char **why)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '-')
			continue;
		const char *letter = memchr(flag_letters, text[i], sizeof(flag_letters) - 1u);
		if (!letter) {
			*why = "unknown attribute letter (use r w x u g a d s)";
			return false;
		}
		*flags |= flag_bits[letter - flag_letters];
	}
	return true;
}

static bool parse_suffix(const char *text, size_t len, struct vpte_prot *prot, const char **why)
{
	for (unsigned mt = VPTE_MT_WB; mt < VPTE_MT_OTHER; mt++) {
		if (strlen(memtype_names[mt]) == len && !memcmp(text, memtype_names[mt], len)) {
			prot->memtype = mt;
			return true;
		}
	}
	static const char raw_key[] = "raw=";
	char number[32];
	if (len > sizeof(raw_key) - 1u && len - (sizeof(raw_key) - 1u) < sizeof(number) &&
	    !memcmp(text, raw_key, sizeof(raw_key) - 1u)) {
		memcpy(number, text + sizeof(raw_key) - 1u, len - (sizeof(raw_key) - 1u));
		number[len - (sizeof(raw_key) - 1u)] = '\0';
		if (parse_u64(number, &prot->raw))
			return true;
	}
	*why = "unknown attribute suffix (use ,wb ,nc ,device or ,raw=N)";
	return false;
}

bool parse_prot(const char *text, struct vpte_prot *prot, const char **why)
{
	*prot = (struct vpte_prot){ 0, VPTE_MT_WB, 0 };
	size_t len = strcspn(text, ",");
	if (!parse_flags(text, len, &prot->flags, why))
		return false;
	for (text += len; *text; text += len) {
		text++; /* the comma */
		len = strcspn(text, ",");
		if (!parse_suffix(text, len, prot, why))
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
