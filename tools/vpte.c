/* SPDX-License-Identifier: MIT */
/* vpte.c - the `vpte` command: usage and dispatch to the verbs. */
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "verbs.h"

static const char usage[] =
	"usage: vpte VERB [OPTIONS] [ARGS]\n"
	"\n"
	"  vpte formats\n"
	"      List the page-table formats: levels, VA and PA bits, leaf and\n"
	"      contiguous-run sizes.\n"
	"  vpte build --format F --base PA [--limit BYTES] -o IMAGE SCRIPT\n"
	"      Run a mapping script (- for stdin) into tables placed in physical\n"
	"      memory from PA upward (at most BYTES, default 1G); write that memory\n"
	"      to IMAGE and print the root, base and size.\n"
	"  vpte translate --format F --image IMAGE [--base PA] [--root PA] VA...\n"
	"      Translate each VA (- reads VAs from stdin, one a line).\n"
	"  vpte dump --format F --image IMAGE [--base PA] [--root PA]\n"
	"           [--max-ranges N] [--max-entries N]\n"
	"      Print every mapping as half-open ranges START-END, coalescing\n"
	"      leaves of one size, attributes and contiguous physical memory.\n"
	"      Stops after N ranges (default 100000) or N visited entries\n"
	"      (default 67108864), printing '# truncated'.\n"
	"      IMAGE is raw memory from --base upward with its top table at --root,\n"
	"      or a QEMU dump-guest-memory ELF file: no --base, and --root only\n"
	"      where the dump holds no CR3 (arm64, RISC-V) or to override it.\n"
	"  vpte convert --from F --to G --image IMAGE [--base PA] [--root PA] -o OUT\n"
	"           [--out-base PA] [--limit BYTES] [--max-entries N]\n"
	"      Re-encode the address space of an image of format F as an image of\n"
	"      format G with tables placed from PA (default: --base) upward; print\n"
	"      the root, base and size like build.  Every mapping must fit G's VA\n"
	"      space; at most N entries are read (default 67108864).  IMAGE may\n"
	"      be a QEMU dump, as for dump (then --out-base is needed).\n"
	"  vpte replay [--pid PID] [--format F|all] [--json] [--svg FILE]\n"
	"           [--presence-only] [--no-scan]\n"
	"      Read a live process's address space (/proc/PID/maps, pagemap;\n"
	"      default: this process), rebuild it in each format (default all)\n"
	"      with its best page sizes, and compare table memory per level,\n"
	"      leaves per size, contiguous runs and TLB entries; --json adds each\n"
	"      mapping's numbers, --svg FILE draws the space and the comparison.\n"
	"      --presence-only ignores page frames; --no-scan reads every pagemap\n"
	"      entry instead of asking PAGEMAP_SCAN for the present ones.\n"
	"  vpte stats --format F --image IMAGE [--base PA] [--root PA] [--json]\n"
	"           [--svg FILE] [--max-entries N]\n"
	"      The same report for the table of an image (raw or QEMU dump).\n"
	"  vpte demo\n"
	"      Build a kernel-and-process address space in every format and\n"
	"      compare table memory, leaf sizes, contiguous runs and TLB entries.\n"
	"\n"
	"Script lines:  map VA PA SIZE PROT [max=SHIFT] [insert]\n"
	"               unmap VA SIZE\n"
	"               protect VA SIZE PROT       (accessed, dirty kept unless in PROT)\n"
	"               split VA SIZE SHIFT        (no leaf larger than 2^SHIFT)\n"
	"               collapse VA SIZE MAXSHIFT  (largest leaves up to 2^MAXSHIFT, 0 any)\n"
	"               # comment\n"
	"Numbers:       0x1000 (hex), 4096 (decimal), 4K (decimal times K, M, G or T = 2^10..2^40)\n"
	"PROT:          letters r w x u g a d s (read write exec user global accessed\n"
	"               dirty special), '-' ignored, then optionally ,nc ,device ,wb\n"
	"               and ,raw=N; printed as fixed columns, e.g. rw-u-a--,device\n"
	"Exit status:   0 ok, 1 error, 2 bad command line, 3 dump truncated\n"
	"See docs/tool.md.\n";

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct verb verbs[] = {
	{ "formats", verb_formats },     { "build", verb_build }, { "translate", verb_translate },
	{ "dump", verb_dump },           { "demo", verb_demo },   { "convert", verb_convert },
	{ "replay", verb_replay },       { "stats", verb_stats },
};

/* True when --help or -h comes before any "--". */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].run(argc - 2, argv + 2);
	fprintf(stderr, "vpte: unknown verb '%s'\nTry 'vpte --help'.\n", argv[1]);
	return EXIT_USAGE;
}
