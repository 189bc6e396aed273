// SPDX-License-Identifier: GPL-2.0-only
/*
 * NV-3: a plain vfio-pci BAR in a KVM memslot is Normal-NC at stage 2,
 * because vfio-pci marks its BAR VMAs VM_ALLOW_ANY_UNCACHED.
 *
 * The device is rebound to vfio-pci with setup.sh (beside this binary) for
 * the test and given back to its previous driver afterwards. The largest
 * mmappable BAR is used; its data round trip only runs when the BAR is
 * known to be plain RAM (QEMU's ivshmem-plain), never on real MMIO.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_s2view.h"
#include "pfnmap_vfio_kvm.h"
#include "pfnmap_vfio.h"

#define IVSHMEM_VENDOR	0x1af4
#define IVSHMEM_DEVICE	0x1110
#define IVSHMEM_RAM_BAR	VFIO_PCI_BAR2_REGION_INDEX

static const char *device_bdf;
static int rebind_ret;

FIXTURE(vfio_pci_memslot) {
	struct vfio_pci_device dev;
	struct vfio_region region;
	uint32_t index;
	bool ram;
	void *hva;
};

FIXTURE_SETUP(vfio_pci_memslot)
{
	struct vfio_region r;
	const char *why;
	uint32_t i;
	int ret;

	vfio_kvm_env(device_bdf);
	if (!device_bdf)
		SKIP(return, "%s", vfio_selftests_no_bdf_reason(VFIO_PCI_DRIVER));
	ASSERT_EQ(0, rebind_ret) TH_LOG("cannot bind %s to vfio-pci with vfio/setup.sh",
					device_bdf);
	ret = vfio_pci_device_open(&self->dev, device_bdf, &why);
	if (ret)
		SKIP(return, "%s: %s (%s)", device_bdf, why, strerror(-ret));
	ASSERT_STREQ(VFIO_PCI_DRIVER, self->dev.driver);

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		if (vfio_pci_region_get(&self->dev, i, &r) ||
		    !(r.info.flags & VFIO_REGION_INFO_FLAG_MMAP) ||
		    r.mmap_size < self->region.mmap_size)
			continue;
		self->region = r;
		self->index = i;
	}
	if (!self->region.mmap_size)
		SKIP(return, "%s has no mmappable BAR", device_bdf);
	self->ram = vfio_pci_sysfs_ull(device_bdf, "vendor") == IVSHMEM_VENDOR &&
		    vfio_pci_sysfs_ull(device_bdf, "device") == IVSHMEM_DEVICE &&
		    self->index == IVSHMEM_RAM_BAR;
	ksft_print_msg("BAR region %u, 0x%lx bytes mmappable%s\n", self->index,
		       (unsigned long)self->region.mmap_size,
		       self->ram ? " (ivshmem RAM)" : "");
	self->hva = vfio_pci_mmap(&self->dev, self->index, self->region.mmap_offset,
				  self->region.mmap_size,
				  vfio_aligned_hint(self->region.mmap_size, PFNMAP_SZ_1G));
	ASSERT_NE(MAP_FAILED, self->hva) TH_LOG("mmap: %s", strerror(errno));
}

FIXTURE_TEARDOWN(vfio_pci_memslot)
{
	if (self->hva && self->hva != MAP_FAILED)
		munmap(self->hva, self->region.mmap_size);
	vfio_pci_device_close(&self->dev);
}

TEST_F_TIMEOUT(vfio_pci_memslot, bar_is_normal_nc_at_stage2, 300)
{
	uint64_t size = self->region.mmap_size;
	struct vfio_kvm_probe p;
	struct pfnmap_s2_summary s2;
	bool view = false;

	vfio_kvm_create(&p, self->hva, size);
	ASSERT_EQ(0, p.slot_errno) TH_LOG("memslot over the vfio-pci BAR refused: %s",
					  strerror(p.slot_errno));
	if (self->ram)
		vfio_kvm_run(&p, self->hva, size, true);
	if (self->ram)
		view = pfnmap_s2_summarise(p.vm, VFIO_KVM_GPA, VFIO_KVM_GPA + size,
					   S2T_NORMAL_NC, 0, &s2) == 0 && !s2.not_shown;
	vfio_kvm_destroy(&p);
	if (!self->ram)
		SKIP(return, "BAR %u of %s may be real MMIO: %s", self->index, device_bdf,
		     "the guest access test only runs on QEMU's ivshmem-plain");

	ksft_print_msg("execute %s\n", p.exec ? "ran" : "aborted");
	pfnmap_expect_round_trip(_metadata, &p.rt);
	ASSERT_EQ(0, p.exec) TH_LOG("guest executed from a vfio-pci BAR: stage 2 is cacheable");
	if (!view)
		SKIP(return,
		     "data round trip passed and execute aborted (not cacheable), but Normal-NC vs Device needs memory types in KVM's stage-2 dump: CONFIG_PTDUMP_STAGE2_DEBUGFS and this series");
	ksft_print_msg("stage 2: %lu of %lu bytes mapped, other type %s\n",
		       (unsigned long)s2.mapped, (unsigned long)size,
		       s2.other < 0 ? "none" : pfnmap_s2_type_name(s2.other));
	ASSERT_EQ(size, s2.mapped);
	ASSERT_EQ(size, s2.bytes_of_type)
		TH_LOG("stage 2 maps the vfio-pci BAR as %s at IPA 0x%lx, expected NORMAL_NC",
		       pfnmap_s2_type_name(s2.other), (unsigned long)s2.other_ipa);
}

static char old_driver[64];
static pid_t main_pid;

/* test_harness_run() exits: give the device back from an atexit handler. */
static void restore_driver(void)
{
	char now[64];

	if (getpid() == main_pid && old_driver[0] &&
	    strcmp(old_driver, VFIO_PCI_DRIVER))
		vfio_pci_rebind(device_bdf, old_driver, now, sizeof(now));
}

/* The rebind happens here, in the parent, so it is undone whatever happens. */
int main(int argc, char *argv[])
{
	/* Line by line, so a timeout still leaves the log of what ran. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	device_bdf = vfio_selftests_get_bdf(&argc, argv);
	if (device_bdf) {
		main_pid = getpid();
		rebind_ret = vfio_pci_rebind(device_bdf, VFIO_PCI_DRIVER, old_driver,
					     sizeof(old_driver));
		atexit(restore_driver);
	}
	return test_harness_run(argc, argv);
}
