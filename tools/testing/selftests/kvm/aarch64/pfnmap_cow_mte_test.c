// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_cow_mte_test - copy-on-write PFNMAP and MTE VMs.
 *
 * COW policy is the kernel's choice: "refused" (EINVAL at memslot and at
 * a fault on a COW VMA swapped in later), "refused-at-fault" (the memslot
 * is accepted, the first guest access or write fails KVM_RUN with EFAULT
 * or EINVAL, and the device is never written) or "isolated" (guest writes
 * land in a private copy, never in the device pfn, the host's private view
 * equals the guest's, and reads before any write are not demoted). It is
 * printed as "# PROFILE: cow=..." for VM_PFNMAP and VM_MIXEDMAP, in plain
 * and MTE VMs; anything else fails.
 * In an MTE VM the memslot's EINVAL is MTE's (MTE-1), so the COW profile
 * comes from the fault on a COW VMA swapped in later.
 * MTE tags only struct-page memory: PFNMAP memslots in an MTE VM are refused,
 * and a PFNMAP VMA swapped in later is never mapped Normal: a cacheable one
 * fails KVM_RUN with EFAULT; a non-cacheable one fails with EFAULT or is
 * mapped Device/Normal-NC ("# PROFILE: mte_swapped_in=...").
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
#define WORDS		(PAGE / 8)
#define DEV_SEED	0x61
#define GUEST_SEED	0x62
#define CODE_TAG	0x3b
#define CODE_GPA	(PFNMAP_TEST_GPA + 2 * PAGE)

static struct kvm_vm *mte_vm_create(struct kvm_vcpu **vcpu, void *guest_code);

#define MTE_SKIP "KVM_CAP_ARM_MTE unavailable: run on a FEAT_MTE2 host (QEMU: -M virt,mte=on -cpu max) with CONFIG_ARM64_MTE=y"

/* ---------------- COW-1 ---------------- */

/* Reads (and executes) before any write, then writes page 1. */
static void guest_cow(void)
{
	uint64_t *p = (void *)PFNMAP_TEST_GPA;
	uint64_t i;

	pfnmap_inval_poc(PFNMAP_TEST_GPA, PAGE);
	for (i = 0; i < WORDS; i++)
		GUEST_ASSERT_EQ(READ_ONCE(p[i]), pfnmap_pattern(DEV_SEED, i));
	GUEST_SYNC(pfnmap_guest_exec(CODE_GPA));
	for (i = 0; i < WORDS; i++)
		WRITE_ONCE(p[WORDS + i], pfnmap_pattern(GUEST_SEED, i));
	pfnmap_clean_poc(PFNMAP_TEST_GPA + PAGE, PAGE);
	GUEST_DONE();
}

FIXTURE(cow) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region shared, priv;
	int expect;
};

FIXTURE_VARIANT(cow) {
	uint32_t type;
	uint32_t flags;
	bool mte;
};

FIXTURE_VARIANT_ADD(cow, cacheable_nonlinear) { WB, 0, false };
FIXTURE_VARIANT_ADD(cow, device_nonlinear) { nGnRE, 0, false };
FIXTURE_VARIANT_ADD(cow, cacheable_nonlinear_mixedmap) { WB, MIXED, false };
FIXTURE_VARIANT_ADD(cow, device_nonlinear_mixedmap) { nGnRE, MIXED, false };
FIXTURE_VARIANT_ADD(cow, device_nonlinear_mte_vm) { nGnRE, 0, true };
FIXTURE_VARIANT_ADD(cow, device_nonlinear_mixedmap_mte_vm) { nGnRE, MIXED, true };

FIXTURE_SETUP(cow)
{
	const char *reason;

	if (!pfnmap_provider_ready(NPAGES * PAGE, &reason))
		SKIP(return, "%s", reason);
	self->expect = pfnmap_expected_s2(variant->type, variant->flags,
					  pfnmap_env()->cap);
	if (variant->mte) {
		self->vm = mte_vm_create(&self->vcpu, guest_cow);
		if (!self->vm)
			SKIP(return, MTE_SKIP);
	} else {
		self->vm = pfnmap_vm_create(&self->vcpu, guest_cow, NPAGES * PAGE);
	}
	/* The second, shared mapping shows what the device pfns hold. */
	ASSERT_EQ(0, pfnmap_map(&self->shared, variant->type, variant->flags, 0,
				NPAGES * PAGE, true, NULL));
	pfnmap_fill(self->shared.hva, NPAGES * PAGE, DEV_SEED);
	pfnmap_put_code((uint8_t *)self->shared.hva + 2 * PAGE, CODE_TAG);
	pfnmap_clean_poc((uint64_t)self->shared.hva, NPAGES * PAGE);
	pfnmap_virt_map(self->vm, PFNMAP_TEST_GPA, NPAGES * PAGE);
}

FIXTURE_TEARDOWN(cow)
{
	if (self->vm)
		kvm_vm_free(self->vm);
	pfnmap_unmap(&self->priv);
	pfnmap_unmap(&self->shared);
}

#define SWAPPED_IN_RAN_FORMAT \
	"COW memslot refused (EINVAL) but a fault on a COW VMA swapped in under a memslot ran (KVM_RUN %d): profile is neither refused nor isolated"

static void check_isolated_from(struct __test_metadata *_metadata,
				FIXTURE_DATA(cow) *self, uint64_t cmd,
				struct ucall *uc);

/* "refused" also needs EINVAL at fault on a private VMA swapped in. */
static void check_refused_at_fault(struct __test_metadata *_metadata,
				   FIXTURE_DATA(cow) *self,
				   const FIXTURE_VARIANT(cow) *variant)
{
	struct pfnmap_region s;
	void *hva;
	int ret;

	if (variant->mte) {
		/* An MTE VM refuses any PFNMAP memslot (MTE-1): start from RAM */
		hva = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, hva);
		ASSERT_EQ(0, pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
					       NPAGES * PAGE, hva))
			TH_LOG("MTE VM refused a memslot over anonymous memory");
		ASSERT_EQ(0, munmap(hva, NPAGES * PAGE));
	} else {
		ASSERT_EQ(0, pfnmap_map(&s, variant->type, variant->flags, 0,
					NPAGES * PAGE, true, NULL));
		ASSERT_EQ(0, pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
					       NPAGES * PAGE, s.hva))
			TH_LOG("the shared twin of the refused private VMA was refused too");
		hva = s.hva;
		pfnmap_unmap(&s);
	}
	ASSERT_EQ(0, pfnmap_map(&self->priv, variant->type, variant->flags, 0,
				NPAGES * PAGE, false, hva));
	ret = _vcpu_run(self->vcpu);
	if (variant->mte && !ret) {
		struct ucall uc;

		/*
		 * The MTE VM's EINVAL was MTE-1's (no VM_MTE_ALLOWED), which
		 * says nothing of COW: a kernel whose fault on the swapped-in
		 * COW VMA runs is judged by isolation instead.
		 */
		check_isolated_from(_metadata, self, get_ucall(self->vcpu, &uc), &uc);
		return;
	}
	EXPECT_EQ(-1, ret)
		TH_LOG(SWAPPED_IN_RAN_FORMAT, ret);
	if (ret == -1) {
		EXPECT_EQ(EINVAL, errno)
			TH_LOG("fault on a swapped-in COW VMA: KVM_RUN errno %d, want EINVAL",
			       errno);
	}
	if (!_metadata->exit_code)
		ksft_print_msg("PROFILE: cow=refused\n");
}

/* The device pfns are untouched: page 1 still holds what the host wrote. */
static void check_device_unwritten(struct __test_metadata *_metadata,
				   FIXTURE_DATA(cow) *self)
{
	uint64_t *dev = (uint64_t *)((uint8_t *)self->shared.hva + PAGE);
	int64_t i;

	pfnmap_inval_poc((uint64_t)dev, PAGE);
	for (i = 0; i < (int64_t)WORDS; i++)
		if (READ_ONCE(dev[i]) != pfnmap_pattern(DEV_SEED, WORDS + i))
			break;
	EXPECT_EQ((int64_t)WORDS, i)
		TH_LOG("guest write reached the device pfn: word %ld is %#lx", i,
		       READ_ONCE(dev[i]));
}

#define RUN_FAILED_FORMAT \
	"COW memslot accepted, KVM_RUN failed with errno %d, want EFAULT or EINVAL (refused at fault) or success (isolated)"

/*
 * Runs to the next ucall. A KVM_RUN that fails with EFAULT or EINVAL is the
 * "refused-at-fault" profile, which holds only if nothing reached the device;
 * it returns 0 then. Any other failure fails the case.
 */
static uint64_t run_or_refused(struct __test_metadata *_metadata,
			       FIXTURE_DATA(cow) *self, struct ucall *uc)
{
	uint64_t cmd;

	if (_vcpu_run(self->vcpu)) {
		ASSERT_TRUE(errno == EFAULT || errno == EINVAL)
			TH_LOG(RUN_FAILED_FORMAT, errno);
		check_device_unwritten(_metadata, self);
		if (!_metadata->exit_code)
			ksft_print_msg("PROFILE: cow=refused-at-fault\n");
		return 0;
	}
	cmd = get_ucall(self->vcpu, uc);
	if (cmd == UCALL_ABORT)
		REPORT_GUEST_ASSERT(*uc);
	return cmd;
}

#define EXEC_DEMOTED_FORMAT \
	"COW read before write: exec %s: the cacheable VMA was demoted to Device/NC at stage 2"

/* From the first ucall of the guest on a COW VMA, @cmd (0: refused at fault). */
static void check_isolated_from(struct __test_metadata *_metadata,
				FIXTURE_DATA(cow) *self, uint64_t cmd,
				struct ucall *first)
{
	uint64_t *mine = (uint64_t *)((uint8_t *)self->priv.hva + PAGE);
	struct pfnmap_s2_leaf leaf;
	struct ucall uc;
	uint64_t got;
	int64_t bad;

	if (!cmd)
		return;
	if (cmd == UCALL_ABORT)
		REPORT_GUEST_ASSERT(*first);
	ASSERT_EQ(UCALL_SYNC, cmd);
	got = first->args[1];
	/* Reads before a write see the device pfn: SEC-1 applies to them. */
	if (pfnmap_s2_lookup(self->vm, PFNMAP_TEST_GPA, &leaf) == 0) {
		EXPECT_TRUE(pfnmap_s2_type_is_cacheable(leaf.type) ||
			    !pfnmap_s2_type_is_cacheable(self->expect))
			TH_LOG("COW read before write: stage 2 %s for a cacheable VMA (demoted)",
			       pfnmap_s2_type_name(leaf.type));
	}
	if (pfnmap_s2_type_is_cacheable(self->expect) || self->expect == S2T_REFUSED) {
		EXPECT_EQ((uint64_t)CODE_TAG, got)
			TH_LOG(EXEC_DEMOTED_FORMAT,
			       got == PFNMAP_EXEC_ABORTED ? "took an instruction abort" :
							    "ran other code");
	}

	cmd = run_or_refused(_metadata, self, &uc);
	if (!cmd)
		return;
	ASSERT_EQ(UCALL_DONE, cmd);
	check_device_unwritten(_metadata, self);
	bad = pfnmap_check(mine, PAGE, GUEST_SEED);
	EXPECT_EQ(-1, bad)
		TH_LOG("host private view differs from the guest's write at word %ld", bad);
	if (!_metadata->exit_code)
		ksft_print_msg("PROFILE: cow=isolated\n");
}

static void check_isolated(struct __test_metadata *_metadata,
			   FIXTURE_DATA(cow) *self)
{
	struct ucall uc;

	check_isolated_from(_metadata, self, run_or_refused(_metadata, self, &uc), &uc);
}

TEST_F(cow, profile_is_refused_refused_at_fault_or_isolated)
{
	int err;

	ASSERT_EQ(0, pfnmap_map(&self->priv, variant->type, variant->flags, 0,
				NPAGES * PAGE, false, NULL));
	err = pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
				NPAGES * PAGE, self->priv.hva);
	if (err && self->expect == S2T_REFUSED)
		SKIP(return,
		     "cap=0: cacheable PFNMAP is refused whether COW or not; the device_nonlinear variant decides the COW profile");
	if (err) {
		ASSERT_EQ(EINVAL, err)
			TH_LOG("COW memslot: errno %d, want EINVAL or accepted", err);
		pfnmap_unmap(&self->priv);
		check_refused_at_fault(_metadata, self, variant);
		return;
	}
	/* Pages mapped at mmap time can be seen, so must be refused (MS-1) */
	EXPECT_FALSE(self->expect == S2T_REFUSED && !(variant->flags & MIXED))
		TH_LOG("cap=%d but a cacheable non-linear COW memslot was accepted",
		       pfnmap_env()->cap);
	check_isolated(_metadata, self);
}

/* ---------------- MTE ---------------- */

static struct kvm_vm *mte_vm_create(struct kvm_vcpu **vcpu, void *guest_code)
{
	struct kvm_vm *vm = vm_create(1);

	if (!vm_check_cap(vm, KVM_CAP_ARM_MTE)) {
		kvm_vm_free(vm);
		return NULL;
	}
	/* MTE must be enabled before the first vCPU exists. */
	vm_enable_cap(vm, KVM_CAP_ARM_MTE, 0);
	if (vcpu) {
		*vcpu = vm_vcpu_add(vm, 0, guest_code);
		pfnmap_vcpu_install_handlers(*vcpu);
#ifdef PFNMAP_LIB_FINALIZES_VCPUS
		/*
		 * 6.17+ libraries give each VM a vGIC and initialise it once the
		 * vCPUs exist: a VM put together by hand takes that step too, or
		 * KVM_RUN fails with EBUSY (the Makefile defines this for them).
		 */
		kvm_arch_vm_finalize_vcpus(vm);
#endif
	}
	return vm;
}

FIXTURE(mte) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
	void *anon;
};

FIXTURE_VARIANT(mte) {
	uint32_t type;
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(mte, cacheable_nonlinear) { WB, 0 };
FIXTURE_VARIANT_ADD(mte, nc_allow_uncached_nonlinear) { NC, TEST_PFNMAP_F_ALLOW_ANY_UNCACHED };
FIXTURE_VARIANT_ADD(mte, device_nonlinear) { nGnRE, 0 };
FIXTURE_VARIANT_ADD(mte, cacheable_linear) { WB, LINEAR };
FIXTURE_VARIANT_ADD(mte, nc_linear) { NC, LINEAR };

#define MT_TAGGED	6
#define NO_MTE		0xdead
#define PROBE_TAG	0x5UL
#define TAG_ABORTED	(~0ULL)

/* Guest: MAIR index MT_TAGGED is Normal Tagged, and EL1 may access tags. */
static void guest_enable_tags(void)
{
	uint64_t mair, sctlr;

	mair = read_sysreg(mair_el1);
	mair = (mair & ~(0xffULL << (8 * MT_TAGGED))) | (0xf0ULL << (8 * MT_TAGGED));
	write_sysreg(mair, mair_el1);
	sctlr = read_sysreg(sctlr_el1) | (1ULL << 43);	/* ATA: tag access at EL1 */
	write_sysreg(sctlr, sctlr_el1);
	isb();
	asm volatile("tlbi vmalle1\n dsb nsh\n isb" ::: "memory");
}

/*
 * Guest: store PROBE_TAG at @va and load the tag back. Where stage 2 is
 * not Normal (tag-capable), tag accesses read as zero and stores are
 * ignored; TAG_ABORTED if the access aborts instead.
 */
static uint64_t guest_tag_round_trip(uint64_t va)
{
	uint64_t got = va;

	WRITE_ONCE(pfnmap_guest_dabt_esr, 0);
	WRITE_ONCE(pfnmap_guest_dabt_armed, true);
	asm volatile(".arch armv8.5-a+memtag\n stg %0, [%1]"
		     :: "r" (va | PROBE_TAG << 56), "r" (va) : "memory");
	asm volatile(".arch armv8.5-a+memtag\n ldg %0, [%1]" : "+r" (got) : "r" (va) : "memory");
	WRITE_ONCE(pfnmap_guest_dabt_armed, false);
	return READ_ONCE(pfnmap_guest_dabt_esr) ? TAG_ABORTED : (got >> 56) & 0xf;
}

/*
 * A read, then a call into the second page, where the host put code, then
 * a tag store and load on the first page (mapped Tagged at stage 1).
 */
static void guest_touch(void)
{
	GUEST_SYNC(READ_ONCE(*(uint64_t *)PFNMAP_TEST_GPA));
	GUEST_SYNC(pfnmap_guest_call(PFNMAP_TEST_GPA + PAGE));
	if (((read_sysreg(id_aa64pfr1_el1) >> 8) & 0xf) < 2) {
		GUEST_SYNC(NO_MTE);
		GUEST_DONE();
	}
	guest_enable_tags();
	GUEST_SYNC(guest_tag_round_trip(PFNMAP_TEST_GPA));
	GUEST_DONE();
}

FIXTURE_SETUP(mte)
{
	self->anon = NULL;
	/* The cases skip, each with its reason. */
	if (pfnmap_have_provider((variant->flags & LINEAR) ? 0 : NPAGES * PAGE))
		self->vm = mte_vm_create(&self->vcpu, guest_touch);
}

static void mte_require(struct __test_metadata *_metadata,
			FIXTURE_DATA(mte) *self, const FIXTURE_VARIANT(mte) *variant)
{
	const char *reason;

	if (!pfnmap_provider_ready((variant->flags & LINEAR) ? 0 : NPAGES * PAGE, &reason))
		SKIP(return, "%s", reason);
	if (!self->vm)
		SKIP(return, MTE_SKIP);
}

FIXTURE_TEARDOWN(mte)
{
	pfnmap_teardown(self->vm, &self->r);
	if (self->anon)
		munmap(self->anon, NPAGES * PAGE);
}

TEST_F(mte, pfnmap_memslot_is_refused)
{
	int err;

	mte_require(_metadata, self, variant);
	if (_metadata->exit_code)
		return;
	ASSERT_EQ(0, pfnmap_map(&self->r, variant->type, variant->flags, 0,
				NPAGES * PAGE, true, NULL));
	err = pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
				NPAGES * PAGE, self->r.hva);
	EXPECT_EQ(EINVAL, err)
		TH_LOG("MTE VM, %s PFNMAP memslot: errno %d, want EINVAL",
		       pfnmap_type_name(variant->type), err);
}

#define TAGS_WORK_FORMAT \
	"MTE VM, %s PFNMAP swapped in: the guest stored tag %#lx and read it back: stage 2 is Normal (tag-capable)"

#define MTE_SWAPPED_IN_FORMAT \
	"MTE VM, %s PFNMAP swapped in: KVM_RUN returned %d (exit %s), want -1/EFAULT"
#define MTE_MAPPED_NORMAL_FORMAT \
	"MTE VM, %s PFNMAP swapped in was mapped and executable: Normal (tag-capable) at stage 2"

/* The guest's tag store and load on the swapped-in page: never kept. */
static void check_no_tags(struct __test_metadata *_metadata, struct kvm_vcpu *vcpu,
			  const FIXTURE_VARIANT(mte) *variant)
{
	struct ucall uc;

	ASSERT_EQ(UCALL_SYNC, pfnmap_run(vcpu, &uc));
	if (uc.args[1] == NO_MTE)
		ksft_print_msg("tag probe not run: the vCPU lacks FEAT_MTE2\n");
	else
		EXPECT_NE(PROBE_TAG, uc.args[1])
			TH_LOG(TAGS_WORK_FORMAT, pfnmap_type_name(variant->type), PROBE_TAG);
}

/*
 * A non-cacheable kind KVM maps Device or Normal-NC may be mapped: tags
 * cannot be accessed there (upstream 6.18). It must not be Normal: the
 * view says so exactly; without it, Normal memory runs the host's code
 * and Device/NC memory takes an instruction abort.
 */
static void check_mapped_uncached(struct __test_metadata *_metadata,
				  FIXTURE_DATA(mte) *self,
				  const FIXTURE_VARIANT(mte) *variant)
{
	struct pfnmap_s2_leaf leaf;
	struct ucall uc;

	ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
	EXPECT_EQ(PFNMAP_EXEC_ABORTED, uc.args[1])
		TH_LOG(MTE_MAPPED_NORMAL_FORMAT, pfnmap_type_name(variant->type));
	/* By behaviour too: no tag can be stored there (SPEC MTE-2) */
	check_no_tags(_metadata, self->vcpu, variant);
	if (pfnmap_s2_lookup(self->vm, PFNMAP_TEST_GPA, &leaf) == 0)
		EXPECT_TRUE(!pfnmap_s2_type_is_cacheable(leaf.type) && leaf.type != S2T_OTHER)
			TH_LOG("MTE VM, swapped-in %s PFNMAP: stage 2 %s",
			       pfnmap_type_name(variant->type), pfnmap_s2_type_name(leaf.type));
	if (!_metadata->exit_code)
		ksft_print_msg("PROFILE: mte_swapped_in=mapped-uncached\n");
}

TEST_F(mte, pfnmap_swapped_in_under_anon_memslot_is_refused_or_uncached)
{
	int expect = pfnmap_expected_s2(variant->type, variant->flags, pfnmap_env()->cap);
	bool may_map = expect != S2T_REFUSED && !pfnmap_s2_type_is_cacheable(expect);
	struct pfnmap_region r;
	struct ucall uc;
	int ret;

	mte_require(_metadata, self, variant);
	if (_metadata->exit_code)
		return;
	self->anon = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->anon);
	vm_set_user_memory_region(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
				  NPAGES * PAGE, self->anon);
	pfnmap_virt_map(self->vm, PFNMAP_TEST_GPA, NPAGES * PAGE);
	ASSERT_EQ(0, pfnmap_map(&r, variant->type, variant->flags, 0,
				NPAGES * PAGE, true, self->anon));
	self->r = r;
	self->anon = NULL;
	pfnmap_put_code((uint8_t *)r.hva + PAGE, 0x77);
	pfnmap_clean_poc((uint64_t)r.hva + PAGE, 8);
	pfnmap_set_s1_attr(self->vm, PFNMAP_TEST_GPA, MT_TAGGED);

	ret = _vcpu_run(self->vcpu);
	if (ret == 0 && may_map) {
		ASSERT_EQ(UCALL_SYNC, get_ucall(self->vcpu, &uc));
		check_mapped_uncached(_metadata, self, variant);
		return;
	}
	if (ret == 0 && get_ucall(self->vcpu, &uc) == UCALL_SYNC) {
		TH_LOG("the guest read %#lx from the swapped-in PFNMAP", uc.args[1]);
		/* Mapped where SPEC wants EFAULT: do tags work there too? */
		ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
		check_no_tags(_metadata, self->vcpu, variant);
	}
	EXPECT_EQ(-1, ret)
		TH_LOG(MTE_SWAPPED_IN_FORMAT, pfnmap_type_name(variant->type), ret,
		       exit_reason_str(self->vcpu->run->exit_reason));
	if (ret == -1)
		EXPECT_EQ(EFAULT, errno);
	if (may_map && !_metadata->exit_code)
		ksft_print_msg("PROFILE: mte_swapped_in=efault\n");
}

/* ---- MTE-3: tags work on anonymous memory (control) ---- */

static void guest_tags(void)
{
	uint64_t va, tag, got;
	int page;

	if (((read_sysreg(id_aa64pfr1_el1) >> 8) & 0xf) < 2) {
		GUEST_SYNC(NO_MTE);
		GUEST_DONE();
	}
	guest_enable_tags();

	/* One tag per page: QEMU 7.2 keeps only two distinct tags per page. */
	for (page = 0; page < NPAGES; page++)
		for (va = PFNMAP_TEST_GPA + page * PAGE;
		     va < PFNMAP_TEST_GPA + (page + 1) * PAGE; va += 16) {
			tag = (uint64_t)(page + 1) << 56;
			asm volatile(".arch armv8.5-a+memtag\n stg %0, [%1]"
				     :: "r" (va | tag), "r" (va) : "memory");
		}
	for (page = 0; page < NPAGES; page++)
		for (va = PFNMAP_TEST_GPA + page * PAGE;
		     va < PFNMAP_TEST_GPA + (page + 1) * PAGE; va += 16) {
			got = va;
			asm volatile(".arch armv8.5-a+memtag\n ldg %0, [%1]"
				     : "+r" (got) : "r" (va) : "memory");
			GUEST_ASSERT_EQ((got >> 56) & 0xf, page + 1);
		}
	GUEST_SYNC(0);
	GUEST_DONE();
}

TEST(mte_vm_tags_work_on_anonymous_memory)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t gva;

	vm = mte_vm_create(&vcpu, guest_tags);
	if (!vm)
		SKIP(return, MTE_SKIP);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, PFNMAP_TEST_GPA,
				    PFNMAP_TEST_SLOT, pfnmap_guest_pages(vm, NPAGES * PAGE), 0);
	pfnmap_virt_map(vm, PFNMAP_TEST_GPA, NPAGES * PAGE);
	/* Every guest page: the guest's pages may be smaller than the host's */
	for (gva = PFNMAP_TEST_GPA; gva < PFNMAP_TEST_GPA + NPAGES * PAGE; gva += vm->page_size)
		pfnmap_set_s1_attr(vm, gva, MT_TAGGED);

	ASSERT_EQ(UCALL_SYNC, pfnmap_run(vcpu, &uc));
	if (uc.args[1] == NO_MTE) {
		kvm_vm_free(vm);
		SKIP(return,
		     "the MTE VM's vCPU lacks FEAT_MTE2 (ID_AA64PFR1_EL1.MTE < 2): use a CPU model with MTE2");
	}
	ASSERT_EQ(UCALL_DONE, pfnmap_run(vcpu, &uc));
	kvm_vm_free(vm);
}

TEST_HARNESS_MAIN
