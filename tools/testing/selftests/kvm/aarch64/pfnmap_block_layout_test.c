// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_block_layout_test - PFNMAP layouts that must not become a stage-2
 * block (BLK-2).
 *
 * The region is two PMD-sized blocks (2 MiB each with 4 KiB pages, 512 MiB
 * with 64 KiB pages) at a block-aligned user address and IPA. The provider
 * maps it with a layout that breaks what one block needs: pages swapped
 * pairwise, the odd page left out, mapped Normal-NC among Device pages, or
 * read-only; a physical base one page off the block alignment; a VMA that
 * ends inside the second block. Every page must then read the host's
 * pattern for the pfn the layout put there (a block mapped without its
 * proof reads another page's data), and, where the kernel has the stage-2
 * view, every leaf over a broken block must be a page.
 *
 * The memory is Device-nGnRE with VM_ALLOW_ANY_UNCACHED (Normal-NC at stage
 * 2), so that every CPU maps it, FWB or not.
 *
 * The largest-block case does the same one level up: two of the granule's
 * largest blocks (1 GiB with 4 KiB pages) whose first one's last page
 * breaks the layout, the page a proof that samples every 2 MiB misses.
 * There the guest reads the first page of each 2 MiB and every page of the
 * broken 2 MiB, and stage 2 must hold pages over that 2 MiB.
 *
 * The memslot cases keep the mapping whole and break what the memslot
 * allows instead: a memslot that ends inside the block (the guest's read
 * past its end must exit to user space, not read the block's memory), and
 * a memslot whose IPA is a page off its user address's block alignment
 * (every page must read its own data).
 */
#include <errno.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_s2view.h"
#include "ucall_common.h"

#define MARK		0x1a40000000000000ULL
#define PAGE		pfnmap_page_size
#define BLOCK		PFNMAP_PMD_BLOCK
#define SKIPPED		(~0ULL)

/* Guest parameters, set with sync_global_to_guest(). */
static uint64_t g_npages, g_hole;
static bool g_swap;
/* After the reads: an access the layout forbids (SPEC BLK-2 behaviour). */
static uint64_t g_probe_gva;
static bool g_probe_write;

/* The page of the backing that the layout maps at page @i. */
static inline uint64_t layout_src(uint64_t i, uint64_t npages, bool swap)
{
	return swap && (i ^ 1) < npages ? i ^ 1 : i;
}

/*
 * The provider's offset of @bytes at an @align-aligned physical address,
 * or false after SKIP() where the region has no such window.
 */
static bool provider_window(struct __test_metadata *_metadata, uint64_t bytes,
			    uint64_t align, uint64_t *off)
{
	struct test_pfnmap_info info;
	const char *reason;

	if (!pfnmap_provider(&info, bytes, &reason))
		SKIP(return false, "%s", reason);
	*off = pfnmap_provider_aligned(&info, align);
	if (*off + bytes > info.size)
		SKIP(return false,
		     "test_pfnmap region base=%#llx size=%#llx has no %#lx-aligned %#lx bytes: give it more room",
		     info.base, info.size, align, bytes);
	return true;
}

/* Page i of @hva holds MARK | i: what each pfn holds, for the guest. */
static void fill_marks(void *hva, uint64_t bytes)
{
	uint64_t i;

	for (i = 0; i < bytes / PAGE; i++)
		WRITE_ONCE(*(uint64_t *)((uint8_t *)hva + i * PAGE), MARK | i);
}

/* A VM with @slot_bytes of @hva at IPA @gpa, and @map_bytes mapped in it. */
static struct kvm_vm *layout_vm(struct kvm_vcpu **vcpu, void *guest, void *hva,
				uint64_t gpa, uint64_t slot_bytes, uint64_t map_bytes)
{
	struct kvm_vm *vm = pfnmap_vm_create(vcpu, guest, map_bytes);

	vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, gpa, slot_bytes, hva);
	pfnmap_virt_map(vm, PFNMAP_TEST_GPA, map_bytes);
	return vm;
}

static void guest_code(void)
{
	uint64_t i, v;

	for (i = 0; i < g_npages; i++) {
		if (i == g_hole)
			continue;
		v = READ_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + i * PAGE));
		GUEST_ASSERT_EQ(v, MARK | layout_src(i, g_npages, g_swap));
	}
	GUEST_SYNC(0);
	if (g_probe_write)
		WRITE_ONCE(*(uint64_t *)g_probe_gva, 0);
	else if (g_probe_gva)
		READ_ONCE(*(uint64_t *)g_probe_gva);
	GUEST_DONE();
}

FIXTURE(layout) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region backing, r;
	uint64_t bytes;
};

FIXTURE_VARIANT(layout) {
	uint32_t flags;		/* TEST_PFNMAP_F_* layout */
	bool pa_off_by_a_page;
	bool vma_ends_in_block;
	unsigned int broken;	/* bit n: block n cannot be a block */
};

FIXTURE_VARIANT_ADD(layout, pages_swapped_pairwise) { TEST_PFNMAP_F_SWAP_PAIRS, false, false, 3 };
FIXTURE_VARIANT_ADD(layout, hole) { TEST_PFNMAP_F_HOLE, false, false, 1 };
FIXTURE_VARIANT_ADD(layout, one_page_normal_nc) { TEST_PFNMAP_F_ODD_NC, false, false, 1 };
FIXTURE_VARIANT_ADD(layout, one_page_read_only) { TEST_PFNMAP_F_ODD_RDONLY, false, false, 1 };
FIXTURE_VARIANT_ADD(layout, pa_not_block_aligned) { 0, true, false, 3 };
FIXTURE_VARIANT_ADD(layout, vma_ends_inside_block) { 0, false, true, 2 };

FIXTURE_SETUP(layout)
{
	const uint32_t type = TEST_PFNMAP_TYPE_DEVICE_nGnRE;
	uint64_t off;
	void *hva;

	self->bytes = 2 * BLOCK;
	if (!provider_window(_metadata, self->bytes + PAGE, BLOCK, &off))
		return;
	if (variant->pa_off_by_a_page)
		off += PAGE;
	if (variant->vma_ends_in_block)
		self->bytes -= BLOCK / 2;

	/* What each pfn holds, written through a plain mapping of the range */
	ASSERT_EQ(0, pfnmap_map(&self->backing, type, 0, off, self->bytes,
				true, NULL));
	fill_marks(self->backing.hva, self->bytes);

	hva = pfnmap_reserve_aligned(2 * BLOCK, BLOCK);
	ASSERT_EQ(0, pfnmap_map(&self->r, type,
				variant->flags | TEST_PFNMAP_F_ALLOW_ANY_UNCACHED,
				off, self->bytes, true, hva));
	self->vm = layout_vm(&self->vcpu, guest_code, self->r.hva, PFNMAP_TEST_GPA,
			     self->bytes, self->bytes);
	g_npages = self->bytes / PAGE;
	g_hole = (variant->flags & TEST_PFNMAP_F_HOLE) ?
		 TEST_PFNMAP_ODD_PAGE(g_npages) : SKIPPED;
	g_swap = variant->flags & TEST_PFNMAP_F_SWAP_PAIRS;
	/* The hole is read, the read-only page written: both must fault */
	g_probe_gva = (variant->flags & (TEST_PFNMAP_F_HOLE | TEST_PFNMAP_F_ODD_RDONLY)) ?
		      PFNMAP_TEST_GPA + TEST_PFNMAP_ODD_PAGE(g_npages) * PAGE : 0;
	g_probe_write = variant->flags & TEST_PFNMAP_F_ODD_RDONLY;
	sync_global_to_guest(self->vm, g_npages);
	sync_global_to_guest(self->vm, g_hole);
	sync_global_to_guest(self->vm, g_swap);
	sync_global_to_guest(self->vm, g_probe_gva);
	sync_global_to_guest(self->vm, g_probe_write);
}

FIXTURE_TEARDOWN(layout)
{
	pfnmap_teardown(self->vm, &self->r);
	pfnmap_unmap(&self->backing);
}

#define FORBIDDEN_ACCESS_FORMAT \
	"the guest's %s of %s at IPA %#lx: KVM_RUN returned %d (exit %s), want -1/EFAULT"

/*
 * A hole has no pfn and a read-only PTE no write: KVM cannot resolve the
 * fault and KVM_RUN fails with EFAULT. A block proven over either would
 * let the access through.
 */
static void check_forbidden_access(struct __test_metadata *_metadata, struct kvm_vcpu *vcpu)
{
	const char *what = g_probe_write ? "the read-only page" : "the hole";
	int ret;

	if (!g_probe_gva) {
		ASSERT_EQ(UCALL_DONE, pfnmap_run(vcpu, &(struct ucall){}));
		return;
	}
	ret = _vcpu_run(vcpu);
	EXPECT_EQ(-1, ret)
		TH_LOG(FORBIDDEN_ACCESS_FORMAT, g_probe_write ? "write" : "read", what,
		       g_probe_gva, ret, exit_reason_str(vcpu->run->exit_reason));
	if (ret == -1)
		EXPECT_EQ(EFAULT, errno)
			TH_LOG("the guest's access to %s: errno %d, want EFAULT", what, errno);
}

#define BLOCK_OVER_BREAK_FORMAT \
	"IPA %#lx is mapped by a %s leaf over a block the layout breaks, want %lu-byte pages"

/* Two 512 MiB blocks page by page with 64 KiB pages: more than the default 30 s */
TEST_F_TIMEOUT(layout, every_page_reads_its_pfn_and_no_block_covers_a_break, 120)
{
	struct pfnmap_s2_summary sum;
	uint64_t ipa, end, blk;
	char page_size[24];
	struct ucall uc;
	int ret;

	ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
	check_forbidden_access(_metadata, self->vcpu);

	/* The view's size field for a page, e.g. "4K" or "64K" */
	snprintf(page_size, sizeof(page_size), "%luK", PAGE >> 10);
	for (blk = 0; blk < 2; blk++) {
		if (!(variant->broken & (1u << blk)))
			continue;
		ipa = PFNMAP_TEST_GPA + blk * BLOCK;
		end = ipa + BLOCK;
		if (end > PFNMAP_TEST_GPA + self->bytes)
			end = PFNMAP_TEST_GPA + self->bytes;
		/* One pass over the view: the largest leaf over the block */
		ret = pfnmap_s2_summarise(self->vm, ipa, end, S2T_NORMAL_NC, 0, &sum);
		if (ret == -ENODEV)
			SKIP(return,
			     "every page read its own pfn's data; leaf sizes not checked: %s",
			     pfnmap_no_dump_reason);
		ASSERT_EQ(0, ret);
		ASSERT_NE(0, sum.mapped);
		ASSERT_STREQ(page_size, sum.largest)
			TH_LOG(BLOCK_OVER_BREAK_FORMAT, ipa, sum.largest, PAGE);
	}
}

/* ---- the largest block broken by its last page ---- */

/* Guest parameters of the sampled read, set with sync_global_to_guest(). */
static uint64_t g_sub, g_broken_sub;

/* The first page of each PMD block, and every page of the broken one. */
static void guest_sample(void)
{
	uint64_t i, v;

	for (i = 0; i < g_npages; i++) {
		if (i % (g_sub / PAGE) && i / (g_sub / PAGE) != g_broken_sub)
			continue;
		if (i == g_hole)
			continue;
		v = READ_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + i * PAGE));
		GUEST_ASSERT_EQ(v, MARK | i);
	}
	GUEST_DONE();
}

FIXTURE(largest) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region backing, r;
	uint64_t bytes, block;
};

FIXTURE_VARIANT(largest) {
	uint32_t flags;		/* which break, at TEST_PFNMAP_ODD_PAGE() */
};

/* The odd page of two blocks is the last page of the first one. */
FIXTURE_VARIANT_ADD(largest, last_page_normal_nc) { TEST_PFNMAP_F_ODD_NC };
FIXTURE_VARIANT_ADD(largest, last_page_read_only) { TEST_PFNMAP_F_ODD_RDONLY };
FIXTURE_VARIANT_ADD(largest, last_page_missing) { TEST_PFNMAP_F_HOLE };

FIXTURE_SETUP(largest)
{
	const uint32_t type = TEST_PFNMAP_TYPE_DEVICE_nGnRE;
	uint64_t off;
	void *hva;

	self->block = pfnmap_largest_block();
	self->bytes = 2 * self->block;
	if (!provider_window(_metadata, self->bytes, self->block, &off))
		return;

	ASSERT_EQ(0, pfnmap_map(&self->backing, type, 0, off, self->bytes, true, NULL));
	fill_marks(self->backing.hva, self->bytes);

	hva = pfnmap_reserve_aligned(self->bytes, self->block);
	ASSERT_EQ(0, pfnmap_map(&self->r, type, variant->flags | TEST_PFNMAP_F_ALLOW_ANY_UNCACHED,
				off, self->bytes, true, hva));
	self->vm = layout_vm(&self->vcpu, guest_sample, self->r.hva, PFNMAP_TEST_GPA,
			     self->bytes, self->bytes);
	g_npages = self->bytes / PAGE;
	g_hole = (variant->flags & TEST_PFNMAP_F_HOLE) ? TEST_PFNMAP_ODD_PAGE(g_npages) : SKIPPED;
	g_sub = BLOCK;
	g_broken_sub = TEST_PFNMAP_ODD_PAGE(g_npages) * PAGE / BLOCK;
	sync_global_to_guest(self->vm, g_npages);
	sync_global_to_guest(self->vm, g_hole);
	sync_global_to_guest(self->vm, g_sub);
	sync_global_to_guest(self->vm, g_broken_sub);
}

FIXTURE_TEARDOWN(largest)
{
	pfnmap_teardown(self->vm, &self->r);
	pfnmap_unmap(&self->backing);
}

#define BROKEN_LAST_PAGE_FORMAT \
	"%d stage-2 leaves over the %lu-byte block at IPA %#lx that the block's last page breaks, want one per page"

/* 2 GiB mapped page by page by the provider: slow under emulation */
TEST_F_TIMEOUT(largest, no_block_covers_its_last_page_and_sampled_pages_read_their_pfn, 120)
{
	uint64_t broken = PFNMAP_TEST_GPA + g_broken_sub * BLOCK;
	struct ucall uc;
	int n;

	ASSERT_EQ(UCALL_DONE, pfnmap_run(self->vcpu, &uc));
	/* Leaf sizes only: any kernel's dump has them */
	n = pfnmap_s2_count(self->vm, broken, broken + BLOCK);
	if (n == -ENODEV)
		SKIP(return, "sampled pages read their own pfn's data; leaf sizes not checked: %s",
		     pfnmap_no_dump_reason);
	EXPECT_EQ(BLOCK / PAGE - !!(variant->flags & TEST_PFNMAP_F_HOLE), n)
		TH_LOG(BROKEN_LAST_PAGE_FORMAT, n, BLOCK, broken);
}

/* ---- memslots that do not allow a block over a qualifying mapping ---- */

/* Guest parameters, set with sync_global_to_guest(). */
static uint64_t g_gpa, g_past_end;

/* Reads every page of the memslot, then the first page past its end. */
static void guest_slot(void)
{
	uint64_t i, v;

	for (i = 0; i < g_npages; i++) {
		v = READ_ONCE(*(uint64_t *)(g_gpa + i * PAGE));
		GUEST_ASSERT_EQ(v, MARK | i);
	}
	if (g_past_end)
		READ_ONCE(*(uint64_t *)g_past_end);
	GUEST_DONE();
}

FIXTURE(slot) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
	uint64_t gpa, slot_bytes;
};

FIXTURE_VARIANT(slot) {
	bool ends_inside_block;		/* memslot: the first half of the block */
	bool ipa_a_page_off;		/* memslot IPA not congruent with its HVA */
};

FIXTURE_VARIANT_ADD(slot, memslot_ends_inside_block) { true, false };
FIXTURE_VARIANT_ADD(slot, ipa_not_congruent_with_hva) { false, true };

FIXTURE_SETUP(slot)
{
	const uint32_t type = TEST_PFNMAP_TYPE_DEVICE_nGnRE;
	uint64_t map_bytes = 2 * BLOCK, off;
	void *hva;

	if (!provider_window(_metadata, map_bytes, BLOCK, &off))
		return;

	/* One mapping of two whole, aligned, contiguous blocks */
	hva = pfnmap_reserve_aligned(map_bytes, BLOCK);
	ASSERT_EQ(0, pfnmap_map(&self->r, type, TEST_PFNMAP_F_ALLOW_ANY_UNCACHED, off,
				map_bytes, true, hva));
	fill_marks(self->r.hva, map_bytes);

	self->gpa = PFNMAP_TEST_GPA + (variant->ipa_a_page_off ? PAGE : 0);
	self->slot_bytes = variant->ends_inside_block ? BLOCK / 2 : map_bytes - PAGE;
	self->vm = layout_vm(&self->vcpu, guest_slot, self->r.hva, self->gpa,
			     self->slot_bytes, map_bytes);
	g_npages = self->slot_bytes / PAGE;
	g_gpa = self->gpa;
	g_past_end = variant->ends_inside_block ? self->gpa + self->slot_bytes : 0;
	sync_global_to_guest(self->vm, g_npages);
	sync_global_to_guest(self->vm, g_gpa);
	sync_global_to_guest(self->vm, g_past_end);
}

FIXTURE_TEARDOWN(slot)
{
	pfnmap_teardown(self->vm, &self->r);
}

#define PAST_END_EXIT_FORMAT \
	"the guest's read at IPA %#lx, past the memslot's end: exit %s, want KVM_EXIT_MMIO"
#define PAST_END_READ_FORMAT \
	"the guest's read at IPA %#lx, past the memslot's end, did not exit (next: MMIO at %#llx, ucall %lu): a block maps memory outside the memslot"

TEST_F_TIMEOUT(slot, every_page_reads_its_data_and_nothing_outside_the_memslot_is_mapped, 120)
{
	struct kvm_run *run = self->vcpu->run;
	struct ucall uc;
	int n;

	if (!g_past_end) {
		ASSERT_EQ(UCALL_DONE, pfnmap_run(self->vcpu, &uc));
		return;
	}
	/*
	 * IPA past the memslot: no memory there, so an MMIO exit at that
	 * address. ucalls are MMIO exits too, at another address: one there
	 * means the read went through (or the guest failed before it).
	 */
	vcpu_run(self->vcpu);
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason)
		TH_LOG(PAST_END_EXIT_FORMAT, g_past_end, exit_reason_str(run->exit_reason));
	ASSERT_EQ(g_past_end, run->mmio.phys_addr)
		TH_LOG(PAST_END_READ_FORMAT, g_past_end, run->mmio.phys_addr,
		       get_ucall(self->vcpu, &uc));
	n = pfnmap_s2_count(self->vm, g_past_end, PFNMAP_TEST_GPA + BLOCK);
	if (n != -ENODEV)
		EXPECT_EQ(0, n)
			TH_LOG("%d stage-2 leaves past the memslot's end", n);
}

TEST_HARNESS_MAIN
