// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening a PCI device through VFIO's group interface, with an IOMMU
 * (type1) or in no-IOMMU mode, and mapping its regions.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "pfnmap_provider.h"
#include "pfnmap_vfio.h"

#define NO_GROUP_REASON \
	"device has no IOMMU group: bind it to a VFIO driver (vfio/setup.sh); without an IOMMU boot with vfio.enable_unsafe_noiommu_mode=1"

static void dev_reset_fds(struct vfio_pci_device *dev)
{
	dev->container_fd = -1;
	dev->group_fd = -1;
	dev->fd = -1;
}

static bool is_bdf(const char *s)
{
	unsigned int d, b, s_, f;
	char end;

	return sscanf(s, "%4x:%2x:%2x.%1x%c", &d, &b, &s_, &f, &end) == 4;
}

const char *vfio_selftests_get_bdf(int *argc, char *argv[])
{
	const char *env;

	if (*argc > 1 && is_bdf(argv[*argc - 1])) {
		(*argc)--;
		return argv[*argc];
	}
	env = getenv(VFIO_SELFTESTS_BDF_ENV);
	return env && *env ? env : NULL;
}

const char *vfio_selftests_no_bdf_reason(const char *driver)
{
	static char reason[256];

	snprintf(reason, sizeof(reason),
		 "set %s=<domain:bus:dev.fn> of a device bound to %s (see vfio/setup.sh)",
		 VFIO_SELFTESTS_BDF_ENV, driver);
	return reason;
}

bool vfio_pci_driver_of(const char *bdf, char *buf, size_t len)
{
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (access(path, F_OK))
		return false;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(buf, len, "%s", "");
		return true;
	}
	link[n] = '\0';
	snprintf(buf, len, "%s", basename(link));
	return true;
}

long long vfio_pci_sysfs_ull(const char *bdf, const char *attr)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lli", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

bool vfio_pci_of_u64(const char *bdf, const char *prop, uint64_t *val)
{
	unsigned char be[8];
	char path[256];
	bool ok;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/of_node/%s", bdf, prop);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fread(be, 1, sizeof(be), f) == sizeof(be);
	fclose(f);
	for (*val = 0, i = 0; ok && i < 8; i++)
		*val = (*val << 8) | be[i];
	return ok;
}

int vfio_pci_rebind(const char *bdf, const char *driver, char *old, size_t len)
{
	char exe[512], cmd[1024];
	ssize_t n;

	if (!vfio_pci_driver_of(bdf, old, len))
		return -1;
	if (!strcmp(old, driver))
		return 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -1;
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd), "%s/setup.sh -d %s %s", dirname(exe), driver, bdf);
	fflush(stdout);
	return system(cmd) == 0 ? 0 : -1;
}

static int group_of(const char *bdf)
{
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	return atoi(basename(link));
}

int vfio_pci_device_open(struct vfio_pci_device *dev, const char *bdf,
			 const char **why)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int group, iommu_type, err;

	memset(dev, 0, sizeof(*dev));
	dev_reset_fds(dev);
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	if (!vfio_pci_driver_of(bdf, dev->driver, sizeof(dev->driver))) {
		*why = "no such PCI device (check VFIO_SELFTESTS_BDF)";
		return -ENODEV;
	}
	group = group_of(bdf);
	if (group < 0) {
		*why = NO_GROUP_REASON;
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	dev->iommu = "type1";
	iommu_type = VFIO_TYPE1v2_IOMMU;
	if (access(path, F_OK)) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", group);
		dev->iommu = "noiommu";
		iommu_type = VFIO_NOIOMMU_IOMMU;
	}
	dev->group_fd = open(path, O_RDWR);
	if (dev->group_fd < 0) {
		err = -errno;
		*why = "cannot open the VFIO group node (not bound to VFIO? not root?)";
		goto fail;
	}
	dev->container_fd = open("/dev/vfio/vfio", O_RDWR);
	if (dev->container_fd < 0) {
		err = -errno;
		*why = "cannot open /dev/vfio/vfio (CONFIG_VFIO_CONTAINER)";
		goto fail;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		err = -EBUSY;
		*why = "VFIO group not viable: bind all its devices to a VFIO driver";
		goto fail;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd) ||
	    ioctl(dev->container_fd, VFIO_SET_IOMMU, iommu_type)) {
		err = -errno;
		*why = "cannot attach the group to a container (no-IOMMU needs CAP_SYS_RAWIO)";
		goto fail;
	}
	dev->fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	if (dev->fd < 0) {
		err = -errno;
		*why = "VFIO_GROUP_GET_DEVICE_FD failed (device busy?)";
		goto fail;
	}
	return 0;
fail:
	vfio_pci_device_close(dev);
	return err;
}

void vfio_pci_device_close(struct vfio_pci_device *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	if (dev->container_fd >= 0)
		close(dev->container_fd);
	dev_reset_fds(dev);
}

const char *vfio_selftests_open(struct vfio_pci_device *dev, const char *bdf,
				const char *driver, char *buf, size_t len)
{
	const char *why;
	int ret;

	dev_reset_fds(dev);
	if (!bdf)
		return vfio_selftests_no_bdf_reason(driver);
	ret = vfio_pci_device_open(dev, bdf, &why);
	if (ret) {
		snprintf(buf, len, "%s: %s (%s)", bdf, why, strerror(-ret));
		return buf;
	}
	if (strcmp(dev->driver, driver)) {
		snprintf(buf, len, "%s is bound to '%s', not %s: run vfio/setup.sh %s",
			 bdf, dev->driver, driver, bdf);
		return buf;
	}
	return NULL;
}

const char *nvgrace_region_open(struct vfio_pci_device *dev, const char *bdf,
				uint32_t index, struct vfio_region *region, int *err,
				char *buf, size_t len)
{
	const char *why = vfio_selftests_open(dev, bdf, NVGRACE_DRIVER, buf, len);

	*err = 0;
	if (why)
		return why;
	*err = -vfio_pci_region_get(dev, index, region);
	if (*err)
		snprintf(buf, len, "VFIO_DEVICE_GET_REGION_INFO(%u): %s", index, strerror(*err));
	else if (!region->mmap_size)
		snprintf(buf, len, "region %u is empty on this device%s", index,
			 index == NVGRACE_RESMEM_INDEX ?
			 " (no resmem on this GPU generation)" : "");
	else
		return NULL;
	return buf;
}

static void parse_sparse(struct vfio_region *r, const void *buf)
{
	const struct vfio_region_info_cap_sparse_mmap *sparse;
	const struct vfio_info_cap_header *hdr;
	uint32_t off = r->info.cap_offset;

	while (off) {
		hdr = (const void *)((const char *)buf + off);
		if (hdr->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			sparse = (const void *)hdr;
			if (sparse->nr_areas >= 1) {
				r->sparse = true;
				r->mmap_offset = sparse->areas[0].offset;
				r->mmap_size = sparse->areas[0].size;
			}
			return;
		}
		off = hdr->next;
	}
}

int vfio_pci_region_get(struct vfio_pci_device *dev, uint32_t index,
			struct vfio_region *region)
{
	struct vfio_region_info *info;
	uint32_t argsz = sizeof(*info);
	int ret = 0;

	memset(region, 0, sizeof(*region));
	for (;;) {
		info = calloc(1, argsz);
		if (!info)
			return -ENOMEM;
		info->argsz = argsz;
		info->index = index;
		if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, info)) {
			ret = -errno;
			break;
		}
		if (info->argsz <= argsz)
			break;
		argsz = info->argsz;
		free(info);
	}
	if (!ret) {
		region->info = *info;
		region->mmap_size = info->size;
		if (info->flags & VFIO_REGION_INFO_FLAG_CAPS)
			parse_sparse(region, info);
	}
	free(info);
	return ret;
}

void *vfio_pci_mmap(struct vfio_pci_device *dev, uint32_t index,
		    uint64_t offset, uint64_t len, void *hint)
{
	struct vfio_region r;
	int ret;

	ret = vfio_pci_region_get(dev, index, &r);
	if (ret) {
		errno = -ret;
		return MAP_FAILED;
	}
	return mmap(hint, len, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
		    r.info.offset + offset);
}

void *vfio_aligned_hint(uint64_t len, uint64_t align)
{
	void *p = pfnmap_reserve_aligned(len, align);

	munmap(p, len);
	return p;
}

bool vfio_range_has_mapping(const void *addr, uint64_t len)
{
	unsigned long long lo, hi, s = (uintptr_t)addr, e = s + len;
	char line[512];
	bool hit = false;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return true;	/* cannot prove absence */
	while (!hit && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && lo < e && s < hi)
			hit = true;
	fclose(f);
	return hit;
}
