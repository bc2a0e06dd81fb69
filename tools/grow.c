/* SPDX-License-Identifier: MIT */
/* grow.c - arrays that double as they fill. */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

void *grow_array(void *items, size_t *cap, size_t count, size_t size)
{
	if (count < *cap)
		return items;
	size_t more = *cap ? 2 * *cap : 64;
	if (more > SIZE_MAX / size)
		return NULL;
	void *grown = realloc(items, more * size);
	if (grown)
		*cap = more;
	return grown;
}
