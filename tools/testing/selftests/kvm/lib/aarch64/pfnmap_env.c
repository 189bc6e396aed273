// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host environment of the cacheable PFNMAP tests, from sources that do
 * not go through the code under test: CTR_EL0, HWCAP2, ID_AA64MMFR2_EL1 as
 * KVM gives it to a vCPU, the firmware's machine name, and the kernel
 * log's KVM init line (the mode, for the report only).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <asm/hwcap.h>

#include "kselftest.h"
#include "kvm_util.h"
#include "pfnmap_env.h"
#include "pfnmap_s2view.h"
#include "ucall_common.h"

#define DEBUGFS		"/sys/kernel/debug"
#define ENV_FORMAT \
	"ENV: cap=%d fwb=%s dic=%d idc=%d mte=%s kvm_mode=%s s2dump=%s s2view=%s where=%s kernel=%s\n"

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

void pfnmap_note_no_caches(const char *what)
{
	if (!strcmp(pfnmap_env()->where, "qemu"))
		ksft_print_msg("QEMU models no caches: %s\n", what);
}

void pfnmap_mount_debugfs(void)
{
	if (access(DEBUGFS "/kvm", F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
}

static const char *tri(int v)
{
	return v == PFNMAP_UNKNOWN ? "unknown" : v ? "1" : "0";
}

static void guest_done(void)
{
	GUEST_DONE();
}

/*
 * FEAT_S2FWB from ID_AA64MMFR2_EL1.FWB (bits 43:40) as KVM reports the
 * host's sanitised register to a vCPU: the ID register path, not the
 * capability code. Unknown where KVM does not let it be read.
 */
static int vcpu_fwb(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_one_reg reg;
	struct kvm_vm *vm;
	uint64_t mmfr2 = 0;
	int ret;

	vm = vm_create_with_one_vcpu(&vcpu, guest_done);
	reg.id = ARM64_SYS_REG(3, 0, 0, 7, 2);	/* ID_AA64MMFR2_EL1 */
	reg.addr = (uint64_t)&mmfr2;
	ret = __vcpu_ioctl(vcpu, KVM_GET_ONE_REG, &reg);
	kvm_vm_free(vm);
	return ret ? PFNMAP_UNKNOWN : !!((mmfr2 >> 40) & 0xf);
}

/*
 * Whether the kernel's stage-2 dump exists, and whether it prints memory
 * types: only a VM whose guest ran has leaves to show them. A kernel that
 * cannot run this guest fails the tests, not the probe: then s2view stays
 * false and the type checks skip.
 */
static void probe_s2_dump(struct pfnmap_env *env)
{
	struct pfnmap_s2_leaf leaf;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	bool ran;
	FILE *f;

	vm = vm_create_with_one_vcpu(&vcpu, guest_done);
	ran = !_vcpu_run(vcpu) && get_ucall(vcpu, &uc) == UCALL_DONE;
	f = pfnmap_s2_kernel_view(vm);
	env->s2dump = f;
	env->s2view = f && ran && pfnmap_s2_read_leaf(f, &leaf) && leaf.type != S2T_NOT_SHOWN;
	if (f)
		fclose(f);
	kvm_vm_free(vm);
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

	pfnmap_mount_debugfs();
	vm = vm_create_barebones();
	env.cap = vm_check_cap(vm, KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED);
	kvm_vm_free(vm);

	ctr = pfnmap_read_ctr();
	env.dic = PFNMAP_CTR_DIC(ctr);
	env.idc = PFNMAP_CTR_IDC(ctr);

	env.fwb = vcpu_fwb();
	env.mte = !!(getauxval(AT_HWCAP2) & HWCAP2_MTE);
	log = read_kernel_log();
	env.kvm_mode = log_kvm_mode(log);
	free(log);
	env.where = where();
	/* The dump's reader checks memory types against env.fwb: set first. */
	done = true;
	probe_s2_dump(&env);

	uname(&uts);
	ksft_print_msg(ENV_FORMAT, env.cap, tri(env.fwb), env.dic, env.idc, tri(env.mte),
		       env.kvm_mode, env.s2dump ? "yes" : "no", env.s2view ? "yes" : "no",
		       env.where, uts.release);
	return &env;
}
