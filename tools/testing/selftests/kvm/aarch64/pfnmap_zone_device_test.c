// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_zone_device_test - device-dax shaped memory as guest memory.
 *
 * SPEC S2-9. Device-dax (/dev/daxX.Y) and fsdax map ZONE_DEVICE pages:
 * they have a struct page and a kernel alias, are not in memblock, and are
 * mapped by devmap PTEs in a VMA that is neither VM_PFNMAP nor VM_MIXEDMAP.
 * VMs use them for RAM and virtio-pmem. The provider's F_ZONE_DEVICE mode
 * builds that VMA shape with memremap_pages() over RAM above mem=.
 *
 * Such a memslot is accepted and the guest runs on every CPU, FWB or not:
 * 6.12 maps it Device, 6.18 Normal-WB, and SPEC takes either. A kernel that
 * applies its PFNMAP memory-type rules to every VMA refuses it at the first
 * fault (EFAULT from KVM_RUN) where it cannot map cacheable.
 */
#include <errno.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_provider.h"
#include "pfnmap_s2view.h"
#include "ucall_common.h"

#define PAGE		pfnmap_page_size
/* memremap_pages() works in 2 MiB subsections */
#define BYTES		(2UL << 20)
#define HOST_MARK	0x2d0e000000000000ULL
#define GUEST_MARK	0x2d0f000000000000ULL

#define NO_ZONE_DEVICE_MSG \
	"this kernel cannot map ZONE_DEVICE pages as device-dax does (no CONFIG_ZONE_DEVICE, or no devmap PTEs: 6.17+): test with a real /dev/daxX.Y there"

static uint64_t g_npages;
static uint64_t g_seen[BYTES / 4096];

/* Read what the host wrote on each page, then leave a word of its own */
static void guest_code(void)
{
	pfnmap_guest_touch_pages(PFNMAP_TEST_GPA, g_npages, g_seen, GUEST_MARK);
	GUEST_DONE();
}

FIXTURE(zone_device) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
	uint64_t npages;
};

FIXTURE_SETUP(zone_device)
{
	struct test_pfnmap_info info;
	const char *reason;
	uint64_t off, i;
	int ret;

	if (!pfnmap_provider(&info, BYTES, &reason))
		SKIP(return, "%s", reason);
	off = pfnmap_provider_aligned(&info, BYTES);
	if (off + BYTES > info.size)
		SKIP(return,
		     "test_pfnmap region base=%#llx size=%#llx has no 2 MiB-aligned 2 MiB window",
		     info.base, info.size);
	ret = pfnmap_map(&self->r, TEST_PFNMAP_TYPE_NORMAL_WB, TEST_PFNMAP_F_ZONE_DEVICE,
			 off, BYTES, true, NULL);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "%s", NO_ZONE_DEVICE_MSG);
	if (ret == -EINVAL)
		SKIP(return,
		     "test_pfnmap has no F_ZONE_DEVICE: load the provider of this series (v3 or later)");
	ASSERT_EQ(0, ret) TH_LOG("F_ZONE_DEVICE mapping: %s", strerror(-ret));
	self->npages = BYTES / PAGE;
	/* The host's writes fault the devmap PTEs in, as a VMM's would */
	for (i = 0; i < self->npages; i++)
		WRITE_ONCE(*(uint64_t *)(self->r.hva + i * PAGE), HOST_MARK | i);
	self->vm = pfnmap_vm_create(&self->vcpu, guest_code, BYTES);
}

FIXTURE_TEARDOWN(zone_device)
{
	pfnmap_teardown(self->vm, &self->r);
}

#define REFUSED_SLOT_FORMAT \
	"a ZONE_DEVICE (device-dax shaped) memslot was refused: errno %d (%s); SPEC S2-9 wants it accepted on every CPU"
#define REFUSED_RUN_FORMAT \
	"KVM_RUN failed on ZONE_DEVICE guest memory: errno %d (%s); SPEC S2-9: accepted and mapped on every CPU (6.12 maps it Device)"
#define NOT_SAFE_FORMAT \
	"IPA %#lx is %s at stage 2; SPEC S2-9 takes Device-nGnRE (6.12) or Normal-WB (6.18)"

TEST_F(zone_device, accepted_and_mapped_on_every_cpu)
{
	struct pfnmap_s2_leaf leaf;
	uint64_t i, wrong = 0;
	struct ucall uc;
	int ret;

	ret = __vm_set_user_memory_region(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
					  BYTES, self->r.hva);
	ASSERT_EQ(0, ret) TH_LOG(REFUSED_SLOT_FORMAT, errno, strerror(errno));
	pfnmap_virt_map(self->vm, PFNMAP_TEST_GPA, BYTES);
	g_npages = self->npages;
	sync_global_to_guest(self->vm, g_npages);

	ret = _vcpu_run(self->vcpu);
	ASSERT_EQ(0, ret) TH_LOG(REFUSED_RUN_FORMAT, errno, strerror(errno));
	ASSERT_EQ(UCALL_DONE, get_ucall(self->vcpu, &uc))
		TH_LOG("guest stopped early: exit reason %u", self->vcpu->run->exit_reason);

	sync_global_from_guest(self->vm, g_seen);
	for (i = 0; i < self->npages; i++) {
		uint64_t *p = self->r.hva + i * PAGE;

		if (g_seen[i] != (HOST_MARK | i) || READ_ONCE(p[1]) != (GUEST_MARK | i))
			wrong++;
	}
	EXPECT_EQ(0, wrong)
		TH_LOG("%lu of %lu pages: the guest and the host do not see the same memory",
		       wrong, self->npages);

	/* Either safe profile; where there is no view, the run above decides */
	ret = pfnmap_s2_lookup(self->vm, PFNMAP_TEST_GPA, &leaf);
	if (ret == -ENODEV) {
		ksft_print_msg("stage-2 type not checked: %s\n", pfnmap_no_view_reason);
		return;
	}
	ASSERT_EQ(0, ret);
	EXPECT_TRUE(leaf.type == S2T_DEVICE_nGnRE || leaf.type == S2T_NORMAL_WB)
		TH_LOG(NOT_SAFE_FORMAT, PFNMAP_TEST_GPA, pfnmap_s2_type_name(leaf.type));
}

TEST_HARNESS_MAIN
