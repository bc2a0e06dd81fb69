/* SPDX-License-Identifier: MIT */
/* verb_formats.c - `vpte formats`: the built-in formats, one a line. */
#include <stdio.h>

#include "numbers.h"
#include "options.h"
#include "verbs.h"

static void print_format(const struct vpte_format *fmt)
{
	printf("%-13s levels=%u va_bits=%u pa_bits=%u leaves=", fmt->name, fmt->levels,
	       fmt->va_bits, fmt->pa_bits);
	const char *sep = "";
	for (unsigned level = 0; level < fmt->levels; level++) {
		if (fmt->leaf_levels & (1u << level)) {
			printf("%s%s", sep, size_text(1ull << vpte_level_shift(fmt, level)).s);
			sep = ",";
		}
	}
	printf(" contiguous=");
	sep = "";
	for (unsigned level = 0; level < fmt->levels; level++) {
		if (fmt->cont_bits[level]) {
			unsigned shift = vpte_level_shift(fmt, level);
			printf("%s%s(%ux%s)", sep, size_text(1ull << (shift + fmt->cont_bits[level])).s,
			       1u << fmt->cont_bits[level], size_text(1ull << shift).s);
			sep = ",";
		}
	}
	printf("%s\n", *sep ? "" : "none");
}

int verb_formats(int argc, char **argv)
{
	int nargs = parse_options("formats", argc, argv, NULL, 0);
	if (nargs < 0)
		return EXIT_USAGE;
	if (nargs)
		return usage_error("formats", "takes no arguments");
	size_t count;
	const struct vpte_format *const *formats = vpte_formats(&count);
	for (size_t i = 0; i < count; i++)
		print_format(formats[i]);
	return EXIT_OK;
}
