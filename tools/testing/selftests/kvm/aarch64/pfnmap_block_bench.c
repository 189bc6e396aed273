// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_block_bench - times guest first-touch sweeps of PFNMAP memory.
 * Not a test: it asserts nothing and prints "# BENCH:" lines.
 *
 *   -s  (default) up to 4 GiB of PFNMAP against a hugetlb memslot of the
 *       same size: the cost of a PFNMAP stage-2 fault against THP's.
 *   -c  1 GiB whose last page breaks contiguity (another writability)
 *       against the same 1 GiB with blocks off (pairwise-swapped pfns, so
 *       no block can be proven) and the same 1 GiB fully contiguous: the
 *       cost of a failed 1 GiB proof, bounded by the kernel's memo of it.
 *
 * Each sweep reads one word per page after a warm-up pass that faults in
 * the guest's own page tables, and after the memslot is re-created so
 * that only the region's stage-2 faults are counted.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"
#include "kselftest.h"
#include "pfnmap_env.h"
#include "pfnmap_guest.h"
#include "pfnmap_provider.h"

#define SZ_2M		(2UL << 20)
#define SWEEP_MAX	(4 * PFNMAP_SZ_1G)

#define SHORT_REGION_FORMAT \
	"BENCH: provider region has only %#lx aligned bytes; sweeping that instead of 4 GiB\n"
#define NO_HUGETLB_MSG \
	"BENCH: kind=hugetlb skipped: no free 2 MiB hugepages (set /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)\n"
#define NO_WINDOW_FORMAT \
	"test_pfnmap region base=%#llx size=%#llx has no 1 GiB-aligned 2 GiB window\n"
#define LAYOUT_FORMAT \
	"BENCH: kind=pfnmap-%s layout=%s bytes=%lu faults=%lu seconds=%.6f\n"
#define FAULTS_MSG \
	"BENCH: faults = vCPU exits - mmio_exit_user over the timed sweep (stage-2 faults of the region, plus host interrupts)\n"

static uint64_t sweep_pages;

static void guest_sweep(void)
{
	uint64_t i;

	/* Warm-up: one read per 2 MiB faults the guest's page tables in */
	for (i = 0; i < sweep_pages * pfnmap_page_size; i += SZ_2M)
		READ_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + i));
	GUEST_SYNC(0);
	for (i = 0; i < sweep_pages; i++)
		READ_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + i * pfnmap_page_size));
	GUEST_DONE();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * One timed sweep of @bytes at @hva (NULL: a hugetlb memslot). Returns
 * seconds; *faults is the vCPU's fault exits during the timed part.
 */
static double sweep(void *hva, uint64_t bytes, uint64_t *faults)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = pfnmap_vm_create_with_region(&vcpu, guest_sweep, hva, bytes);
	struct ucall uc;
	uint64_t base;
	double t;

	sweep_pages = bytes / pfnmap_page_size;
	sync_global_to_guest(vm, sweep_pages);

	TEST_ASSERT_EQ(pfnmap_run(vcpu, &uc), UCALL_SYNC);
	if (!hva)
		hva = addr_gpa2hva(vm, PFNMAP_TEST_GPA);
	/* Drops the region's stage-2 mappings, not the page tables' */
	vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA, 0, NULL);
	vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA, bytes, hva);

	base = pfnmap_vcpu_fault_exits(vcpu);
	t = now();
	TEST_ASSERT_EQ(pfnmap_run(vcpu, &uc), UCALL_DONE);
	t = now() - t;
	*faults = pfnmap_vcpu_fault_exits(vcpu) - base;
	kvm_vm_free(vm);
	return t;
}

/* The provider's memory type for a cacheable-or-allowed region on this host. */
static void region_kind(uint32_t *type, uint32_t *flags, const char **kind)
{
	bool cap = pfnmap_env()->cap;

	*type = cap ? TEST_PFNMAP_TYPE_NORMAL_WB : TEST_PFNMAP_TYPE_NORMAL_NC;
	*flags = cap ? 0 : TEST_PFNMAP_F_ALLOW_ANY_UNCACHED;
	*kind = cap ? "cacheable" : "nc_allow_uncached(cap=0)";
}

/* Maps @bytes of the provider at a 1 GiB-aligned PA and user address. */
static void map_aligned(struct pfnmap_region *r, uint64_t off, uint64_t bytes,
			uint32_t type, uint32_t flags)
{
	int ret = pfnmap_map(r, type, flags, off, bytes, true,
			     pfnmap_reserve_aligned(bytes, PFNMAP_SZ_1G));

	TEST_ASSERT(!ret, "mmap of %#lx provider bytes (flags %#x): %s",
		    bytes, flags, strerror(-ret));
}

static uint64_t free_hugetlb_bytes(void)
{
	unsigned long free_pages = 0;
	char line[128];
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");

	if (f && fgets(line, sizeof(line), f))
		free_pages = strtoul(line, NULL, 10);
	if (f)
		fclose(f);
	return free_pages * SZ_2M;
}

static void bench_hugetlb(const struct test_pfnmap_info *info, uint64_t off)
{
	uint64_t bytes = (info->size - off) & ~(SZ_2M - 1), hbytes, fp, fh;
	struct pfnmap_region r;
	uint32_t type, flags;
	const char *kind;
	double tp, th;

	if (bytes > SWEEP_MAX)
		bytes = SWEEP_MAX;
	if (bytes < SWEEP_MAX)
		ksft_print_msg(SHORT_REGION_FORMAT, bytes);
	region_kind(&type, &flags, &kind);
	map_aligned(&r, off, bytes, type, flags);
	tp = sweep(r.hva, bytes, &fp);
	pfnmap_unmap(&r);
	ksft_print_msg("BENCH: kind=pfnmap-%s bytes=%lu faults=%lu seconds=%.6f\n",
		       kind, bytes, fp, tp);

	hbytes = free_hugetlb_bytes();
	if (hbytes > bytes)
		hbytes = bytes;
	if (!hbytes) {
		ksft_print_msg(NO_HUGETLB_MSG);
		return;
	}
	th = sweep(NULL, hbytes, &fh);
	ksft_print_msg("BENCH: kind=hugetlb bytes=%lu faults=%lu seconds=%.6f\n",
		       hbytes, fh, th);
	ksft_print_msg("BENCH: ratio pfnmap/hugetlb seconds-per-byte=%.3f\n",
		       (tp / bytes) / (th / hbytes));
}

/*
 * The provider's odd page of a mapping of n pages is n/2 - 1: of a 2 GiB
 * mapping, the last page of its first GiB, which is what is swept.
 */
static void bench_contiguity(const struct test_pfnmap_info *info, uint64_t off)
{
	static const struct {
		const char *name;
		uint32_t layout;
	} runs[] = {
		{ "contiguous", 0 },
		{ "last_page_rdonly", TEST_PFNMAP_F_ODD_RDONLY },
		{ "blocks_off", TEST_PFNMAP_F_SWAP_PAIRS },
	};
	uint64_t faults[3];
	double secs[3];
	struct pfnmap_region r;
	uint32_t type, flags;
	const char *kind;
	int i;

	if (off + 2 * PFNMAP_SZ_1G > info->size)
		ksft_exit_skip(NO_WINDOW_FORMAT, info->base, info->size);
	TEST_ASSERT_EQ(TEST_PFNMAP_ODD_PAGE(2 * PFNMAP_SZ_1G / pfnmap_page_size),
		       PFNMAP_SZ_1G / pfnmap_page_size - 1);
	region_kind(&type, &flags, &kind);
	for (i = 0; i < 3; i++) {
		map_aligned(&r, off, 2 * PFNMAP_SZ_1G, type, flags | runs[i].layout);
		secs[i] = sweep(r.hva, PFNMAP_SZ_1G, &faults[i]);
		pfnmap_unmap(&r);
		ksft_print_msg(LAYOUT_FORMAT, kind, runs[i].name, PFNMAP_SZ_1G,
			       faults[i], secs[i]);
	}
	ksft_print_msg("BENCH: ratio last_page_rdonly/blocks_off seconds=%.3f\n",
		       secs[1] / secs[2]);
	ksft_print_msg("BENCH: ratio last_page_rdonly/contiguous seconds=%.3f\n",
		       secs[1] / secs[0]);
}

int main(int argc, char **argv)
{
	struct test_pfnmap_info info;
	const char *reason;
	int opt, mode = 's';

	while ((opt = getopt(argc, argv, "sch")) != -1) {
		if (opt == 'h' || opt == '?') {
			printf("usage: %s [-s | -c]\n", argv[0]);
			return opt == 'h' ? 0 : KSFT_FAIL;
		}
		mode = opt;
	}
	pfnmap_env();
	if (!pfnmap_provider(&info, pfnmap_page_size, &reason))
		ksft_exit_skip("%s\n", reason);
	if (pfnmap_provider_aligned(&info, PFNMAP_SZ_1G) >= info.size)
		ksft_exit_skip("test_pfnmap region has no 1 GiB-aligned part\n");
	ksft_print_msg(FAULTS_MSG);
	if (mode == 'c')
		bench_contiguity(&info, pfnmap_provider_aligned(&info, PFNMAP_SZ_1G));
	else
		bench_hugetlb(&info, pfnmap_provider_aligned(&info, PFNMAP_SZ_1G));
	return KSFT_PASS;
}
