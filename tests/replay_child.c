/* SPDX-License-Identifier: MIT */
/*
 * replay_child.c - a process for tests/test_replay.sh to replay: a file
 * mapping (every page read), anonymous memory kept to 4 KiB pages (every
 * other page written), and a 4 MiB region aligned to 2 MiB and advised
 * MADV_HUGEPAGE (every page written, so transparent huge pages back it
 * where the kernel can; none collapsed later), plus an exited child left
 * unreaped (a zombie).
 * Prints "NAME ADDRESS" lines, then waits until stdin closes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define KiB (1ul << 10)
#define MiB (1ul << 20)

static void *map(size_t size, int prot, int flags, int fd)
{
	void *p = mmap(NULL, size, prot, flags, fd, 0);
	if (p == MAP_FAILED) {
		perror("replay_child: mmap");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: replay_child FILE-OF-1MiB\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	volatile unsigned char *file = map(MiB, PROT_READ, MAP_PRIVATE, fd);
	unsigned sum = 0;
	for (size_t off = 0; off < MiB; off += 4 * KiB)
		sum += file[off];

	unsigned char *anon = map(MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	madvise(anon, MiB, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < MiB; off += 8 * KiB)
		anon[off] = 1;

	/* 8 MiB, trimmed to the 4 MiB inside it that start on a 2 MiB boundary. */
	unsigned char *big = map(8 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	unsigned char *thp = (unsigned char *)(((uintptr_t)big + 2 * MiB - 1) & ~(2 * MiB - 1));
	if (thp > big)
		munmap(big, (size_t)(thp - big));
	munmap(thp + 4 * MiB, (size_t)(big + 8 * MiB - (thp + 4 * MiB)));
	madvise(thp, 4 * MiB, MADV_HUGEPAGE);
	for (size_t off = 0; off < 4 * MiB; off += 4 * KiB)
		thp[off] = 1;

	/* What the test reads in smaps must stay what the replay finds:
	 * khugepaged must not collapse the region later where the fault gave
	 * it small pages (existing huge pages stay). */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);

	pid_t zombie = fork();
	if (zombie == 0)
		_exit(0);

	printf("file %p\nanon %p\nthp %p\nzombie %d\nsum %u\n", (void *)file, (void *)anon,
	       (void *)thp, (int)zombie, sum);
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
