// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_s2_oracle_test - stage 2 as the emulator holds it, for each kind
 * of PFNMAP memory, against SPEC and against the kernel's own view.
 *
 * In a rig QEMU cell the stage-2 inspector reads the VM's stage-2 tables
 * from emulated memory (pfnmap_s2_emulator_dump()), so this judges any
 * kernel exactly, with or without a stage-2 view of its own:
 *  - every page of the region is mapped with the memory type SPEC gives
 *    the kind (pfnmap_spec.h), at the pfn the provider put there;
 *  - where the kernel has its view, every leaf over the region is the
 *    same in both, field by field: a view that lies is caught.
 * Elsewhere (hardware) both cases skip with the reason; the other tests
 * judge by the kernel's view there.
 */
#include <errno.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_s2view.h"
#include "pfnmap_spec.h"
#include "ucall_common.h"

#define PAGE		pfnmap_page_size
#define NPAGES		16
#define BYTES		(NPAGES * PAGE)
#define MAX_LEAVES	(2 * NPAGES)

static void guest_code(void)
{
	pfnmap_guest_touch_pages(PFNMAP_TEST_GPA, NPAGES, NULL, 0);
	GUEST_DONE();
}

FIXTURE(kind) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
	int expect;
};

FIXTURE_VARIANT(kind) {
	uint32_t type;
	uint32_t flags;
	enum pfnmap_path path;
};

/*
 * cap = 0: KVM must refuse the cap kinds (pfnmap_memslot_test checks that).
 * If it maps one anyway, stage 2 must still not be uncached (SEC-1): the
 * unpatched kernel maps it Device-nGnRE. That case can fail or skip, never
 * pass, so a cap = 0 cell credits no cap = 1 requirement.
 */
#define PFNMAP_KIND(name)		FIXTURE_VARIANT_ADD(kind, name)
#define PFNMAP_KIND_WHEN_CAP_1(name)	FIXTURE_VARIANT_ADD(kind, name##_mapped_when_cap_1)
#define PFNMAP_KIND_WHEN_CAP_0(name)	FIXTURE_VARIANT_ADD(kind, name##_if_mapped_when_cap_0)
#include "pfnmap_kinds.h"

#define REFUSED_MSG \
	"cap = 0: the memslot is refused (memslot_test checks that), nothing to inspect"
#define REFUSED_OTHER_FORMAT \
	"memslot refused (errno %d) where SPEC wants %s or allows a refusal: pfnmap_s2attr_test judges it; nothing to inspect"
#define REFUSED_AT_FAULT_MSG \
	"KVM_RUN failed with EFAULT at the first fault, a refusal SPEC allows here (pfnmap_s2attr_test judges it): nothing mapped to inspect"
#define MAPPED_AT_CAP_0_MSG \
	"cap = 0, yet KVM mapped it: Normal-WB, so never uncached (SEC-1 holds); being mapped at all is the CAP-4 failure pfnmap_memslot_test reports"
#define COUNT_FORMAT "the emulator's tables hold %d leaves over the region, the view %d"

FIXTURE_SETUP(kind)
{
	const struct pfnmap_env *env = pfnmap_env();
	const char *reason;
	struct ucall uc;
	int ret;

	if (!pfnmap_kind_ready(variant->path,
			       pfnmap_nonlinear_bytes(variant->flags, BYTES), &reason))
		SKIP(return, "%s", reason);
	self->expect = pfnmap_expected_s2(variant->type, variant->flags, env->cap);
	ASSERT_EQ(0, pfnmap_map(&self->r, variant->type, variant->flags, 0, BYTES, true, NULL));
	self->vm = pfnmap_vm_create(&self->vcpu, guest_code, BYTES);
	ret = __vm_set_user_memory_region(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
					  BYTES, self->r.hva);
	if (ret && self->expect == S2T_REFUSED)
		SKIP(return, REFUSED_MSG);
	/*
	 * Refused where SPEC wants a mapping: that is the memslot's failure
	 * (S2-4), or a refusal S2-8 allows; pfnmap_s2attr_test judges it,
	 * once. Nothing is mapped here to inspect.
	 */
	if (ret)
		SKIP(return, REFUSED_OTHER_FORMAT, errno, pfnmap_expect_name(self->expect));
	pfnmap_virt_map(self->vm, PFNMAP_TEST_GPA, BYTES);

	/* The guest touches every page of the region. */
	ret = _vcpu_run(self->vcpu);
	/* A lazily populated kind may be refused here instead (CAP-4, S2-8) */
	if (ret && errno == EFAULT &&
	    (self->expect == S2T_REFUSED || (variant->flags & PTE_DEV)))
		SKIP(return, REFUSED_AT_FAULT_MSG);
	ASSERT_EQ(0, ret) TH_LOG("KVM_RUN: %s", strerror(errno));
	ASSERT_EQ(UCALL_DONE, get_ucall(self->vcpu, &uc))
		TH_LOG("the guest did not finish: exit %s",
		       exit_reason_str(self->vcpu->run->exit_reason));
	/* Mapped though cap = 0 says refuse: judged as what it must never be */
	if (self->expect == S2T_REFUSED)
		self->expect = S2T_NORMAL_WB;
}

FIXTURE_TEARDOWN(kind)
{
	pfnmap_teardown(self->vm, &self->r);
}

#define WRONG_TYPE_FORMAT \
	"IPA %#lx: the emulator's stage 2 says %s (memattr %#x), SPEC wants %s for %s"
#define WRONG_PA_FORMAT "IPA %#lx maps PA %#lx, the provider put PA %#lx there"

/* SPEC S2-1/S2-2/S2-3/S2-4/S2-8, SEC-1 and CAP-3, from the emulator. */
TEST_F(kind, every_page_has_the_spec_type_in_the_emulators_stage2)
{
	struct pfnmap_s2_leaf leaf;
	uint64_t seen = 0;
	const char *why;
	FILE *f;

	f = pfnmap_s2_emulator_dump(self->vcpu, PFNMAP_TEST_GPA, PFNMAP_TEST_GPA + BYTES, &why);
	if (!f)
		SKIP(return, "%s", why);
	while (pfnmap_s2_read_leaf(f, &leaf)) {
		uint64_t ipa;

		if (leaf.ipa_end < PFNMAP_TEST_GPA || leaf.ipa_start >= PFNMAP_TEST_GPA + BYTES)
			continue;
		ipa = leaf.ipa_start > PFNMAP_TEST_GPA ? leaf.ipa_start : PFNMAP_TEST_GPA;
		EXPECT_EQ(self->expect, leaf.type)
			TH_LOG(WRONG_TYPE_FORMAT, ipa, pfnmap_s2_type_name(leaf.type), leaf.memattr,
			       pfnmap_expect_name(self->expect), pfnmap_type_name(variant->type));
		if (self->r.pa)
			EXPECT_EQ(self->r.pa + (ipa - PFNMAP_TEST_GPA),
				  leaf.pa + (ipa - leaf.ipa_start))
				TH_LOG(WRONG_PA_FORMAT, ipa, leaf.pa + (ipa - leaf.ipa_start),
				       self->r.pa + (ipa - PFNMAP_TEST_GPA));
		seen += (leaf.ipa_end + 1 < PFNMAP_TEST_GPA + BYTES ?
			 leaf.ipa_end + 1 : PFNMAP_TEST_GPA + BYTES) - ipa;
	}
	fclose(f);
	EXPECT_EQ(BYTES, seen) TH_LOG("the guest touched every page, stage 2 maps %lu of %lu bytes",
				      seen, BYTES);
	if (variant->path == WHEN_CAP_0 && !_metadata->exit_code)
		SKIP(return, MAPPED_AT_CAP_0_MSG);
}

static int region_leaves(FILE *f, struct pfnmap_s2_leaf *out, int max)
{
	struct pfnmap_s2_leaf leaf;
	int n = 0;

	while (pfnmap_s2_read_leaf(f, &leaf))
		if (leaf.ipa_end >= PFNMAP_TEST_GPA && leaf.ipa_start < PFNMAP_TEST_GPA + BYTES &&
		    n < max)
			out[n++] = leaf;
	return n;
}

/* The kernel's view tells the truth: the emulator's tables, leaf by leaf. */
TEST_F(kind, kernel_view_matches_the_emulators_stage2_leaf_by_leaf)
{
	struct pfnmap_s2_leaf emu[MAX_LEAVES], view[MAX_LEAVES];
	int n_emu, n_view, i;
	const char *why;
	FILE *f, *v;

	v = pfnmap_s2_kernel_view(self->vm);
	if (!v)
		SKIP(return, "%s", pfnmap_no_dump_reason);
	n_view = region_leaves(v, view, MAX_LEAVES);
	fclose(v);
	f = pfnmap_s2_emulator_dump(self->vcpu, PFNMAP_TEST_GPA, PFNMAP_TEST_GPA + BYTES, &why);
	if (!f)
		SKIP(return, "%s", why);
	n_emu = region_leaves(f, emu, MAX_LEAVES);
	fclose(f);
	ASSERT_EQ(n_emu, n_view) TH_LOG(COUNT_FORMAT, n_emu, n_view);
	/* Braces: the harness's TH_LOG belongs to the EXPECT inside the loop. */
	for (i = 0; i < n_emu; i++) {
		EXPECT_EQ(NULL, pfnmap_s2_disagreement(&view[i], &emu[i]))
			TH_LOG("leaf %d: %s", i, pfnmap_s2_disagreement(&view[i], &emu[i]));
	}
}

TEST_HARNESS_MAIN
