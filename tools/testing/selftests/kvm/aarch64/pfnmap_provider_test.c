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
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

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
		{ 0, TEST_PFNMAP_F_WRITE_TRACK | TEST_PFNMAP_F_MIXEDMAP, 0, pg,
		  "write tracking on a VM_MIXEDMAP" },
		{ 0, TEST_PFNMAP_F_WRITE_TRACK | TEST_PFNMAP_F_HOLE, 0, 4 * pg,
		  "write tracking with a layout" },
		{ 0, TEST_PFNMAP_F_ZONE_DEVICE, 0, pg, "ZONE_DEVICE of less than 2 MiB" },
		{ 1, TEST_PFNMAP_F_ZONE_DEVICE, 0, 2 << 20, "ZONE_DEVICE not Normal-WB" },
		{ 0, TEST_PFNMAP_F_ZONE_DEVICE | TEST_PFNMAP_F_LINEAR, 0, 2 << 20,
		  "ZONE_DEVICE with linear backing" },
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

TEST_F(prv, write_track_record_checks_its_arguments)
{
	struct test_pfnmap_mkwrite q = { .page = 0 };

	ASSERT_EQ(0, config_errno(self->fd, 0, TEST_PFNMAP_F_LINEAR, 0, 2 * pfnmap_page_size));
	EXPECT_EQ(-1, ioctl(self->fd, TEST_PFNMAP_IOC_MKWRITE, &q));
	EXPECT_EQ(EINVAL, errno) TH_LOG("MKWRITE without write tracking: want EINVAL");

	ASSERT_EQ(0, config_errno(self->fd, 0, TEST_PFNMAP_F_LINEAR | TEST_PFNMAP_F_WRITE_TRACK,
				  0, 2 * pfnmap_page_size));
	q.page = 2;
	EXPECT_EQ(-1, ioctl(self->fd, TEST_PFNMAP_IOC_MKWRITE, &q));
	EXPECT_EQ(EINVAL, errno) TH_LOG("MKWRITE past the configured pages: want EINVAL");
	q.page = 0;
	q.pad = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TEST_PFNMAP_IOC_MKWRITE, &q));
	EXPECT_EQ(EINVAL, errno) TH_LOG("MKWRITE with pad set: want EINVAL");
	q.pad = 0;
	ASSERT_EQ(0, ioctl(self->fd, TEST_PFNMAP_IOC_MKWRITE, &q));
	EXPECT_EQ(0, q.seen);
	EXPECT_EQ(0, q.count);
	/* ->pfn_mkwrite only exists for shared mappings */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * pfnmap_page_size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(EINVAL, errno) TH_LOG("private write-tracked mmap: want EINVAL");
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

/*
 * Loading the module over memory that is not RAM the kernel was told not to
 * use must fail with EINVAL: request_mem_region() alone accepts a PCI BAR of
 * an unbound device and a no-map firmware carve-out ("reserved"). Each case
 * unloads the module, tries the bad range, and loads it back as it was.
 */
#define MODULE_NAME	"test_pfnmap"

static const char *module_file(void)
{
	static char path[256];
	struct utsname u;

	if (!access("/lib/modules/" MODULE_NAME ".ko", R_OK))
		return "/lib/modules/" MODULE_NAME ".ko";
	if (uname(&u))
		return NULL;
	snprintf(path, sizeof(path), "/lib/modules/%s/kernel/lib/" MODULE_NAME ".ko", u.release);
	return access(path, R_OK) ? NULL : path;
}

static bool read_param(const char *name, unsigned long long *v)
{
	char path[128];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), PARAMS "/%s", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fscanf(f, "%llu", v);
	fclose(f);
	return n == 1;
}

/* 0, or the errno of finit_module() */
static int load_module(const char *ko, const char *params)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	if (syscall(__NR_finit_module, fd, params, 0))
		err = errno;
	close(fd);
	return err;
}

static void expect_load_refused(struct __test_metadata *_metadata, uint64_t start,
				const char *what)
{
	unsigned long long b = 0, s = 0;
	char bad[96], orig[96];
	const char *ko = module_file();
	int err, back;

	if (!ko)
		SKIP(return,
		     "no test_pfnmap.ko in /lib/modules: the load-time checks need the module file");
	if (!read_param("base", &b) || !read_param("size", &s))
		SKIP(return, MODULE_NAME " is not loaded as a module with base=/size=");
	if (syscall(__NR_delete_module, MODULE_NAME, O_NONBLOCK))
		SKIP(return,
		     "cannot unload " MODULE_NAME " (%s): the load-time checks reload it",
		     strerror(errno));

	snprintf(bad, sizeof(bad), "base=%#lx size=%#lx", start, pfnmap_page_size);
	err = load_module(ko, bad);
	if (!err)
		syscall(__NR_delete_module, MODULE_NAME, O_NONBLOCK);
	snprintf(orig, sizeof(orig), "base=%#llx size=%#llx", b, s);
	back = load_module(ko, orig);

	EXPECT_EQ(EINVAL, err)
		TH_LOG("loading " MODULE_NAME " over %s at %#lx: %s, want EINVAL",
		       what, start, err ? strerror(err) : "loaded");
	ASSERT_EQ(0, back)
		TH_LOG("could not load " MODULE_NAME
		       " back with %s: %s (the tests after this one lose the provider)",
		       orig, strerror(back));
}

/* The first memory BAR of any PCI function, from sysfs */
static bool find_pci_bar(uint64_t *start)
{
	unsigned long long s, e, flags;
	char path[300];
	struct dirent *d;
	bool found = false;
	DIR *dir = opendir("/sys/bus/pci/devices");
	FILE *f;

	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fscanf(f, "%llx %llx %llx", &s, &e, &flags) == 3) {
			if ((flags & 0x200) && e > s && !(s & (pfnmap_page_size - 1)) &&
			    e - s + 1 >= pfnmap_page_size) {
				*start = s;
				found = true;
				break;
			}
		}
		fclose(f);
	}
	closedir(dir);
	return found;
}

/* A top-level "reserved" range of /proc/iomem: a no-map firmware carve-out */
static bool find_carve_out(uint64_t *start)
{
	unsigned long long s, e;
	char line[256], name[64];
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == ' ' ||
		    sscanf(line, "%llx-%llx : %63[^\n]", &s, &e, name) != 3 ||
		    strcmp(name, "reserved"))
			continue;
		s = (s + pfnmap_page_size - 1) & ~(pfnmap_page_size - 1);
		if (s + pfnmap_page_size - 1 <= e) {
			*start = s;
			fclose(f);
			return true;
		}
	}
	fclose(f);
	return false;
}

TEST(module_refuses_a_pci_bar)
{
	uint64_t start;

	if (!find_pci_bar(&start))
		SKIP(return, "no PCI memory BAR on this machine (/sys/bus/pci/devices)");
	expect_load_refused(_metadata, start, "a PCI BAR");
}

TEST(module_refuses_a_firmware_carve_out)
{
	uint64_t start;

	if (!find_carve_out(&start))
		SKIP(return,
		     "no no-map firmware carve-out on this machine (no top-level 'reserved' range in /proc/iomem)");
	expect_load_refused(_metadata, start, "a no-map firmware carve-out");
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

TEST_HARNESS_MAIN
