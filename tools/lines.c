/* SPDX-License-Identifier: MIT */
/* lines.c - reading and splitting input lines. */
#include "lines.h"

#include <string.h>

enum line_status read_line(FILE *in, char buf[LINE_BYTES + 2])
{
	if (!fgets(buf, LINE_BYTES + 2, in))
		return LINE_EOF;
	size_t len = strlen(buf);
	if (len && buf[len - 1u] == '\n') {
		buf[len - 1u] = '\0';
		return LINE_OK;
	}
	if (len <= LINE_BYTES) /* the last line, without a newline */
		return LINE_OK;
	for (int c = fgetc(in); c != EOF && c != '\n'; c = fgetc(in))
		continue;
	return LINE_TOO_LONG;
}

size_t split_words(char *line, char **words, size_t max)
{
	static const char blanks[] = " \t\r\v\f";
	line[strcspn(line, "#")] = '\0';
	size_t count = 0;
	for (char *p = line + strspn(line, blanks); *p; p += strspn(p, blanks)) {
		if (count < max)
			words[count] = p;
		count++;
		p += strcspn(p, blanks);
		if (*p)
			*p++ = '\0';
	}
	return count;
}
