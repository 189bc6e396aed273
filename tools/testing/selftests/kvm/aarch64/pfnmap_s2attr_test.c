// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_s2attr_test - the stage-2 memory type KVM gives each kind of VMA.
 *
 * Every kind is checked twice:
 *  - behaviour (any kernel): the memslot is accepted or refused per the
 *    capability, guest and host see each other's data, and executing from
 *    the memory tells Normal (runs) from Device or NC (KVM injects an
 *    instruction abort, as it refuses exec on what it treats as device);
 *  - the stage-2 debugfs view: the exact type (skipped without the view).
 * Behaviour cannot tell NC from Device; only the view case checks that.
 */
#include <errno.h>
#include <sys/mman.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_s2view.h"
#include "pfnmap_spec.h"
#include "ucall_common.h"

#define PAGE		pfnmap_page_size
#define NPAGES		4
#define CODE_GPA	(PFNMAP_TEST_GPA + PFNMAP_RT_EXEC_OFFSET)

/* The round trip over the region; returns the execute probe's answer. */
static uint64_t run_round_trip(struct __test_metadata *_metadata,
			       struct kvm_vcpu *vcpu, void *hva)
{
	struct pfnmap_round_trip rt;

	pfnmap_round_trip(&rt, vcpu, hva, PFNMAP_TEST_GPA, NPAGES * PAGE, true);
	pfnmap_expect_round_trip(_metadata, &rt);
	return rt.exec;
}

#define CACHEABLE_NOT_NORMAL_FORMAT \
	"%s: guest execution at IPA %#lx %s: KVM mapped a cacheable VMA as Device/NC at stage 2"
#define NORMAL_FORMAT \
	"%s: guest executed from IPA %#lx (returned %#lx): stage 2 is Normal, want %s"

static void check_exec_oracle(struct __test_metadata *_metadata, int expect,
			      uint64_t got, const char *what)
{
	if (pfnmap_s2_type_is_cacheable(expect)) {
		/* A cacheable VMA must be Normal at stage 2 (SEC-1): exec runs. */
		EXPECT_EQ((uint64_t)PFNMAP_RT_EXEC_TAG, got)
			TH_LOG(CACHEABLE_NOT_NORMAL_FORMAT, what, CODE_GPA,
			       got == PFNMAP_EXEC_ABORTED ? "took an instruction abort" :
							    "ran the wrong code");
	} else {
		EXPECT_EQ(PFNMAP_EXEC_ABORTED, got)
			TH_LOG(NORMAL_FORMAT, what, CODE_GPA, got, pfnmap_expect_name(expect));
	}
}

static void check_view(struct __test_metadata *_metadata, struct kvm_vm *vm,
		       int expect, const char *what)
{
	struct pfnmap_s2_leaf leaf;
	int ret = pfnmap_s2_lookup(vm, PFNMAP_TEST_GPA, &leaf);

	if (ret == -ENODEV)
		SKIP(return, "%s", pfnmap_no_view_reason);
	ASSERT_EQ(0, ret)
		TH_LOG("IPA %#lx not mapped at stage 2 after a guest access", PFNMAP_TEST_GPA);
	EXPECT_EQ(expect, leaf.type)
		TH_LOG("%s: IPA %#lx stage 2 is %s (memattr %#x), want %s",
		       what, PFNMAP_TEST_GPA, pfnmap_s2_type_name(leaf.type), leaf.memattr,
		       pfnmap_expect_name(expect));
}

/* ---- provider VMAs: memory type x ALLOW_ANY_UNCACHED x backing x map ---- */

FIXTURE(kind) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
	int expect;
	bool accepted;
};

FIXTURE_VARIANT(kind) {
	uint32_t type;
	uint32_t flags;
	enum pfnmap_path path;
};

/* Cacheable outside the linear map: mapped Normal-WB with cap = 1, else refused */
#define PFNMAP_KIND(name)		FIXTURE_VARIANT_ADD(kind, name)
#define PFNMAP_KIND_WHEN_CAP_1(name)	FIXTURE_VARIANT_ADD(kind, name##_mapped_when_cap_1)
#define PFNMAP_KIND_WHEN_CAP_0(name)	FIXTURE_VARIANT_ADD(kind, name##_refused_when_cap_0)
#include "pfnmap_kinds.h"

FIXTURE_SETUP(kind)
{
	const char *reason;
	int err;

	self->expect = pfnmap_expected_s2(variant->type, variant->flags,
					  pfnmap_env()->cap);
	if (!pfnmap_kind_ready(variant->path,
			       pfnmap_nonlinear_bytes(variant->flags, NPAGES * PAGE), &reason))
		SKIP(return, "%s", reason);
	self->vm = pfnmap_vm_create(&self->vcpu, pfnmap_round_trip_guest, NPAGES * PAGE);
	ASSERT_EQ(0, pfnmap_map(&self->r, variant->type, variant->flags, 0,
				NPAGES * PAGE, true, NULL));
	err = __vm_set_user_memory_region(self->vm, PFNMAP_TEST_SLOT, 0,
					  PFNMAP_TEST_GPA, NPAGES * PAGE,
					  self->r.hva) ? errno : 0;
	self->accepted = !err;
	if (err) {
		ASSERT_EQ(EINVAL, err) TH_LOG("memslot refused with errno %d", err);
		/* S2-8: refusing MMIO behind a cacheable VMA is safe too */
		ASSERT_TRUE(self->expect == S2T_REFUSED || (variant->flags & PTE_DEV))
			TH_LOG("memslot refused (EINVAL), want accepted with stage 2 %s",
			       pfnmap_expect_name(self->expect));
		return;
	}
	pfnmap_virt_map(self->vm, PFNMAP_TEST_GPA, NPAGES * PAGE);
}

FIXTURE_TEARDOWN(kind)
{
	pfnmap_teardown(self->vm, &self->r);
}

#define EAGER_ACCEPTED_FORMAT \
	"cap=%d but KVM accepted a cacheable non-linear memslot whose pages were mapped at mmap time: want EINVAL (MS-1, CAP-4)"
#define UNMAPPABLE_RAN_FORMAT \
	"cap=%d: the guest accessed a cacheable non-linear page that KVM cannot map (KVM_RUN returned %d, exit %s)"

/*
 * CAP-4 for a kind KVM must not map (cacheable outside the linear map with
 * cap = 0) whose memslot it accepted: allowed only where no page was mapped
 * when the memslot was made (VM_MIXEDMAP, populated on fault), and then the
 * guest's first access must fail KVM_RUN with EFAULT and map nothing.
 */
static void check_refused_at_first_fault(struct __test_metadata *_metadata,
					 FIXTURE_DATA(kind) *self,
					 const FIXTURE_VARIANT(kind) *variant)
{
	struct pfnmap_round_trip rt;
	struct pfnmap_s2_leaf leaf;
	int ret;

	ASSERT_TRUE(variant->flags & MIXED)
		TH_LOG(EAGER_ACCEPTED_FORMAT, pfnmap_env()->cap);
	pfnmap_round_trip_prepare(&rt, self->vcpu, self->r.hva, PFNMAP_TEST_GPA,
				  NPAGES * PAGE, true);
	ret = _vcpu_run(self->vcpu);
	ASSERT_EQ(-1, ret)
		TH_LOG(UNMAPPABLE_RAN_FORMAT, pfnmap_env()->cap, ret,
		       exit_reason_str(self->vcpu->run->exit_reason));
	EXPECT_EQ(EFAULT, errno)
		TH_LOG("first fault on a refused kind: KVM_RUN errno %d, want EFAULT", errno);
	ret = pfnmap_s2_lookup(self->vm, PFNMAP_TEST_GPA, &leaf);
	if (ret != -ENODEV)
		EXPECT_EQ(-ENOENT, ret)
			TH_LOG("KVM_RUN failed but IPA %#lx is mapped at stage 2 (%s)",
			       PFNMAP_TEST_GPA, pfnmap_s2_type_name(leaf.type));
	if (!_metadata->exit_code)
		ksft_print_msg("PROFILE: cap0_lazy=fault\n");
}

TEST_F(kind, memslot_data_and_exec_behave_as_spec_says)
{
	const char *what = pfnmap_type_name(variant->type);
	uint64_t got;

	if (!self->accepted) {
		ksft_print_msg("memslot refused with EINVAL (cap=%d)\n",
			       pfnmap_env()->cap);
		return;
	}
	if (self->expect == S2T_REFUSED) {
		check_refused_at_first_fault(_metadata, self, variant);
		return;
	}
	got = run_round_trip(_metadata, self->vcpu, self->r.hva);
	check_exec_oracle(_metadata, self->expect, got, what);
	/* Behaviour shows "not Normal"; which non-cacheable type, only the view */
	/* S2-8 asks only "not Normal-WB", which behaviour does show */
	if (!pfnmap_s2_type_is_cacheable(self->expect) && !(variant->flags & PTE_DEV) &&
	    !pfnmap_s2_types_observable(self->vm) &&
	    !_metadata->exit_code)
		SKIP(return,
		     "data round trip passed and execution aborted: stage 2 is not Normal, but only the stage-2 view tells %s from the other non-cacheable types (%s)",
		     pfnmap_expect_name(self->expect), pfnmap_no_view_reason);
}

TEST_F(kind, stage2_view_shows_the_spec_attribute)
{
	if (!self->accepted)
		SKIP(return, "memslot refused with EINVAL (cap=%d): nothing is mapped",
		     pfnmap_env()->cap);
	if (!pfnmap_s2_observable(self->vm))
		SKIP(return, "%s", pfnmap_no_dump_reason);
	if (self->expect == S2T_REFUSED) {
		check_refused_at_first_fault(_metadata, self, variant);
		return;
	}
	run_round_trip(_metadata, self->vcpu, self->r.hva);
	check_view(_metadata, self->vm, self->expect, pfnmap_type_name(variant->type));
}

/* ---- S2-5: ordinary VMAs (control group) ---- */

#define ORDINARY_PAGES	512	/* one 2 MiB huge page */

FIXTURE(ordinary) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
};

FIXTURE_VARIANT(ordinary) {
	enum vm_mem_backing_src_type src;
};

FIXTURE_VARIANT_ADD(ordinary, anonymous) { VM_MEM_SRC_ANONYMOUS };
FIXTURE_VARIANT_ADD(ordinary, shmem) { VM_MEM_SRC_SHMEM };
FIXTURE_VARIANT_ADD(ordinary, hugetlb) { VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB };

static bool hugepage_available(void)
{
	void *p = mmap(NULL, ORDINARY_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT),
		       -1, 0);

	if (p == MAP_FAILED)
		return false;
	munmap(p, ORDINARY_PAGES * PAGE);
	return true;
}

FIXTURE_SETUP(ordinary)
{
	if (variant->src == VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB && !hugepage_available())
		SKIP(return,
		     "no free 2 MiB hugepage: echo 2 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages (CONFIG_HUGETLBFS)");
	self->vm = pfnmap_vm_create(&self->vcpu, pfnmap_round_trip_guest, ORDINARY_PAGES * PAGE);
	vm_userspace_mem_region_add(self->vm, variant->src, PFNMAP_TEST_GPA,
				    PFNMAP_TEST_SLOT, ORDINARY_PAGES, 0);
	pfnmap_virt_map(self->vm, PFNMAP_TEST_GPA, NPAGES * PAGE);
}

FIXTURE_TEARDOWN(ordinary)
{
	if (self->vm)
		kvm_vm_free(self->vm);
}

TEST_F(ordinary, data_round_trips_and_exec_runs)
{
	uint64_t got;

	got = run_round_trip(_metadata, self->vcpu,
			     addr_gpa2hva(self->vm, PFNMAP_TEST_GPA));
	check_exec_oracle(_metadata, S2T_NORMAL_WB, got,
			  vm_mem_backing_src_alias(variant->src)->name);
}

TEST_F(ordinary, stage2_view_shows_normal_wb)
{
	if (!pfnmap_s2_observable(self->vm))
		SKIP(return, "%s", pfnmap_no_dump_reason);
	run_round_trip(_metadata, self->vcpu, addr_gpa2hva(self->vm, PFNMAP_TEST_GPA));
	check_view(_metadata, self->vm, S2T_NORMAL_WB,
		   vm_mem_backing_src_alias(variant->src)->name);
}

TEST_HARNESS_MAIN
