// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_provider_test - the test PFNMAP provider's own error paths (PRV-1).
 *
 * Every other test trusts /dev/test_pfnmap to hand out exactly the mapping
 * it asked for; this one checks that bad input gets EINVAL (or the errno
 * the interface documents) and maps nothing, that the module claims its
 * region and keeps its parameters root-only, and runs a bounded loop of
 * random configurations. The rig fails the test on any kernel splat.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kvm_util.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"

#define DEV		"/dev/test_pfnmap"
#define PARAMS		"/sys/module/test_pfnmap/parameters"
#define RANDOM_ROUNDS	2000

FIXTURE(prv) {
	struct test_pfnmap_info info;
	int fd;
};

FIXTURE_SETUP(prv)
{
	const char *reason;

	ksft_print_msg("REQ: PRV-1\n");
	self->fd = -1;
	if (!pfnmap_provider_ready(0, &reason))
		SKIP(return, "%s", reason);
	self->fd = open(DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, TEST_PFNMAP_IOC_INFO, &self->info));
}

FIXTURE_TEARDOWN(prv)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int config_errno(int fd, uint32_t type, uint32_t flags, uint64_t offset,
			uint64_t size)
{
	struct test_pfnmap_config cfg = {
		.type = type, .flags = flags, .offset = offset, .size = size,
	};

	return ioctl(fd, TEST_PFNMAP_IOC_CONFIG, &cfg) ? errno : 0;
}

/* An mmap that must fail; then the address it was offered is still free. */
static void expect_mmap_einval(struct __test_metadata *_metadata, int fd,
			       size_t len, off_t off, const char *what)
{
	void *hint = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *p;

	ASSERT_NE(MAP_FAILED, hint);
	ASSERT_EQ(0, munmap(hint, len));
	p = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("%s: mmap succeeded", what);
	if (p != MAP_FAILED) {
		munmap(p, len);
		return;
	}
	EXPECT_EQ(EINVAL, errno) TH_LOG("%s: mmap errno %d, want EINVAL", what, errno);
	/* msync() of an unmapped range fails with ENOMEM: nothing was mapped */
	EXPECT_EQ(-1, msync(hint, len, MS_ASYNC));
	EXPECT_EQ(ENOMEM, errno) TH_LOG("%s: something is mapped at the hint", what);
}

TEST_F(prv, bad_configurations_get_einval)
{
	uint64_t pg = pfnmap_page_size, size = self->info.size;
	const struct {
		uint32_t type, flags;
		uint64_t offset, size;
		const char *what;
	} bad[] = {
		{ 4, 0, 0, pg, "unknown memory type" },
		{ ~0u, 0, 0, pg, "memory type ~0" },
		{ 0, 1u << 31, 0, pg, "unknown flag" },
		{ 0, 0, 0, 0, "size 0" },
		{ 0, 0, 0, pg + 1, "size not a page multiple" },
		{ 0, 0, 1, pg, "offset not page aligned" },
		{ 0, 0, ~0ULL & ~(pg - 1), 2 * pg, "offset + size overflows" },
		{ 0, 0, size, pg, "range past the region" },
		{ 0, 0, 0, size + pg, "size larger than the region" },
		{ 0, TEST_PFNMAP_F_LINEAR, pg, pg, "linear backing with an offset" },
		{ 0, TEST_PFNMAP_F_LINEAR, 0, self->info.linear_max + pg,
		  "linear backing over its maximum" },
		{ 0, TEST_PFNMAP_F_MIXEDMAP | TEST_PFNMAP_F_PTE_DEVICE, 0, pg,
		  "PTE type on a VM_MIXEDMAP" },
		{ 0, TEST_PFNMAP_F_MIXEDMAP | TEST_PFNMAP_F_HOLE, 0, 4 * pg,
		  "layout on a VM_MIXEDMAP" },
		{ 0, TEST_PFNMAP_F_SWAP_PAIRS, 0, pg, "layout on a single page" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *what = bad[i].what;
		int err = config_errno(self->fd, bad[i].type, bad[i].flags,
				       bad[i].offset, bad[i].size);

		EXPECT_EQ(EINVAL, err) TH_LOG("CONFIG with %s: errno %d, want EINVAL", what, err);
	}

	EXPECT_EQ(-1, ioctl(self->fd, TEST_PFNMAP_IOC_CONFIG, (void *)16));
	EXPECT_EQ(EFAULT, errno) TH_LOG("CONFIG from an unmapped address: want EFAULT");
	EXPECT_EQ(-1, ioctl(self->fd, _IO('P', 9)));
	EXPECT_EQ(ENOTTY, errno) TH_LOG("unknown ioctl: want ENOTTY");
}

TEST_F(prv, bad_mmaps_get_einval_and_map_nothing)
{
	expect_mmap_einval(_metadata, self->fd, pfnmap_page_size, 0, "mmap before CONFIG");
	ASSERT_EQ(0, config_errno(self->fd, 0, TEST_PFNMAP_F_LINEAR, 0, 2 * pfnmap_page_size));
	expect_mmap_einval(_metadata, self->fd, pfnmap_page_size, 0,
			   "mmap shorter than the CONFIG size");
	expect_mmap_einval(_metadata, self->fd, 4 * pfnmap_page_size, 0,
			   "mmap longer than the CONFIG size");
	expect_mmap_einval(_metadata, self->fd, 2 * pfnmap_page_size, pfnmap_page_size,
			   "mmap at a non-zero offset");
}

TEST_F(prv, region_is_claimed_and_parameters_are_root_only)
{
	char want[64], line[256];
	bool claimed = false;
	struct stat st;
	FILE *f;

	ASSERT_EQ(0, stat(DEV, &st));
	EXPECT_EQ(0600, st.st_mode & 0777) TH_LOG(DEV " mode %o, want 0600", st.st_mode & 0777);
	if (!stat(PARAMS "/base", &st))
		EXPECT_EQ(0400, st.st_mode & 0777)
			TH_LOG("parameter base mode %o, want 0400", st.st_mode & 0777);
	if (!stat(PARAMS "/size", &st))
		EXPECT_EQ(0400, st.st_mode & 0777)
			TH_LOG("parameter size mode %o, want 0400", st.st_mode & 0777);

	if (!self->info.size)
		SKIP(return,
		     "no non-linear region given to the module (base=/size=): nothing to claim");
	snprintf(want, sizeof(want), "%llx-%llx : test_pfnmap",
		 (unsigned long long)self->info.base,
		 (unsigned long long)(self->info.base + self->info.size - 1));
	f = fopen("/proc/iomem", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want))
			claimed = true;
	fclose(f);
	EXPECT_TRUE(claimed)
		TH_LOG("/proc/iomem has no '%s': the module does not claim its region", want);
}

#define UNMAPPABLE_FORMAT \
	"round %u: accepted CONFIG (type %u flags %#x size %#lx) does not mmap: errno %d"

/*
 * A bounded random walk over the configuration space: every answer is 0 or
 * EINVAL (ENOMEM for linear backing), and a configuration that was accepted
 * maps with its own size and unmaps cleanly.
 */
TEST_F(prv, random_configurations_are_accepted_or_einval)
{
	const uint64_t pg = pfnmap_page_size;
	const uint64_t sizes[] = { 0, 1, pg - 1, pg, 2 * pg, 4 * pg + 8,
				   self->info.size, self->info.linear_max, ~0ULL };
	const uint64_t offsets[] = { 0, 1, pg, 2 * pg, self->info.size - pg,
				     self->info.size, ~0ULL - pg + 1 };
	unsigned int i, accepted = 0;
	uint64_t size, offset;
	uint32_t type, flags;
	int err;
	void *p;

	srandom(0x9f17);	/* fixed: a failure is reproducible */
	for (i = 0; i < RANDOM_ROUNDS; i++) {
		type = random() % 6;
		flags = random() & 0xff;
		size = sizes[random() % ARRAY_SIZE(sizes)];
		offset = offsets[random() % ARRAY_SIZE(offsets)];
		err = config_errno(self->fd, type, flags, offset, size);
		ASSERT_TRUE(err == 0 || err == EINVAL ||
			    (err == ENOMEM && (flags & TEST_PFNMAP_F_LINEAR)))
			TH_LOG("round %u: CONFIG type %u flags %#x offset %#lx size %#lx: errno %d",
			       i, type, flags, offset, size, err);
		if (err || size > (64ULL << 20))
			continue;
		accepted++;
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
		ASSERT_NE(MAP_FAILED, p)
			TH_LOG(UNMAPPABLE_FORMAT, i, type, flags, size, errno);
		ASSERT_EQ(0, munmap(p, size));
	}
	ksft_print_msg("%u of %u random configurations accepted and mapped\n",
		       accepted, RANDOM_ROUNDS);
}

int main(int argc, char **argv)
{
	return pfnmap_harness_main(argc, argv);
}
