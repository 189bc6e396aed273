// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_exec_test - executing from PFNMAP memory in a guest.
 *
 * Device and NC mappings are not executable: KVM injects an
 *      instruction abort, which the guest's handler catches.
 * with cap=1, (a) code the host wrote into cacheable PFNMAP memory
 *      runs at the guest's first stage-2 fault on it, with no I-cache
 *      maintenance by the guest: KVM's maintenance when it maps the page
 *      is what is tested (on CPUs without CTR_EL0.DIC, KVM must invalidate
 *      the I-cache, as non-linear-map memory has no kernel alias); (b) the
 *      guest (or the host) rewrites it, with the architected D/I
 *      maintenance, and the new code runs, like kvm-unit-tests
 *      arm/cache.c.
 */
#include <errno.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_spec.h"
#include "ucall_common.h"

#define PAGE		pfnmap_page_size
#define NPAGES		2
#define CODE_GPA	PFNMAP_TEST_GPA
#define TAG1		0x111
#define TAG2		0x222

static struct kvm_vm *setup_vm(struct __test_metadata *_metadata,
			       struct kvm_vcpu **vcpu, void *guest_code,
			       struct pfnmap_region *r, uint32_t type,
			       uint32_t flags)
{
	struct kvm_vm *vm = pfnmap_vm_create(vcpu, guest_code, NPAGES * PAGE);

	TEST_ASSERT(!pfnmap_map(r, type, flags, 0, NPAGES * PAGE, true, NULL),
		    "mmap of a %s provider VMA failed", pfnmap_type_name(type));
	vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
				  NPAGES * PAGE, r->hva);
	pfnmap_virt_map(vm, PFNMAP_TEST_GPA, NPAGES * PAGE);
	return vm;
}

/* ---------------- X-1 ---------------- */

static void guest_exec_once(void)
{
	uint64_t got = pfnmap_guest_exec(CODE_GPA);

	GUEST_SYNC2(got, READ_ONCE(pfnmap_guest_iabt_count));
	GUEST_DONE();
}

FIXTURE(noexec) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
};

FIXTURE_VARIANT(noexec) {
	uint32_t type;
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(noexec, device_nGnRE) { nGnRE, 0 };
FIXTURE_VARIANT_ADD(noexec, device_nGnRnE) { nGnRnE, 0 };
FIXTURE_VARIANT_ADD(noexec, nc_without_allow_uncached) { NC, 0 };
FIXTURE_VARIANT_ADD(noexec, nc_allow_uncached) { NC, ALLOW };

FIXTURE_SETUP(noexec)
{
	const char *reason;

	if (!pfnmap_provider_ready(NPAGES * PAGE, &reason))
		SKIP(return, "%s", reason);
	self->vm = setup_vm(_metadata, &self->vcpu, guest_exec_once, &self->r,
			    variant->type, variant->flags);
}

FIXTURE_TEARDOWN(noexec)
{
	pfnmap_teardown(self->vm, &self->r);
}

#define EXECUTABLE_FORMAT \
	"guest executed from a %s PFNMAP (x0=%#lx): stage 2 is executable, want an instruction abort"

TEST_F(noexec, guest_gets_an_instruction_abort_and_run_continues)
{
	struct ucall uc;

	pfnmap_put_code(self->r.hva, TAG1);
	pfnmap_clean_poc((uint64_t)self->r.hva, 8);
	/* pfnmap_run() asserts that KVM_RUN itself did not fail. */
	ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
	EXPECT_EQ(PFNMAP_EXEC_ABORTED, uc.args[0])
		TH_LOG(EXECUTABLE_FORMAT, pfnmap_type_name(variant->type), uc.args[0]);
	EXPECT_EQ(1, uc.args[1]) TH_LOG("%lu instruction aborts, want 1", uc.args[1]);
	ASSERT_EQ(UCALL_DONE, pfnmap_run(self->vcpu, &uc));
}

/* ---------------- X-2 ---------------- */

#define SYNC_CTR	1
#define SYNC_RAN	2

static void guest_writes_code(void)
{
	uint16_t tag;

	GUEST_SYNC2(SYNC_CTR, pfnmap_read_ctr());
	for (tag = TAG1; tag <= TAG2; tag += TAG2 - TAG1) {
		pfnmap_put_code((void *)CODE_GPA, tag);
		pfnmap_clean_poc(CODE_GPA, 8);
		GUEST_SYNC2(SYNC_RAN, pfnmap_guest_exec(CODE_GPA));
		/* Again, unchanged: the I-cache now holds it. */
		GUEST_SYNC2(SYNC_RAN, pfnmap_guest_exec(CODE_GPA));
	}
	GUEST_DONE();
}

/*
 * The host wrote the code before the guest ever touched the page: the first
 * call is the page's first stage-2 fault, with no maintenance by the guest
 * (X-2 a). Then the host rewrites it between the syncs, and the guest does
 * the maintenance of B2.8 before each call (X-2 b).
 */
static void guest_runs_host_code(void)
{
	GUEST_SYNC2(SYNC_CTR, pfnmap_read_ctr());
	GUEST_SYNC2(SYNC_RAN, pfnmap_guest_call(CODE_GPA));
	GUEST_SYNC2(SYNC_RAN, pfnmap_guest_exec(CODE_GPA));
	for (;;) {
		GUEST_SYNC2(SYNC_RAN, pfnmap_guest_exec(CODE_GPA));
		GUEST_SYNC2(SYNC_RAN, pfnmap_guest_exec(CODE_GPA));
	}
}

FIXTURE(selfmod) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
};

FIXTURE_VARIANT(selfmod) {
	bool host_writes;
};

FIXTURE_VARIANT_ADD(selfmod, guest_writes_code) { false };
FIXTURE_VARIANT_ADD(selfmod, host_writes_code) { true };

FIXTURE_SETUP(selfmod)
{
	const struct pfnmap_env *env = pfnmap_env();
	const char *reason;

	ksft_print_msg("PROFILE: dic=%d idc=%d\n", env->dic, env->idc);
	ksft_print_msg("testing: %s%s\n",
		       env->idc ? "IDC=1: no D-cache clean to PoU needed; " :
				  "IDC=0: guest DC CVAU; ",
		       env->dic ? "DIC=1: no I-cache invalidation needed" :
				  "DIC=0: guest IC IVAU, and KVM's I-cache invalidation when it maps non-linear-map memory executable");
	if (!env->cap)
		SKIP(return, "cap=0: cacheable PFNMAP refused on this CPU (no FEAT_S2FWB)");
	if (!pfnmap_provider_ready(NPAGES * PAGE, &reason))
		SKIP(return, "%s", reason);
	self->vm = setup_vm(_metadata, &self->vcpu,
			    variant->host_writes ? guest_runs_host_code : guest_writes_code,
			    &self->r, TEST_PFNMAP_TYPE_NORMAL_WB, 0);
}

FIXTURE_TEARDOWN(selfmod)
{
	pfnmap_teardown(self->vm, &self->r);
}

TEST_F(selfmod, new_code_runs_after_each_rewrite)
{
	uint16_t tags[] = { TAG1, TAG2 };
	struct ucall uc;
	int i, j;

	ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
	ASSERT_EQ(SYNC_CTR, uc.args[0]);
	ksft_print_msg("guest CTR_EL0=%#lx IDC=%lu DIC=%lu\n", uc.args[1],
		       PFNMAP_CTR_IDC(uc.args[1]), PFNMAP_CTR_DIC(uc.args[1]));
	if (variant->host_writes)
		pfnmap_note_no_caches(
			"the first-fault run shows the page is mapped executable, not that KVM's I-cache invalidation works (KU-1 covers that decision)");

	for (i = 0; i < 2; i++) {
		if (variant->host_writes) {
			pfnmap_put_code(self->r.hva, tags[i]);
			pfnmap_clean_poc((uint64_t)self->r.hva, 8);
		}
		for (j = 0; j < 2; j++) {
			ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
			ASSERT_EQ(SYNC_RAN, uc.args[0]);
			EXPECT_EQ(tags[i], uc.args[1])
				TH_LOG("rewrite %d, run %d: %s (x0=%#lx), want the new code's %#x",
				       i + 1, j + 1,
				       uc.args[1] == PFNMAP_EXEC_ABORTED ?
				       "instruction abort: stage 2 not executable" :
				       "stale code ran", uc.args[1], tags[i]);
		}
	}
}

TEST_HARNESS_MAIN
