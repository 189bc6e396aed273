// SPDX-License-Identifier: GPL-2.0-only
/*
 * A client of the test PFNMAP provider, /dev/test_pfnmap (lib/test_pfnmap.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "test_util.h"
#include "pfnmap_env.h"
#include "pfnmap_provider.h"

#define PFNMAP_DEV	"/dev/test_pfnmap"
#define NO_PROVIDER_REASON \
	"no /dev/test_pfnmap: load test_pfnmap (CONFIG_TEST_PFNMAP) with base=/size= of RAM above mem="
#define SMALL_PROVIDER_REASON \
	"test_pfnmap's non-linear region is too small: reload it with a larger size= of RAM above mem="

bool pfnmap_provider(struct test_pfnmap_info *info, uint64_t nonlinear_bytes,
		     const char **reason)
{
	static struct test_pfnmap_info cached;
	static int state;	/* 0 unprobed, 1 present, -1 absent */
	int fd;

	if (!state) {
		state = -1;
		fd = open(PFNMAP_DEV, O_RDWR);
		if (fd >= 0) {
			if (!ioctl(fd, TEST_PFNMAP_IOC_INFO, &cached))
				state = 1;
			close(fd);
		}
	}
	if (state < 0) {
		*reason = NO_PROVIDER_REASON;
		return false;
	}
	*info = cached;
	if (nonlinear_bytes && cached.size < nonlinear_bytes) {
		*reason = SMALL_PROVIDER_REASON;
		return false;
	}
	return true;
}

int pfnmap_map(struct pfnmap_region *r, uint32_t type, uint32_t flags,
	       uint64_t offset, uint64_t size, bool shared, void *fixed)
{
	struct test_pfnmap_config cfg = {
		.type = type, .flags = flags, .offset = offset, .size = size,
	};
	struct test_pfnmap_info info;
	int mflags = (shared ? MAP_SHARED : MAP_PRIVATE) | (fixed ? MAP_FIXED : 0);
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = open(PFNMAP_DEV, O_RDWR);
	if (r->fd < 0)
		return -errno;
	if (ioctl(r->fd, TEST_PFNMAP_IOC_INFO, &info) ||
	    ioctl(r->fd, TEST_PFNMAP_IOC_CONFIG, &cfg))
		goto fail;
	r->hva = mmap(fixed, size, PROT_READ | PROT_WRITE, mflags, r->fd, 0);
	if (r->hva == MAP_FAILED)
		goto fail;
	r->size = size;
	r->pa = (flags & TEST_PFNMAP_F_LINEAR) ? 0 : info.base + offset;
	return 0;
fail:
	err = -errno;
	close(r->fd);
	r->fd = -1;
	r->hva = NULL;
	return err;
}

void pfnmap_unmap(struct pfnmap_region *r)
{
	/* Zeroed (a fixture's before setup maps it) or failed: nothing to undo */
	if (!r->size)
		return;
	munmap(r->hva, r->size);
	close(r->fd);
	memset(r, 0, sizeof(*r));
}

void *pfnmap_reserve_aligned(uint64_t size, uint64_t align)
{
	uint8_t *p = mmap(NULL, size + align, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t start, end;

	TEST_ASSERT(p != MAP_FAILED, "reserve %#lx bytes: errno %d", size + align, errno);
	start = ((uint64_t)p + align - 1) & ~(align - 1);
	end = start + size;
	/* Trim the slack so later MAP_FIXED mappings own the exact range. */
	if (start > (uint64_t)p)
		munmap(p, start - (uint64_t)p);
	if ((uint64_t)p + size + align > end)
		munmap((void *)end, (uint64_t)p + size + align - end);
	return (void *)start;
}

void pfnmap_accepted_kind(uint32_t *type, uint32_t *flags, const char **name)
{
	bool cap = pfnmap_env()->cap;

	*type = cap ? TEST_PFNMAP_TYPE_NORMAL_WB : TEST_PFNMAP_TYPE_NORMAL_NC;
	*flags = cap ? 0 : TEST_PFNMAP_F_ALLOW_ANY_UNCACHED;
	if (name)
		*name = cap ? "cacheable" : "nc_allow_uncached(cap=0)";
}

const char *pfnmap_type_name(uint32_t type)
{
	static const char * const names[] = {
		"NORMAL_WB", "NORMAL_NC", "DEVICE_nGnRE", "DEVICE_nGnRnE",
	};

	return type < 4 ? names[type] : "?";
}
