/* SPDX-License-Identifier: MIT */
/* grow.h - arrays that double as they fill. */
#ifndef VPTE_TOOL_GROW_H
#define VPTE_TOOL_GROW_H

#include <stddef.h>

/*
 * grow_array - room for one more of the @count elements of @size bytes at
 * @items, which has room for *@cap: @items itself when there is, else the
 * array moved to twice the room (64 elements at first) and *@cap updated.
 * Returns NULL when memory runs out; @items is then still valid.
 */
void *grow_array(void *items, size_t *cap, size_t count, size_t size);

#endif
