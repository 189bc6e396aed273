// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_write_track_test - a driver's write tracking survives stage-2 blocks.
 *
 * SPEC BLK-3. Drivers that count dirty pages map a shared writable VMA with
 * read-only PTEs and learn of each first write from ->pfn_mkwrite, which
 * makes that one PTE writable without an MMU notifier. The provider's
 * F_WRITE_TRACK mode does this over one physically contiguous, aligned
 * stage-2 block, and records each page it upgrades: that record is the
 * oracle, kept by the driver, not by KVM.
 *
 * The host writes page j (->pfn_mkwrite makes that one PTE writable), the
 * guest writes page j (its PTE is writable now), then page k, whose PTE is
 * still read-only. That last write must not land silently: either the
 * driver hears of it, or it faults to the host (6.12 and 6.18 fail KVM_RUN
 * with EFAULT for a write to a read-only PFNMAP PTE). A kernel that proved
 * a read-only block and relaxed it whole on the write to page j lets the
 * write to page k through with no one told.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_provider.h"
#include "ucall_common.h"

#define PAGE		pfnmap_page_size
#define BLOCK		PFNMAP_PMD_BLOCK
#define MARK		0x3b1c000000000000ULL

/* Guest parameters, set with sync_global_to_guest(). */
static uint64_t g_page_j, g_page_k;

static void guest_code(void)
{
	/* A read first: a block over read-only PTEs is mapped read-only */
	READ_ONCE(*(uint64_t *)PFNMAP_TEST_GPA);
	GUEST_SYNC(0);
	WRITE_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + g_page_j * PAGE), MARK | g_page_j);
	GUEST_SYNC(1);
	WRITE_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + g_page_k * PAGE), MARK | g_page_k);
	GUEST_SYNC(2);
	GUEST_DONE();
}

FIXTURE(write_track) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
	uint64_t npages;
};

/* Page j: the block's first page, or one inside it */
FIXTURE_VARIANT(write_track) {
	bool first_page;
};

FIXTURE_VARIANT_ADD(write_track, host_writes_first_page) { true };
FIXTURE_VARIANT_ADD(write_track, host_writes_second_page) { false };

FIXTURE_SETUP(write_track)
{
	struct test_pfnmap_info info;
	const char *reason;
	uint32_t type, flags;
	uint64_t off;
	void *hva;
	int ret;

	if (!pfnmap_provider(&info, 2 * BLOCK, &reason))
		SKIP(return, "%s", reason);
	off = pfnmap_provider_aligned(&info, BLOCK);
	if (off + BLOCK > info.size)
		SKIP(return,
		     "test_pfnmap region base=%#llx size=%#llx has no %lu MiB-aligned %lu MiB window",
		     info.base, info.size, BLOCK >> 20, BLOCK >> 20);
	pfnmap_accepted_kind(&type, &flags, NULL);
	hva = pfnmap_reserve_aligned(BLOCK, BLOCK);
	ret = pfnmap_map(&self->r, type, flags | TEST_PFNMAP_F_WRITE_TRACK, off, BLOCK, true, hva);
	if (ret == -EINVAL)
		SKIP(return,
		     "test_pfnmap has no F_WRITE_TRACK: load the provider of this series (v3 or later)");
	ASSERT_EQ(0, ret);
	self->npages = BLOCK / PAGE;
	self->vm = pfnmap_vm_create_with_region(&self->vcpu, guest_code, hva, BLOCK);
}

FIXTURE_TEARDOWN(write_track)
{
	pfnmap_teardown(self->vm, &self->r);
}

/* Did the driver's ->pfn_mkwrite make page @page writable? */
static bool driver_saw(struct pfnmap_region *r, uint64_t page, uint64_t *count)
{
	struct test_pfnmap_mkwrite q = { .page = page };

	TEST_ASSERT(!ioctl(r->fd, TEST_PFNMAP_IOC_MKWRITE, &q),
		    "TEST_PFNMAP_IOC_MKWRITE page %lu: %s", page, strerror(errno));
	*count = q.count;
	return q.seen;
}

static uint64_t host_read(struct pfnmap_region *r, uint64_t page)
{
	return READ_ONCE(*(uint64_t *)(r->hva + page * PAGE));
}

#define SILENT_FORMAT \
	"the guest wrote page %lu of the %lu MiB block through a read-only PTE and the driver never heard of it (%lu ->pfn_mkwrite calls in all): stage 2 was writable over it"
#define OTHER_ERRNO_FORMAT \
	"KVM_RUN failed with errno %d (%s) on the write to page %lu; a write the driver does not allow faults to the host with EFAULT"

TEST_F(write_track, a_write_to_a_read_only_pte_never_lands_silently)
{
	uint64_t count, j, k;
	bool landed, seen;
	struct ucall uc;
	int ret;

	j = variant->first_page ? 0 : 1;
	k = self->npages / 2 + 3;
	g_page_j = j;
	g_page_k = k;
	sync_global_to_guest(self->vm, g_page_j);
	sync_global_to_guest(self->vm, g_page_k);

	ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
	/* ->pfn_mkwrite makes PTE j writable; no MMU notifier runs */
	WRITE_ONCE(*(uint64_t *)(self->r.hva + j * PAGE), MARK);
	ASSERT_TRUE(driver_saw(&self->r, j, &count))
		TH_LOG("the provider did not record the host's write to page %lu", j);

	/* Page j's PTE is writable: the guest's write there must work */
	ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
	ASSERT_EQ(MARK | j, host_read(&self->r, j))
		TH_LOG("the guest's write to page %lu is not in the memory the host maps", j);

	ret = _vcpu_run(self->vcpu);
	if (ret) {
		/* Faulted to the host: allowed, if nothing was written */
		EXPECT_EQ(EFAULT, errno)
			TH_LOG(OTHER_ERRNO_FORMAT, errno, strerror(errno), k);
		EXPECT_NE(MARK | k, host_read(&self->r, k))
			TH_LOG("KVM_RUN failed, yet the guest's write to page %lu landed", k);
		ksft_print_msg("the write to read-only page %lu faulted to the host (EFAULT)\n", k);
		return;
	}
	ASSERT_EQ(UCALL_SYNC, get_ucall(self->vcpu, &uc))
		TH_LOG("guest stopped early: exit reason %u", self->vcpu->run->exit_reason);
	landed = host_read(&self->r, k) == (MARK | k);
	seen = driver_saw(&self->r, k, &count);
	EXPECT_TRUE(!landed || seen)
		TH_LOG(SILENT_FORMAT, k, BLOCK >> 20, count);
	if (seen)
		ksft_print_msg("the write to page %lu reached the driver's ->pfn_mkwrite\n", k);
}

TEST_HARNESS_MAIN
