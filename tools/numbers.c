/* SPDX-License-Identifier: MIT */
/* numbers.c - number parsing and size printing. */
#include "numbers.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Binary units, each 1024 times the previous: K, M, G, T, P, E. */
static const char units[] = "KMGTPE";

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool accumulate(uint64_t *value, unsigned base, int digit)
{
	if (*value > (UINT64_MAX - (unsigned)digit) / base)
		return false;
	*value = *value * base + (unsigned)digit;
	return true;
}

bool parse_u64(const char *text, uint64_t *value)
{
	unsigned base = 10;
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		base = 16;
		text += 2;
	}
	uint64_t v = 0;
	const char *p = text;
	for (int d; (d = digit_value(*p)) >= 0 && (unsigned)d < base; p++)
		if (!accumulate(&v, base, d))
			return false;
	if (p == text)
		return false;
	/* Only decimal takes a unit: in hex, "B"..."F" would be digits. */
	if (base == 10 && *p) {
		const char *unit = strchr(units, *p);
		if (!unit || unit - units > 3 || p[1])
			return false;
		unsigned shift = 10u * (unsigned)(unit - units + 1);
		if (v > UINT64_MAX >> shift)
			return false;
		v <<= shift;
		p++;
	}
	if (*p)
		return false;
	*value = v;
	return true;
}

struct size_text size_text(uint64_t bytes)
{
	struct size_text t;
	unsigned unit = 0;
	while (bytes && bytes % 1024u == 0 && unit < sizeof(units) - 1u) {
		bytes /= 1024u;
		unit++;
	}
	if (unit)
		snprintf(t.s, sizeof(t.s), "%" PRIu64 "%c", bytes, units[unit - 1u]);
	else
		snprintf(t.s, sizeof(t.s), "%" PRIu64, bytes);
	return t;
}
