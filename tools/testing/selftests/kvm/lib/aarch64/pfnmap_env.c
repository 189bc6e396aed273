// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host environment of the cacheable PFNMAP tests, from sources that do
 * not go through the code under test: CTR_EL0, HWCAP2, ID_AA64MMFR2_EL1 as
 * KVM gives it to a vCPU, and the firmware's machine name.
 *
 * It is probed by the first case that asks, inside that case (never before
 * the TAP plan), and kept in a shared page that the harness's later forks
 * inherit, so a binary probes once.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <asm/hwcap.h>

#include "kselftest.h"
#include "kvm_util.h"
#include "pfnmap_env.h"
#include "pfnmap_s2view.h"
#include "ucall_common.h"

#define ENV_FORMAT \
	"ENV: cap=%d fwb=%s dic=%d idc=%d mte=%s s2dump=%s s2view=%s where=%s kernel=%s\n"

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

static const char *tri(int v)
{
	return v == PFNMAP_UNKNOWN ? "unknown" : v ? "1" : "0";
}

static void guest_done(void)
{
	GUEST_DONE();
}

/*
 * One VM with one vCPU answers the rest. The cap, on a VM fd. FEAT_S2FWB
 * from ID_AA64MMFR2_EL1.FWB (bits 43:40) as KVM reports the host's
 * sanitised register to a vCPU: the ID register path, not the capability
 * code (unknown where KVM does not let it be read). Whether the kernel's
 * stage-2 dump exists, and whether it prints memory types: only a VM whose
 * guest ran has leaves to show them. A kernel that cannot run this guest
 * fails the tests, not the probe: then s2view stays false and the type
 * checks skip.
 */
static void probe_vm(struct pfnmap_env *env)
{
	struct pfnmap_s2_leaf leaf;
	struct kvm_one_reg reg;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint64_t mmfr2 = 0;
	struct ucall uc;
	bool ran;
	FILE *f;

	vm = vm_create_with_one_vcpu(&vcpu, guest_done);
	env->cap = vm_check_cap(vm, KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED);
	reg.id = ARM64_SYS_REG(3, 0, 0, 7, 2);	/* ID_AA64MMFR2_EL1 */
	reg.addr = (uint64_t)&mmfr2;
	env->fwb = __vcpu_ioctl(vcpu, KVM_GET_ONE_REG, &reg) ? PFNMAP_UNKNOWN :
							       !!((mmfr2 >> 40) & 0xf);
	ran = !_vcpu_run(vcpu) && get_ucall(vcpu, &uc) == UCALL_DONE;
	/* The dump's reader checks memory types against env->fwb: set above. */
	f = pfnmap_s2_kernel_view(vm);
	env->s2dump = f;
	env->s2view = f && ran && pfnmap_s2_read_leaf(f, &leaf) && leaf.type != S2T_NOT_SHOWN;
	if (f)
		fclose(f);
	kvm_vm_free(vm);
}

/* Shared with the harness's forks: mapped before the first one. */
static struct pfnmap_shared_env {
	struct pfnmap_env env;
	bool done;
} *shared;

static void __attribute__((constructor)) pfnmap_env_page(void)
{
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(shared != MAP_FAILED, "mmap of the environment's page");
}

bool pfnmap_env_probed(void)
{
	return shared->done;
}

const struct pfnmap_env *pfnmap_env(void)
{
	struct pfnmap_env *env = &shared->env;
	struct utsname uts;
	uint64_t ctr;

	if (shared->done)
		return env;

	ctr = pfnmap_read_ctr();
	env->dic = PFNMAP_CTR_DIC(ctr);
	env->idc = PFNMAP_CTR_IDC(ctr);
	env->mte = !!(getauxval(AT_HWCAP2) & HWCAP2_MTE);
	env->where = where();
	/* pfnmap_s2_kernel_view() asks for env->fwb: answered from here on */
	env->fwb = PFNMAP_UNKNOWN;
	shared->done = true;
	probe_vm(env);

	uname(&uts);
	ksft_print_msg(ENV_FORMAT, env->cap, tri(env->fwb), env->dic, env->idc, tri(env->mte),
		       env->s2dump ? "yes" : "no", env->s2view ? "yes" : "no",
		       env->where, uts.release);
	return env;
}
