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
 *   -m  8 GiB regions each broken in its middle (a read-only page), first
 *       touched once per 8 MiB by 2 vCPUs at once, every region in turn,
 *       against the same sweep with blocks off: the worst case of the
 *       proofs, which a memo of failed proofs must bound whatever the
 *       number of regions.
 *
 * Each sweep reads one word per page after a warm-up pass that faults in
 * the guest's own page tables, and after the memslot is re-created so
 * that only the region's stage-2 faults are counted.
 */
#include <pthread.h>
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
#define MANY_FORMAT \
	"BENCH: kind=pfnmap-%s layout=%s regions=8x1GiB vcpus=2 faults=%lu seconds=%.6f\n"
#define MANY_RATIO_FORMAT \
	"BENCH: ratio broken_in_the_middle/blocks_off seconds=%.3f (%d GiB, %d vCPUs, one touch per 8 MiB, best of 2)\n"
#define NO_4G_WINDOW_FORMAT \
	"test_pfnmap region base=%#llx size=%#llx has no 1 GiB-aligned 4 GiB window\n"
#define FAULTS_MSG \
	"BENCH: faults = vCPU exits - mmio_exit_user over the timed sweep (stage-2 faults of the region, plus host interrupts)\n"

static uint64_t sweep_pages;

#define MANY_GIB	8
#define MANY_VCPUS	2
#define MANY_STRIDE	(8UL << 20)

/*
 * -m: vCPU @v touches every MANY_STRIDE of its share of the offsets, each
 * offset in all MANY_GIB regions in turn: the order that defeats a small
 * memo of failed proofs (and two vCPUs do so at once).
 */
static void guest_touch(uint64_t v)
{
	uint64_t gib, off, pass, gpa;

	for (pass = 0; pass < 2; pass++) {
		for (off = v * MANY_STRIDE; off < PFNMAP_SZ_1G; off += MANY_VCPUS * MANY_STRIDE)
			for (gib = 0; gib < MANY_GIB; gib++) {
				gpa = PFNMAP_TEST_GPA + gib * PFNMAP_SZ_1G + off;
				READ_ONCE(*(uint64_t *)gpa);
			}
		GUEST_SYNC(pass);
	}
	GUEST_DONE();
}

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
	pfnmap_accepted_kind(&type, &flags, &kind);
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
	pfnmap_accepted_kind(&type, &flags, &kind);
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

static void *run_vcpu(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	TEST_ASSERT_EQ(pfnmap_run(vcpu, &uc), UCALL_SYNC);
	return NULL;
}

/* Both vCPUs' next pass, at once; seconds for the slower one */
static double run_both(struct kvm_vcpu **vcpus)
{
	pthread_t t[MANY_VCPUS];
	double start = now();
	int i;

	for (i = 0; i < MANY_VCPUS; i++)
		TEST_ASSERT(!pthread_create(&t[i], NULL, run_vcpu, vcpus[i]), "pthread_create");
	for (i = 0; i < MANY_VCPUS; i++)
		pthread_join(t[i], NULL);
	return now() - start;
}

/* One timed first touch of MANY_GIB 1 GiB mappings of @layout; seconds */
static double sweep_many(uint64_t off, uint32_t type, uint32_t flags, uint64_t *faults)
{
	uint64_t bytes = MANY_GIB * PFNMAP_SZ_1G, before = 0, i;
	struct pfnmap_region r[MANY_GIB];
	struct kvm_vcpu *vcpus[MANY_VCPUS];
	struct kvm_vm *vm;
	uint8_t *hva;
	double t;

	/* PA: the 4 GiB window twice over, each GiB at a 1 GiB-aligned pfn */
	hva = pfnmap_reserve_aligned(bytes, PFNMAP_SZ_1G);
	for (i = 0; i < MANY_GIB; i++) {
		int ret = pfnmap_map(&r[i], type, flags, off + (i % 4) * PFNMAP_SZ_1G,
				     PFNMAP_SZ_1G, true, hva + i * PFNMAP_SZ_1G);

		TEST_ASSERT(!ret, "mmap of GiB %lu (flags %#x): %s", i, flags, strerror(-ret));
	}
	vm = __vm_create_with_vcpus(VM_SHAPE_DEFAULT, MANY_VCPUS,
				    pfnmap_guest_pages(NULL, bytes), guest_touch, vcpus);
	vm_init_descriptor_tables(vm);
	for (i = 0; i < MANY_VCPUS; i++) {
		vcpu_init_descriptor_tables(vcpus[i]);
		vcpu_args_set(vcpus[i], 1, i);
	}
	vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA, bytes, hva);
	pfnmap_virt_map(vm, PFNMAP_TEST_GPA, bytes);

	/* Warm-up, then drop the region's stage-2 mappings alone */
	run_both(vcpus);
	vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA, 0, NULL);
	vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA, bytes, hva);
	for (i = 0; i < MANY_VCPUS; i++)
		before += pfnmap_vcpu_fault_exits(vcpus[i]);
	t = run_both(vcpus);
	*faults = 0;
	for (i = 0; i < MANY_VCPUS; i++)
		*faults += pfnmap_vcpu_fault_exits(vcpus[i]);
	*faults -= before;
	kvm_vm_free(vm);
	for (i = 0; i < MANY_GIB; i++)
		pfnmap_unmap(&r[i]);
	return t;
}

/*
 * The provider's odd page of a 1 GiB mapping is the last page of its first
 * 512 MiB: each GiB's PUD proof walks half of it before it fails.
 */
static void bench_many(const struct test_pfnmap_info *info, uint64_t off)
{
	uint64_t fb, fo;
	uint32_t type, flags;
	const char *kind;
	double tb = 0, to = 0, t;
	int i;

	if (off + 4 * PFNMAP_SZ_1G > info->size)
		ksft_exit_skip(NO_4G_WINDOW_FORMAT, info->base, info->size);
	pfnmap_accepted_kind(&type, &flags, &kind);
	/* Twice each, alternately, the faster kept: the machine is noisy */
	for (i = 0; i < 2; i++) {
		t = sweep_many(off, type, flags | TEST_PFNMAP_F_ODD_RDONLY, &fb);
		ksft_print_msg(MANY_FORMAT, kind, "broken_in_the_middle", fb, t);
		tb = (!i || t < tb) ? t : tb;
		t = sweep_many(off, type, flags | TEST_PFNMAP_F_SWAP_PAIRS, &fo);
		ksft_print_msg(MANY_FORMAT, kind, "blocks_off", fo, t);
		to = (!i || t < to) ? t : to;
	}
	ksft_print_msg(MANY_RATIO_FORMAT, tb / to, MANY_GIB, MANY_VCPUS);
}

int main(int argc, char **argv)
{
	struct test_pfnmap_info info;
	const char *reason;
	int opt, mode = 's';

	while ((opt = getopt(argc, argv, "scmh")) != -1) {
		if (opt == 'h' || opt == '?') {
			printf("usage: %s [-s | -c | -m]\n", argv[0]);
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
	else if (mode == 'm')
		bench_many(&info, pfnmap_provider_aligned(&info, PFNMAP_SZ_1G));
	else
		bench_hugetlb(&info, pfnmap_provider_aligned(&info, PFNMAP_SZ_1G));
	return KSFT_PASS;
}
