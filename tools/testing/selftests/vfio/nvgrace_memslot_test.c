// SPDX-License-Identifier: GPL-2.0-only
/*
 * NV-1, NV-2: the nvgrace-gpu device memory regions, mmapped through VFIO
 * and fed into a KVM memslot.
 *
 * usemem (region 4) is cacheable memory outside the kernel's linear map.
 * With KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED = 1 the memslot is accepted
 * and stage 2 is Normal-WB; with 0 the memslot is refused with EINVAL. A
 * kernel that accepts it and maps it Device (the unpatched demotion) fails.
 * resmem (region 2) is mapped write-combine with VM_ALLOW_ANY_UNCACHED and
 * must be Normal-NC at stage 2 on every kernel.
 *
 * The stage-2 type comes from the debugfs view; without it, an execute
 * probe tells cacheable (runs) from Device/NC (instruction abort).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_s2view.h"
#include "pfnmap_vfio_kvm.h"
#include "pfnmap_vfio.h"

static const char *device_bdf;

FIXTURE(nvgrace_memslot) {
	struct vfio_pci_device dev;
	struct vfio_region region;
	uint64_t pa;		/* physical base of the region, 0 if unknown */
	void *hva;
	int cap;
};

FIXTURE_VARIANT(nvgrace_memslot) {
	uint32_t index;
	bool cacheable;		/* the driver maps it with a cacheable pgprot */
	int s2_type;		/* expected stage-2 type when accepted */
	enum pfnmap_path path;
	bool if_mapped;		/* cap = 0: judge what KVM maps, if it does */
};

FIXTURE_VARIANT_ADD(nvgrace_memslot, usemem_mapped_when_cap_1) {
	.index = NVGRACE_USEMEM_INDEX,
	.cacheable = true,
	.s2_type = S2T_NORMAL_WB,
	.path = WHEN_CAP_1,
};

FIXTURE_VARIANT_ADD(nvgrace_memslot, usemem_refused_when_cap_0) {
	.index = NVGRACE_USEMEM_INDEX,
	.cacheable = true,
	.s2_type = S2T_NORMAL_WB,
	.path = WHEN_CAP_0,
};

/*
 * Mapped although cap = 0 says refuse (the unpatched kernel does): stage 2
 * must still not be uncached. It can fail or skip, never pass, so a cap = 0
 * cell credits no cap = 1 requirement.
 */
FIXTURE_VARIANT_ADD(nvgrace_memslot, usemem_if_mapped_when_cap_0) {
	.index = NVGRACE_USEMEM_INDEX,
	.cacheable = true,
	.s2_type = S2T_NORMAL_WB,
	.path = WHEN_CAP_0,
	.if_mapped = true,
};

FIXTURE_VARIANT_ADD(nvgrace_memslot, resmem) {
	.index = NVGRACE_RESMEM_INDEX,
	.cacheable = false,
	.s2_type = S2T_NORMAL_NC,
};

FIXTURE_SETUP(nvgrace_memslot)
{
	struct vfio_region use;
	char reason[256];
	const char *why;
	uint64_t base;
	int err;

	self->cap = vfio_kvm_env(device_bdf)->cap;
	why = pfnmap_path_skip(variant->path);
	if (why)
		SKIP(return, "%s", why);
	why = nvgrace_region_open(&self->dev, device_bdf, variant->index, &self->region,
				  &err, reason, sizeof(reason));
	ASSERT_EQ(0, err) TH_LOG("%s", why);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_TRUE(self->region.info.flags & VFIO_REGION_INFO_FLAG_MMAP);

	/* Where the region starts in PA, from the DT properties if present. */
	if (vfio_pci_of_u64(device_bdf, "nvidia,gpu-mem-base-pa", &base)) {
		self->pa = base;
		if (variant->index == NVGRACE_RESMEM_INDEX) {
			ASSERT_EQ(0, vfio_pci_region_get(&self->dev, NVGRACE_USEMEM_INDEX, &use));
			self->pa = base + use.mmap_size;
		}
	}

	self->hva = vfio_pci_mmap(&self->dev, variant->index, self->region.mmap_offset,
				  self->region.mmap_size,
				  vfio_aligned_hint(self->region.mmap_size, PFNMAP_SZ_1G));
	ASSERT_NE(MAP_FAILED, self->hva)
		TH_LOG("mmap of region %u: %s", variant->index, strerror(errno));
}

FIXTURE_TEARDOWN(nvgrace_memslot)
{
	if (self->hva && self->hva != MAP_FAILED)
		munmap(self->hva, self->region.mmap_size);
	vfio_pci_device_close(&self->dev);
}

#define REFUSED_NOTHING_TO_JUDGE_MSG \
	"cap = 0: the memslot over usemem was refused (EINVAL): nothing is mapped to judge"
#define MAPPED_AT_CAP_0_MSG \
	"cap = 0, yet KVM mapped usemem: Normal-WB, so never uncached (SEC-1 holds); being mapped at all is usemem_refused_when_cap_0's failure"

/* One stage-2 fault per 4K page of a GiB-sized region: slow under emulation. */
TEST_F_TIMEOUT(nvgrace_memslot, guest_and_host_share_every_page, 600)
{
	uint64_t size = self->region.mmap_size;
	struct vfio_kvm_probe p;
	struct pfnmap_s2_summary s2;
	bool view;

	vfio_kvm_create(&p, self->hva, size);
	if (p.slot_errno) {
		vfio_kvm_destroy(&p);
		ASSERT_EQ(WHEN_CAP_0, variant->path)
			TH_LOG("memslot over region %u refused: %s (cap=%d)",
			       variant->index, strerror(p.slot_errno), self->cap);
		ASSERT_EQ(EINVAL, p.slot_errno);
		if (variant->if_mapped)
			SKIP(return, REFUSED_NOTHING_TO_JUDGE_MSG);
		return;
	}
	if (variant->path == WHEN_CAP_0 && !variant->if_mapped) {
		vfio_kvm_destroy(&p);
		ASSERT_EQ(EINVAL, p.slot_errno)
			TH_LOG("cap=0, yet the memslot over usemem was accepted");
	}

	vfio_kvm_run(&p, self->hva, size, true);
	view = pfnmap_s2_summarise(p.vm, VFIO_KVM_GPA, VFIO_KVM_GPA + size,
				   variant->s2_type, self->pa, &s2) == 0 && !s2.not_shown;
	vfio_kvm_destroy(&p);

	ksft_print_msg("execute %s\n", p.exec ? "ran" : "aborted");
	if (view)
		ksft_print_msg("stage 2: %lu of %lu bytes mapped, %lu %s, other %s, largest %s\n",
			       (unsigned long)s2.mapped, (unsigned long)size,
			       (unsigned long)s2.bytes_of_type,
			       pfnmap_s2_type_name(variant->s2_type),
			       s2.other < 0 ? "none" : pfnmap_s2_type_name(s2.other),
			       s2.largest);

	pfnmap_expect_round_trip(_metadata, &p.rt);
	if (view) {
		ASSERT_EQ(size, s2.mapped) TH_LOG("not every touched page has a stage-2 leaf");
		ASSERT_EQ(size, s2.bytes_of_type)
			TH_LOG("stage 2 maps region %u as %s at IPA 0x%lx, expected %s%s",
			       variant->index, pfnmap_s2_type_name(s2.other),
			       (unsigned long)s2.other_ipa,
			       pfnmap_s2_type_name(variant->s2_type), variant->cacheable ?
			       " (Device-nGnRE demotion of cacheable memory)" : "");
		ASSERT_FALSE(s2.pa_mismatch) TH_LOG("stage-2 leaf at IPA 0x%lx maps the wrong PA",
						    (unsigned long)s2.bad_pa_ipa);
	} else if (variant->cacheable) {
		ASSERT_EQ(1, p.exec)
			TH_LOG("execute from usemem aborted: stage 2 is Device, not Normal-WB");
		ksft_print_msg("stage-2 type inferred by the execute probe: cacheable\n");
	}
	if (variant->if_mapped)
		SKIP(return, MAPPED_AT_CAP_0_MSG);
	if (view || variant->cacheable)
		return;
	ASSERT_EQ(0, p.exec) TH_LOG("guest executed from Normal-NC resmem: stage 2 is cacheable");
	SKIP(return,
	     "data round trip passed and execute aborted (not cacheable), but Normal-NC vs Device needs memory types in KVM's stage-2 dump: CONFIG_PTDUMP_STAGE2_DEBUGFS and this series");
}

int main(int argc, char *argv[])
{
	/* Line by line, so a timeout still leaves the log of what ran. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	device_bdf = vfio_selftests_get_bdf(&argc, argv);
	return test_harness_run(argc, argv);
}
