// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers for the cacheable stage-2 PFNMAP selftests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <asm/hwcap.h>

#include "kselftest.h"
#include "pfnmap_util.h"
#include "ucall_common.h"

#define PFNMAP_DEV	"/dev/test_pfnmap"
#define DEBUGFS		"/sys/kernel/debug"

#define NO_VIEW_REASON \
	"no stage-2 view (stage2_leaves): build with CONFIG_KVM_ARM_STAGE2_DEBUGFS=y and mount debugfs"
#define NO_PROVIDER_REASON \
	"no /dev/test_pfnmap: load test_pfnmap (CONFIG_TEST_PFNMAP) with base=/size= of RAM above mem="
#define SMALL_PROVIDER_REASON \
	"test_pfnmap's non-linear region is too small: reload it with a larger size= of RAM above mem="
#define ENV_FORMAT \
	"ENV: cap=%d fwb=%s dic=%d idc=%d mte=%s kvm_mode=%s s2view=%s where=%s kernel=%s\n"

const char pfnmap_no_view_reason[] = NO_VIEW_REASON;

/* ---------------- environment ---------------- */

static char *read_kernel_log(void)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;

	if (len <= 0)
		return NULL;
	buf = calloc(1, len + 1);
	if (!buf)
		return NULL;
	if (klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A feature absent from a log that still holds the boot banner is "no". */
static int log_feature(const char *log, const char *desc)
{
	char needle[128];

	if (!log || !strstr(log, "CPU features: detected:"))
		return PFNMAP_UNKNOWN;
	snprintf(needle, sizeof(needle), "CPU features: detected: %s", desc);
	return !!strstr(log, needle);
}

static const char *log_kvm_mode(const char *log)
{
	if (!log)
		return "unknown";
	if (strstr(log, "Protected nVHE mode initialized successfully"))
		return "protected";
	if (strstr(log, "Hyp nVHE mode initialized successfully"))
		return "nvhe";
	if (strstr(log, "Hyp hVHE mode initialized successfully"))
		return "hvhe";
	if (strstr(log, "VHE mode initialized successfully"))
		return "vhe";
	return "unknown";
}

static bool file_mentions_qemu(const char *path)
{
	char buf[512] = {};
	ssize_t n;
	int fd, i;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	/* DT compatible is a NUL-separated list. */
	for (i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	return strstr(buf, "linux,dummy-virt") || strstr(buf, "QEMU") ||
	       strstr(buf, "qemu");
}

static const char *where(void)
{
	if (file_mentions_qemu("/sys/firmware/devicetree/base/compatible") ||
	    file_mentions_qemu("/sys/class/dmi/id/sys_vendor") ||
	    file_mentions_qemu("/sys/class/dmi/id/product_name"))
		return "qemu";
	return "hardware";
}

static void mount_debugfs_once(void)
{
	if (access(DEBUGFS "/kvm", F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
}

static const char *tri(int v)
{
	return v == PFNMAP_UNKNOWN ? "unknown" : v ? "1" : "0";
}

const struct pfnmap_env *pfnmap_env(void)
{
	static struct pfnmap_env env;
	static bool done;
	struct utsname uts;
	struct kvm_vm *vm;
	uint64_t ctr;
	char *log;

	if (done)
		return &env;

	mount_debugfs_once();
	vm = vm_create_barebones();
	env.cap = vm_check_cap(vm, KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED);
	env.s2view = pfnmap_s2_view_present(vm);
	kvm_vm_free(vm);

	ctr = pfnmap_read_ctr();
	env.dic = PFNMAP_CTR_DIC(ctr);
	env.idc = PFNMAP_CTR_IDC(ctr);

	log = read_kernel_log();
	env.fwb = log_feature(log, "Stage-2 Force Write-Back");
	env.mte = (getauxval(AT_HWCAP2) & HWCAP2_MTE) ? 1 :
		  log_feature(log, "Memory Tagging Extension");
	env.kvm_mode = log_kvm_mode(log);
	free(log);
	env.where = where();

	uname(&uts);
	ksft_print_msg(ENV_FORMAT, env.cap, tri(env.fwb), env.dic, env.idc, tri(env.mte),
		       env.kvm_mode, env.s2view ? "yes" : "no", env.where,
		       uts.release);
	done = true;
	return &env;
}

/* ---------------- provider ---------------- */

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
	if (r->hva)
		munmap(r->hva, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->hva = NULL;
	r->fd = -1;
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

const char *pfnmap_type_name(uint32_t type)
{
	static const char * const names[] = {
		"NORMAL_WB", "NORMAL_NC", "DEVICE_nGnRE", "DEVICE_nGnRnE",
	};

	return type < 4 ? names[type] : "?";
}

/* ---------------- SPEC expectations ---------------- */

const char *pfnmap_s2_type_name(int type)
{
	static const char * const names[] = {
		[S2T_NORMAL_WB] = "NORMAL_WB", [S2T_NORMAL_NC] = "NORMAL_NC",
		[S2T_NORMAL_WT] = "NORMAL_WT",
		[S2T_DEVICE_nGnRnE] = "DEVICE_nGnRnE",
		[S2T_DEVICE_nGnRE] = "DEVICE_nGnRE",
		[S2T_DEVICE_nGRE] = "DEVICE_nGRE",
		[S2T_DEVICE_GRE] = "DEVICE_GRE", [S2T_OTHER] = "OTHER",
		[S2T_REFUSED] = "refused(EINVAL)",
	};

	return type >= 0 && type <= S2T_REFUSED ? names[type] : "?";
}

bool pfnmap_s2_type_is_cacheable(int type)
{
	return type == S2T_NORMAL_WB || type == S2T_NORMAL_WT;
}

int pfnmap_expected_s2(uint32_t type, uint32_t flags, int cap)
{
	bool cacheable = type == TEST_PFNMAP_TYPE_NORMAL_WB;

	/* S2-4: linear-map RAM is Normal-WB on every CPU, FWB or not. */
	if (flags & TEST_PFNMAP_F_LINEAR)
		return S2T_NORMAL_WB;
	/* S2-8: never more cacheable than the PTE, which is Device here. */
	if (flags & TEST_PFNMAP_F_PTE_DEVICE)
		return (flags & TEST_PFNMAP_F_ALLOW_ANY_UNCACHED) ?
			S2T_NORMAL_NC : S2T_DEVICE_nGnRE;
	/* S2-1 / S2-6 / CAP-3 / CAP-4 */
	if (cacheable)
		return cap ? S2T_NORMAL_WB : S2T_REFUSED;
	/* S2-2 / S2-3: KVM picks NC or nGnRE, never the VMA's exact type. */
	return (flags & TEST_PFNMAP_F_ALLOW_ANY_UNCACHED) ? S2T_NORMAL_NC :
							   S2T_DEVICE_nGnRE;
}

/* ---------------- stage-2 view ---------------- */

static FILE *open_view(struct kvm_vm *vm)
{
	char path[128];

	mount_debugfs_once();
	snprintf(path, sizeof(path), DEBUGFS "/kvm/%d-%d/stage2_leaves",
		 getpid(), vm->fd);
	return fopen(path, "r");
}

bool pfnmap_s2_view_present(struct kvm_vm *vm)
{
	FILE *f;

	f = open_view(vm);
	if (!f)
		return false;
	fclose(f);
	return true;
}

static int parse_type(const char *s)
{
	int t;

	for (t = S2T_NORMAL_WB; t <= S2T_OTHER; t++)
		if (!strcmp(s, pfnmap_s2_type_name(t)))
			return t;
	return S2T_OTHER;
}

/*
 * The memory type of a stage-2 MemAttr[3:0] field, decoded from the Arm
 * ARM (D8.6.6) and not from the kernel's MT_S2_* macros, so that a view
 * that prints the wrong type= for its memattr= is caught.
 * Without FWB: [3:2] == 0 is Device, [1:0] its kind; otherwise Normal with
 * outer [3:2] and inner [1:0] (01 NC, 10 WT, 11 WB), both the same here.
 * With FWB: [2] == 0 is Device, [1:0] its kind; [2] == 1 is Normal with
 * [1:0] 01 NC, 10 WB, 11 "use the stage-1 attributes".
 */
static int decode_memattr(uint32_t memattr, bool fwb)
{
	static const int device[] = {
		S2T_DEVICE_nGnRnE, S2T_DEVICE_nGnRE, S2T_DEVICE_nGRE, S2T_DEVICE_GRE,
	};

	if (fwb) {
		if (memattr & 0x8)
			return S2T_OTHER;
		if (!(memattr & 0x4))
			return device[memattr & 0x3];
		return (memattr & 0x3) == 1 ? S2T_NORMAL_NC :
		       (memattr & 0x3) == 2 ? S2T_NORMAL_WB : S2T_OTHER;
	}
	if (!(memattr & 0xc))
		return device[memattr & 0x3];
	switch (memattr) {
	case 0x5: return S2T_NORMAL_NC;
	case 0xa: return S2T_NORMAL_WT;
	case 0xf: return S2T_NORMAL_WB;
	default: return S2T_OTHER;
	}
}

static bool parse_leaf(const char *line, struct pfnmap_s2_leaf *l)
{
	char type[24];

	memset(l, 0, sizeof(*l));
	if (sscanf(line,
		   "ipa=%lx-%lx level=%d size=%7s pa=%lx memattr=%x type=%23s s2ap=%3s xn=%d",
		   &l->ipa_start, &l->ipa_end, &l->level, l->size, &l->pa,
		   &l->memattr, type, l->s2ap, &l->xn) != 9)
		return false;
	l->type = parse_type(type);
	return true;
}

/*
 * The header's fwb= must be what the CPU has (the kernel log's cpufeature
 * line; KVM uses FWB whenever the CPU has it), and every leaf's type= what
 * its memattr= means under that encoding. Returns the header's fwb=.
 */
static int check_header(const char *line)
{
	int fwb = pfnmap_env()->fwb;
	int hdr;

	TEST_ASSERT(sscanf(line, "# stage2 fwb=%d", &hdr) == 1,
		    "stage2_leaves header does not match docs/interfaces.md: '%s'", line);
	TEST_ASSERT(fwb == PFNMAP_UNKNOWN || hdr == fwb,
		    "stage2_leaves says fwb=%d, the CPU %s FEAT_S2FWB", hdr,
		    fwb ? "has" : "lacks");
	return hdr;
}

/* The next leaf line of the view; blank lines are skipped. */
static bool read_leaf(FILE *f, struct pfnmap_s2_leaf *leaf)
{
	static int fwb = -1;	/* the header's, for the lines after it */
	char line[256];
	int want;

	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "# stage2 ", 9)) {
			fwb = check_header(line);
			continue;
		}
		if (strncmp(line, "ipa=", 4))
			continue;
		TEST_ASSERT(parse_leaf(line, leaf),
			    "stage2_leaves line does not match docs/interfaces.md: '%s'", line);
		TEST_ASSERT(fwb >= 0, "stage2_leaves has a leaf before its header");
		want = decode_memattr(leaf->memattr, fwb);
		TEST_ASSERT(leaf->type == want,
			    "stage2_leaves prints type=%s for memattr=%#x, which is %s with fwb=%d: the view lies",
			    pfnmap_s2_type_name(leaf->type), leaf->memattr,
			    pfnmap_s2_type_name(want), fwb);
		return true;
	}
	return false;
}

int pfnmap_s2_lookup(struct kvm_vm *vm, uint64_t ipa,
		     struct pfnmap_s2_leaf *leaf)
{
	int ret = -ENOENT;
	FILE *f;

	f = open_view(vm);
	if (!f)
		return -ENODEV;
	while (read_leaf(f, leaf)) {
		if (ipa >= leaf->ipa_start && ipa <= leaf->ipa_end) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int pfnmap_s2_count(struct kvm_vm *vm, uint64_t start, uint64_t end)
{
	struct pfnmap_s2_leaf leaf;
	int n = 0;
	FILE *f;

	f = open_view(vm);
	if (!f)
		return -ENODEV;
	while (read_leaf(f, &leaf))
		if (leaf.ipa_start < end && leaf.ipa_end >= start)
			n++;
	fclose(f);
	return n;
}

int pfnmap_s2_summarise(struct kvm_vm *vm, uint64_t start, uint64_t end,
			int type, uint64_t pa_base, struct pfnmap_s2_summary *s)
{
	struct pfnmap_s2_leaf leaf;
	int largest_level = 4;
	uint64_t lo, hi;
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->other = -1;
	f = open_view(vm);
	if (!f)
		return -ENODEV;
	while (read_leaf(f, &leaf)) {
		if (leaf.ipa_end < start || leaf.ipa_start >= end)
			continue;
		lo = leaf.ipa_start > start ? leaf.ipa_start : start;
		hi = leaf.ipa_end + 1 < end ? leaf.ipa_end + 1 : end;
		s->mapped += hi - lo;
		if (leaf.type == type) {
			s->bytes_of_type += hi - lo;
		} else if (s->other < 0) {
			s->other = leaf.type;
			s->other_ipa = leaf.ipa_start;
		}
		if (pa_base && !s->pa_mismatch &&
		    leaf.pa != pa_base + (leaf.ipa_start - start)) {
			s->pa_mismatch = true;
			s->bad_pa_ipa = leaf.ipa_start;
		}
		/* A lower level is a larger leaf */
		if (leaf.level < largest_level) {
			largest_level = leaf.level;
			snprintf(s->largest, sizeof(s->largest), "%s", leaf.size);
		}
	}
	fclose(f);
	return 0;
}

/* ---------------- guest setup and probes ---------------- */

uint64_t pfnmap_guest_iabt_count;
uint64_t pfnmap_guest_dabt_esr;
bool pfnmap_guest_dabt_armed;

/* Return to the caller of the aborted call: the fault is at its target. */
static void guest_iabt_handler(struct ex_regs *regs)
{
	WRITE_ONCE(pfnmap_guest_iabt_count, READ_ONCE(pfnmap_guest_iabt_count) + 1);
	regs->pc = regs->regs[30];
}

/* Record the syndrome and step over the instruction, if one was expected. */
static void guest_dabt_handler(struct ex_regs *regs)
{
	uint64_t esr = read_sysreg(esr_el1);

	if (!READ_ONCE(pfnmap_guest_dabt_armed))
		GUEST_FAIL("unexpected data abort: esr %#lx far %#lx pc %#lx",
			   esr, read_sysreg(far_el1), regs->pc);
	WRITE_ONCE(pfnmap_guest_dabt_esr, esr);
	regs->pc += 4;
}

uint64_t pfnmap_page_size;

static void __attribute__((constructor)) pfnmap_page_size_init(void)
{
	pfnmap_page_size = getpagesize();
}

uint64_t pfnmap_largest_block(void)
{
	return pfnmap_page_size == 4096 ? PFNMAP_PMD_BLOCK * 512 : PFNMAP_PMD_BLOCK;
}

uint64_t pfnmap_guest_pages(struct kvm_vm *vm, uint64_t bytes)
{
	uint64_t page = vm ? vm->page_size :
			vm_guest_mode_params[VM_MODE_DEFAULT].page_size;

	return (bytes + page - 1) / page;
}

void pfnmap_virt_map(struct kvm_vm *vm, uint64_t gpa, uint64_t bytes)
{
	virt_map(vm, gpa, gpa, (bytes + vm->page_size - 1) / vm->page_size);
}

struct kvm_vm *pfnmap_vm_create(struct kvm_vcpu **vcpu, void *guest_code,
				uint64_t test_bytes)
{
	struct kvm_vm *vm;

	/*
	 * The library sizes memslot 0 for the guest page tables that map
	 * this many extra pages; the test memory itself lives in its own slot.
	 */
	vm = __vm_create_with_one_vcpu(vcpu, pfnmap_guest_pages(NULL, test_bytes),
				       guest_code);
	pfnmap_vcpu_install_handlers(*vcpu);
	return vm;
}

void pfnmap_vcpu_install_handlers(struct kvm_vcpu *vcpu)
{
	vm_init_descriptor_tables(vcpu->vm);
	vcpu_init_descriptor_tables(vcpu);
	vm_install_sync_handler(vcpu->vm, VECTOR_SYNC_CURRENT, ESR_EC_IABT,
				guest_iabt_handler);
	vm_install_sync_handler(vcpu->vm, VECTOR_SYNC_CURRENT, ESR_EC_DABT,
				guest_dabt_handler);
	sync_global_to_guest(vcpu->vm, pfnmap_page_size);
}

void pfnmap_set_s1_attr(struct kvm_vm *vm, uint64_t gva, int attr_idx)
{
	uint64_t *pte = virt_get_pte_hva(vm, gva);

	*pte = (*pte & ~(7ULL << 2)) | ((uint64_t)attr_idx << 2);
}

uint64_t pfnmap_vcpu_stat(struct kvm_vcpu *vcpu, const char *name)
{
	struct kvm_stats_header header;
	struct kvm_stats_desc *descs, *d;
	uint64_t data = 0;
	int fd = vcpu_get_stats_fd(vcpu);
	int i;

	read_stats_header(fd, &header);
	descs = read_stats_descriptors(fd, &header);
	for (i = 0; i < header.num_desc; i++) {
		d = get_stats_descriptor(descs, i, &header);
		if (!strcmp(d->name, name)) {
			read_stat_data(fd, &header, d, &data, 1);
			break;
		}
	}
	TEST_ASSERT(i < header.num_desc, "no vCPU stat '%s'", name);
	free(descs);
	close(fd);
	return data;
}

uint64_t pfnmap_run(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	uint64_t cmd;

	vcpu_run(vcpu);
	cmd = get_ucall(vcpu, uc);
	if (cmd == UCALL_ABORT)
		REPORT_GUEST_ASSERT(*uc);
	TEST_ASSERT(cmd == UCALL_SYNC || cmd == UCALL_DONE,
		    "unexpected exit: reason %u (%s), ucall %lu",
		    vcpu->run->exit_reason,
		    exit_reason_str(vcpu->run->exit_reason), cmd);
	return cmd;
}

void pfnmap_put_code(void *va, uint16_t tag)
{
	uint32_t *insn = va;

	WRITE_ONCE(insn[0], 0xd2800000 | ((uint32_t)tag << 5));	/* movz x0, #tag */
	WRITE_ONCE(insn[1], 0xd65f03c0);			/* ret */
}

uint64_t pfnmap_guest_exec(uint64_t gva)
{
	uint64_t (*fn)(void) = (void *)gva;
	uint64_t before = READ_ONCE(pfnmap_guest_iabt_count);
	uint64_t ret;

	/* The code may come from another alias: drop stale lines (B2.8). */
	pfnmap_inval_poc(gva, 8);
	pfnmap_sync_icache(gva, 8);
	ret = fn();
	return READ_ONCE(pfnmap_guest_iabt_count) != before ? PFNMAP_EXEC_ABORTED : ret;
}

void pfnmap_fill(uint64_t *p, uint64_t bytes, uint64_t seed)
{
	uint64_t i;

	for (i = 0; i < bytes / 8; i++)
		WRITE_ONCE(p[i], pfnmap_pattern(seed, i));
}

int64_t pfnmap_check(const uint64_t *p, uint64_t bytes, uint64_t seed)
{
	uint64_t i;

	for (i = 0; i < bytes / 8; i++)
		if (READ_ONCE(p[i]) != pfnmap_pattern(seed, i))
			return i;
	return -1;
}
