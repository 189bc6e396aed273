// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_block_test - stage-2 block mappings of a large PFNMAP region.
 *
 * BLK-1: a 1 GiB-aligned PFNMAP region of 2 GiB, placed at a 1 GiB-aligned
 * user address and IPA. Stage 2 must use the largest blocks of the granule
 * (1 GiB with 4 KiB pages, 512 MiB with 64 KiB pages), and every page must
 * read the host's pattern for that exact offset. Each block is first
 * touched at its start in one variant, and at a page in its middle in the
 * other: a block based on the faulting address rather than the block's
 * start shows only there.
 *
 * The block size is checked twice: by behaviour, from the number of exits a
 * probe that touches every 2 MiB takes (works on any kernel), and exactly,
 * from stage 2 itself (the emulator's tables, or KVM's dump). The probe runs
 * first, so a kernel that maps 4 KiB pages fails in seconds, not after 512K
 * faults.
 *
 * By default the data check reads three pages of every 2 MiB (the first, one
 * in the middle, the last), which fits kvm/settings' timeout. Reading all
 * 512K pages is a long sweep: it runs with PFNMAP_LONG_SWEEPS=1, which the
 * rig sets in its release cells, and the sampled case then skips.
 *
 * pfnmap_block_bench times the same kind of sweep; it asserts nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_s2view.h"
#include "ucall_common.h"

#define PAGE		pfnmap_page_size
#define SZ_2M		(2UL << 20)
#define BLK_BYTES	(2 * PFNMAP_SZ_1G)
#define MARK		0xb10c000000000000ULL
/* The block-size probe touches one word per PROBE_STRIDE, twice, first. */
#define PROBE_STRIDE	SZ_2M

/* Guest parameters, set with sync_global_to_guest(). */
static uint64_t sweep_pages;
static bool sweep_check;
/* Non-zero: each largest block is first touched this far into it. */
static uint64_t first_touch, largest;
/*
 * Only the first, a middle and the last page of each 2 MiB are read, where
 * a mis-mapped 2 MiB block shows: by default, and when stage 2 uses pieces
 * smaller than the largest block (a page-mapped 2 GiB would take 512K
 * faults, more than the runner's timeout).
 */
static bool sweep_sample;

static bool sampled_page(uint64_t i)
{
	uint64_t in2m = i % (SZ_2M / PAGE);

	return !in2m || in2m == SZ_2M / PAGE / 2 + 1 || in2m == SZ_2M / PAGE - 1;
}

/*
 * Read the first word of every page; with sweep_check it must be MARK |
 * offset, and so must the last word of the page (MARK | offset of that word).
 * Two words per page keep the 512K-page sweep fast under emulation.
 */
static void guest_sweep(void)
{
	uint64_t i, off, v;

	/* Twice: a warm-up, then the probe proper (see the host side) */
	for (i = 0; i < 2; i++) {
		for (off = 0; first_touch && off < sweep_pages * PAGE; off += largest)
			READ_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + off + first_touch));
		for (off = 0; off < sweep_pages * PAGE; off += PROBE_STRIDE)
			READ_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + off));
		GUEST_SYNC(i);
	}
	for (i = 0; i < sweep_pages; i++) {
		if (sweep_sample && !sampled_page(i))
			continue;
		off = i * PAGE;
		v = READ_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + off));
		if (!sweep_check)
			continue;
		GUEST_ASSERT_EQ(v, MARK | off);
		off += PAGE - 8;
		v = READ_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + off));
		GUEST_ASSERT_EQ(v, MARK | off);
	}
	GUEST_DONE();
}

static struct kvm_vm *sweep_vm(struct kvm_vcpu **vcpu, void *hva,
			       uint64_t bytes, bool check)
{
	struct kvm_vm *vm = pfnmap_vm_create_with_region(vcpu, guest_sweep, hva, bytes);

	sweep_pages = bytes / PAGE;
	sweep_check = check;
	sync_global_to_guest(vm, sweep_pages);
	sync_global_to_guest(vm, sweep_check);
	return vm;
}

/*
 * Runs the guest's warm-up pass, which also faults in the guest's own
 * stage-1 tables (one page per 2 MiB of the region), then re-creates the
 * memslot: that drops the region's stage-2 mappings alone, so exits counted
 * from here on are the region's stage-2 faults, plus a few host interrupts.
 */
static void warm_up_and_remap(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
			      void *hva, uint64_t bytes)
{
	struct ucall uc;

	/* NULL: the hugetlb memslot, which the library registered */
	if (!hva)
		hva = addr_gpa2hva(vm, PFNMAP_TEST_GPA);

	TEST_ASSERT_EQ(pfnmap_run(vcpu, &uc), UCALL_SYNC);
	vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA, 0, NULL);
	vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA, bytes, hva);
}

/* Fault exits since @base (from stage2_exits(vcpu, NULL)). */
static uint64_t stage2_exits(struct kvm_vcpu *vcpu, const uint64_t *base)
{
	uint64_t n = pfnmap_vcpu_fault_exits(vcpu);

	return base ? n - *base : n;
}

/* ---------------- BLK-1 ---------------- */

FIXTURE(blk) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
};

FIXTURE_VARIANT(blk) {
	uint32_t type;
	uint32_t flags;
	bool first_touch_in_middle;
};

FIXTURE_VARIANT_ADD(blk, cacheable) { TEST_PFNMAP_TYPE_NORMAL_WB, 0, false };
FIXTURE_VARIANT_ADD(blk, cacheable_first_touch_in_middle) {
	TEST_PFNMAP_TYPE_NORMAL_WB, 0, true };
FIXTURE_VARIANT_ADD(blk, nc_allow_uncached) {
	TEST_PFNMAP_TYPE_NORMAL_NC, TEST_PFNMAP_F_ALLOW_ANY_UNCACHED, false };
FIXTURE_VARIANT_ADD(blk, nc_allow_uncached_first_touch_in_middle) {
	TEST_PFNMAP_TYPE_NORMAL_NC, TEST_PFNMAP_F_ALLOW_ANY_UNCACHED, true };

FIXTURE_SETUP(blk)
{
	struct test_pfnmap_info info;
	const char *reason;
	uint64_t off, i;
	uint8_t *hva;

	if (!pfnmap_provider(&info, BLK_BYTES, &reason))
		SKIP(return, "%s", reason);
	off = pfnmap_provider_aligned(&info, PFNMAP_SZ_1G);
	if (off + BLK_BYTES > info.size)
		SKIP(return,
		     "test_pfnmap region base=%#llx size=%#llx has no 1 GiB-aligned 2 GiB window: give it one (e.g. base=0xc0000000 size=0x80000000)",
		     info.base, info.size);
	if (variant->type == TEST_PFNMAP_TYPE_NORMAL_WB && !pfnmap_env()->cap)
		SKIP(return,
		     "cap=0: cacheable PFNMAP refused (CAP-4); blocks are checked on the other kinds");

	hva = pfnmap_reserve_aligned(BLK_BYTES, PFNMAP_SZ_1G);
	ASSERT_EQ(0, pfnmap_map(&self->r, variant->type, variant->flags, off,
				BLK_BYTES, true, hva));
	/*
	 * Every page the guest may read: all of them for a long sweep. Clean
	 * each written line to PoC (B2.8), one DSB for the whole sweep.
	 */
	for (i = 0; i < BLK_BYTES; i += PAGE) {
		if (!pfnmap_long_sweeps() && !sampled_page(i / PAGE))
			continue;
		WRITE_ONCE(*(uint64_t *)(hva + i), MARK | i);
		WRITE_ONCE(*(uint64_t *)(hva + i + PAGE - 8), MARK | (i + PAGE - 8));
		asm volatile("dc cvac, %0" :: "r" (hva + i) : "memory");
		asm volatile("dc cvac, %0" :: "r" (hva + i + PAGE - 8) : "memory");
	}
	dsb(sy);
	self->vm = sweep_vm(&self->vcpu, hva, BLK_BYTES, true);
	/* Half a block and a few pages in: not aligned to any smaller block */
	largest = pfnmap_largest_block();
	first_touch = variant->first_touch_in_middle ? largest / 2 + 5 * PAGE : 0;
	sync_global_to_guest(self->vm, largest);
	sync_global_to_guest(self->vm, first_touch);
}

FIXTURE_TEARDOWN(blk)
{
	pfnmap_teardown(self->vm, &self->r);
}

#define PROBE_FORMAT \
	"probe: %lu exits for %lu touches 2 MiB apart, each block first touched %#lx into it\n"
#define NOT_A_BLOCK_FORMAT \
	"IPA %#lx: level %d (%s) leaf, want a %lu MiB block: IPA, user VA and PA are all 1 GiB aligned"

/* BLK-1, reading every page (@every_page) or three of each 2 MiB. */
static void check_blocks(struct __test_metadata *_metadata, FIXTURE_DATA(blk) *self,
			 bool every_page)
{
	struct pfnmap_s2_leaf leaf;
	struct ucall uc;
	uint64_t ipa, base, faults, block = pfnmap_largest_block();
	int n;

	/*
	 * 1024 touches, one per 2 MiB: 1 GiB blocks take one fault per GiB,
	 * 2 MiB blocks or pages take one per touch. Half the touches is a
	 * bound that tells 1 GiB blocks from anything smaller with a wide
	 * margin for host interrupts.
	 */
	warm_up_and_remap(self->vm, self->vcpu, self->r.hva, BLK_BYTES);
	base = stage2_exits(self->vcpu, NULL);
	ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
	faults = stage2_exits(self->vcpu, &base);
	ksft_print_msg(PROBE_FORMAT, faults, BLK_BYTES / PROBE_STRIDE, first_touch);
	/*
	 * Which block size stage 2 uses is the kernel's profile (SPEC BLK-1):
	 * 6.12.117 and a stage-1-leaf kernel map remap_pfn_range() memory
	 * with pages, this series with the largest blocks. The rig holds a
	 * kernel that claims blocks to showing them.
	 */
	sweep_sample = faults >= BLK_BYTES / PROBE_STRIDE / 2;
	ksft_print_msg("PROFILE: pfnmap_blocks=%s\n", sweep_sample ? "smaller" : "largest");
	if (sweep_sample)
		every_page = false;
	sweep_sample = !every_page;
	sync_global_to_guest(self->vm, sweep_sample);

	/* The guest checks each page's data on the way (SPEC BLK-1). */
	ASSERT_EQ(UCALL_DONE, pfnmap_run(self->vcpu, &uc));
	if (faults >= BLK_BYTES / PROBE_STRIDE / 2)
		return;	/* no 1 GiB blocks to look at */
	n = pfnmap_s2_count(self->vm, PFNMAP_TEST_GPA, PFNMAP_TEST_GPA + BLK_BYTES);
	if (n == -ENODEV)
		SKIP(return,
		     "data and block size (by fault count) checked; exact leaves not checked: %s",
		     pfnmap_no_dump_reason);
	EXPECT_EQ(BLK_BYTES / block, n)
		TH_LOG("%d stage-2 leaves for 2 GiB, want %lu", n, BLK_BYTES / block);
	if (!pfnmap_s2_types_observable(self->vm))
		SKIP(return, "leaf count checked; output addresses not checked: %s",
		     pfnmap_no_view_reason);
	for (ipa = PFNMAP_TEST_GPA; ipa < PFNMAP_TEST_GPA + BLK_BYTES; ipa += block) {
		ASSERT_EQ(0, pfnmap_s2_lookup(self->vm, ipa, &leaf));
		ksft_print_msg("stage-2 leaf ipa=%#lx-%#lx level=%d size=%s pa=%#lx type=%s\n",
			       leaf.ipa_start, leaf.ipa_end, leaf.level, leaf.size,
			       leaf.pa, pfnmap_s2_type_name(leaf.type));
		EXPECT_EQ(block, leaf.ipa_end - leaf.ipa_start + 1)
			TH_LOG(NOT_A_BLOCK_FORMAT, ipa, leaf.level, leaf.size, block >> 20);
		EXPECT_EQ(self->r.pa + (leaf.ipa_start - PFNMAP_TEST_GPA), leaf.pa)
			TH_LOG("IPA %#lx: leaf PA %#lx, want %#lx (mis-mapped block)",
			       ipa, leaf.pa, self->r.pa + (leaf.ipa_start - PFNMAP_TEST_GPA));
	}
}

#define LONG_SWEEP_INSTEAD_MSG \
	"PFNMAP_LONG_SWEEPS=1: every_page_reads_its_offset_... reads every page instead"
#define LONG_SWEEP_MSG \
	"a long sweep (512K pages): run with PFNMAP_LONG_SWEEPS=1 and a per-test timeout of 900 s; sampled_pages_... checks three pages of every 2 MiB"

TEST_F_TIMEOUT(blk, sampled_pages_read_their_offset_and_each_block_maps_its_own_pfns, 120)
{
	if (pfnmap_long_sweeps())
		SKIP(return, LONG_SWEEP_INSTEAD_MSG);
	check_blocks(_metadata, self, false);
}

/*
 * 512K pages written and read: about 25 s a case under nested TCG with 1 GiB
 * blocks, and about 200 s on a KASAN and lockdep kernel. Behind the option,
 * which must also raise the runner's timeout (the rig's test-timeouts do).
 */
TEST_F_TIMEOUT(blk, every_page_reads_its_offset_and_each_block_maps_its_own_pfns, 900)
{
	if (!pfnmap_long_sweeps())
		SKIP(return, LONG_SWEEP_MSG);
	check_blocks(_metadata, self, true);
}

TEST_HARNESS_MAIN
