/* Map a 2 MiB-aligned region, look an address up, list the leaves. */
#include <stdio.h>
#include <vpte/hosted.h>
#include <vpte/vpte.h>

int main(void)
{
	struct vpte_heap heap = { 0 };
	struct vpte_table t;
	struct vpte_walk w;
	struct vpte_prot rw = { VPTE_R | VPTE_W, VPTE_MT_WB, 0 };

	if (vpte_table_init(&t, vpte_format_by_name("x86_64"), vpte_heap_mem(&heap)))
		return 1;
	/* 4 MiB + 8 KiB: two 2 MiB leaves and two 4 KiB leaves. */
	int err = vpte_map(&t, vpte_va(0x40000000), vpte_pa(0x80000000), (4 << 20) + 8192, rw, NULL);
	if (err)
		return fprintf(stderr, "map: %s\n", vpte_strerror(err)), 1;
	if (vpte_seek(&w, &t, vpte_va(0x40201234)) == 0 && w.kind == VPTE_LEAF)
		printf("0x40201234 -> 0x%llx (leaf shift %u)\n",
		       (unsigned long long)(w.pa.addr + (0x40201234 - w.va.addr)), w.shift);
	vpte_for_each_leaf(&w, &t, vpte_va(0x40000000), 1 << 30)
		printf("leaf 0x%llx shift %u\n", (unsigned long long)w.va.addr, w.shift);
	vpte_unmap(&t, vpte_va(0x40000000), (4 << 20) + 8192, NULL);
	vpte_table_destroy(&t);
	return vpte_heap_live_pages(&heap) != 0;
}
