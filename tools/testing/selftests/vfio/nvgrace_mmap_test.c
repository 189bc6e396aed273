// SPDX-License-Identifier: GPL-2.0-only
/*
 * NV-4: an nvgrace-gpu mmap that does not fit the device memory fails
 * cleanly (EINVAL from the driver's range check) and leaves nothing mapped
 * at the address that was asked for. A valid one-page mmap is the control.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pfnmap_vfio_kvm.h"
#include "pfnmap_vfio.h"

static const char *device_bdf;

FIXTURE(nvgrace_mmap) {
	struct vfio_pci_device dev;
	struct vfio_region region;
	uint64_t page;
};

FIXTURE_VARIANT(nvgrace_mmap) {
	uint32_t index;
};

FIXTURE_VARIANT_ADD(nvgrace_mmap, usemem) {
	.index = NVGRACE_USEMEM_INDEX,
};

FIXTURE_VARIANT_ADD(nvgrace_mmap, resmem) {
	.index = NVGRACE_RESMEM_INDEX,
};

FIXTURE_SETUP(nvgrace_mmap)
{
	char reason[256];
	const char *why;
	int err;

	vfio_kvm_env(device_bdf);
	self->page = getpagesize();
	why = nvgrace_region_open(&self->dev, device_bdf, variant->index, &self->region,
				  &err, reason, sizeof(reason));
	ASSERT_EQ(0, err) TH_LOG("%s", why);
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(nvgrace_mmap)
{
	vfio_pci_device_close(&self->dev);
}

/*
 * mmap at a hint inside freshly released address space; on failure, check
 * that no mapping of ours intersects the requested range.
 */
static int try_mmap(struct __test_metadata *_metadata,
		    FIXTURE_DATA(nvgrace_mmap) *self, uint32_t index,
		    uint64_t offset, uint64_t len)
{
	void *hint, *p;
	int err;

	hint = vfio_aligned_hint(len, self->page);
	p = vfio_pci_mmap(&self->dev, index, offset, len, hint);
	if (p != MAP_FAILED) {
		munmap(p, len);
		return 0;
	}
	err = errno;
	EXPECT_FALSE(vfio_range_has_mapping(hint, len))
		TH_LOG("failed mmap left a mapping in [%p, +0x%lx)", hint, (unsigned long)len);
	return -err;
}

TEST_F(nvgrace_mmap, one_page_at_start_maps)
{
	ASSERT_EQ(0, try_mmap(_metadata, self, variant->index, 0, self->page));
}

TEST_F(nvgrace_mmap, offset_past_device_memory_fails)
{
	uint64_t off = (self->region.mmap_size + self->page - 1) & ~(self->page - 1);

	ASSERT_EQ(-EINVAL, try_mmap(_metadata, self, variant->index, off, self->page));
}

TEST_F(nvgrace_mmap, size_straddling_the_end_fails)
{
	uint64_t end = self->region.mmap_size & ~(self->page - 1);

	ASSERT_EQ(-EINVAL, try_mmap(_metadata, self, variant->index,
				    end - self->page, 2 * self->page));
}

TEST_F(nvgrace_mmap, length_larger_than_bar_fails)
{
	ASSERT_EQ(-EINVAL, try_mmap(_metadata, self, variant->index, 0,
				    2 * self->region.info.size));
}

int main(int argc, char *argv[])
{
	/* Line by line, so a timeout still leaves the log of what ran. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	device_bdf = vfio_selftests_get_bdf(&argc, argv);
	return test_harness_run(argc, argv);
}
