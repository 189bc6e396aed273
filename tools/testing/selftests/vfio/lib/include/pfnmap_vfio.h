/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small library for the VFIO selftests: find the device under test, open
 * it through its VFIO group (an IOMMU group, or a no-IOMMU group), query
 * and map its regions, and rebind it to another driver.
 */
#ifndef SELFTEST_PFNMAP_VFIO_H
#define SELFTEST_PFNMAP_VFIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/vfio.h>

#define VFIO_SELFTESTS_BDF_ENV	"VFIO_SELFTESTS_BDF"

/* The nvgrace-gpu regions: resmem is BAR2 (index 2), usemem BAR4 (index 4). */
#define NVGRACE_RESMEM_INDEX	VFIO_PCI_BAR2_REGION_INDEX
#define NVGRACE_USEMEM_INDEX	VFIO_PCI_BAR4_REGION_INDEX
#define NVGRACE_DRIVER		"nvgrace_gpu_vfio_pci"
#define VFIO_PCI_DRIVER		"vfio-pci"

struct vfio_region {
	struct vfio_region_info info;
	/* From the sparse-mmap capability, else the whole region. */
	uint64_t mmap_offset;
	uint64_t mmap_size;
	bool sparse;
};

struct vfio_pci_device {
	char bdf[32];
	char driver[64];
	const char *iommu;	/* "noiommu" or "type1" */
	int container_fd;
	int group_fd;
	int fd;
};

/*
 * The device under test: a trailing "DDDD:BB:DD.F" argument (removed from
 * argv) or $VFIO_SELFTESTS_BDF. NULL when neither is given.
 */
const char *vfio_selftests_get_bdf(int *argc, char *argv[]);
/* The skip reason to print when vfio_selftests_get_bdf() found nothing. */
const char *vfio_selftests_no_bdf_reason(const char *driver);

/* Driver bound to @bdf, "" when none; false if the device does not exist. */
bool vfio_pci_driver_of(const char *bdf, char *buf, size_t len);
/* Reads a sysfs attribute of the device as a number; -1 on error. */
long long vfio_pci_sysfs_ull(const char *bdf, const char *attr);
/* Reads a big-endian 64-bit DT property from the device's of_node. */
bool vfio_pci_of_u64(const char *bdf, const char *prop, uint64_t *val);

/*
 * Binds @bdf to @driver with setup.sh (installed beside the test binary).
 * Returns the driver it was bound to before in @old (may be ""). 0 or -1.
 */
int vfio_pci_rebind(const char *bdf, const char *driver, char *old, size_t len);

/* Opens the device; 0 or -errno with *why set to an actionable reason. */
int vfio_pci_device_open(struct vfio_pci_device *dev, const char *bdf,
			 const char **why);
void vfio_pci_device_close(struct vfio_pci_device *dev);
/*
 * Opens the device under test, which must be bound to @driver. NULL, or the
 * reason to skip (no BDF given, the device cannot be opened, another driver
 * has it), written to @buf when it needs formatting. @dev can always be
 * closed afterwards.
 */
const char *vfio_selftests_open(struct vfio_pci_device *dev, const char *bdf,
				const char *driver, char *buf, size_t len);

/* VFIO_DEVICE_GET_REGION_INFO plus the sparse-mmap capability; -errno. */
int vfio_pci_region_get(struct vfio_pci_device *dev, uint32_t index,
			struct vfio_region *region);

/*
 * For an nvgrace-gpu case's setup: vfio_selftests_open() for the driver,
 * then region @index into *@region. NULL when the region is there and not
 * empty; else why the case is a skip, or, with *@err set to the errno of
 * VFIO_DEVICE_GET_REGION_INFO, why it fails.
 */
const char *nvgrace_region_open(struct vfio_pci_device *dev, const char *bdf,
				uint32_t index, struct vfio_region *region, int *err,
				char *buf, size_t len);

/*
 * mmap(@hint, @len, RW, MAP_SHARED) of region @index at @offset within it.
 * Returns the address, or MAP_FAILED with errno set.
 */
void *vfio_pci_mmap(struct vfio_pci_device *dev, uint32_t index,
		    uint64_t offset, uint64_t len, void *hint);

/*
 * A free address range of @len aligned to @align, as an mmap() hint: a VMM
 * places device memory so that the stage 2 can map it with blocks.
 */
void *vfio_aligned_hint(uint64_t len, uint64_t align);
/* True if any mapping of this process intersects [addr, addr + len). */
bool vfio_range_has_mapping(const void *addr, uint64_t len);

#endif /* SELFTEST_PFNMAP_VFIO_H */
