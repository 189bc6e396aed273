// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_memslot_test - which PFNMAP memslots KVM accepts, and what happens
 * when the VMA under a memslot is replaced.
 *
 * The capability KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED must agree with
 * behaviour: cap=1 accepts cacheable non-linear-map PFNMAP, cap=0 refuses it
 * with EINVAL (and a fault on one swapped in later fails KVM_RUN with EFAULT).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_s2view.h"
#include "pfnmap_spec.h"
#include "ucall_common.h"

#define PAGE		pfnmap_page_size
#define NONLINEAR	0u

/* ---- CAP-1 / CAP-2 ---- */

#define CAP1_REFUSED_FORMAT \
	"cap=1 but a cacheable non-linear PFNMAP memslot failed: errno %d (%s)"
#define CAP0_MISMATCH_FORMAT \
	"cap=%d (absent or 0) but KVM %s a cacheable non-linear PFNMAP memslot (errno %d): the capability does not describe this kernel"

TEST(cap_on_vm_fd_is_0_or_1_and_matches_what_kvm_accepts)
{
	const struct pfnmap_env *env = pfnmap_env();
	struct pfnmap_region r;
	const char *reason;
	struct kvm_vm *vm;
	int err;

	ASSERT_TRUE(env->cap == 0 || env->cap == 1)
		TH_LOG("KVM_CHECK_EXTENSION(243) on a VM fd returned %d, want 0 or 1", env->cap);
	if (!pfnmap_provider_ready(PAGE, &reason))
		SKIP(return, "%s", reason);

	vm = vm_create_barebones();
	ASSERT_EQ(0, pfnmap_map(&r, WB, NONLINEAR, 0, PAGE, true, NULL));
	err = pfnmap_slot_errno(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA, PAGE, r.hva);
	if (env->cap) {
		EXPECT_EQ(0, err)
			TH_LOG(CAP1_REFUSED_FORMAT, err, strerror(err));
	} else {
		EXPECT_EQ(EINVAL, err)
			TH_LOG(CAP0_MISMATCH_FORMAT, env->cap,
			       err ? "refused with another errno" : "accepted", err);
	}
	kvm_vm_free(vm);
	pfnmap_unmap(&r);
}

#define CAP_FWB_FORMAT \
	"cap=%d, FWB=%d, DIC=%d (FWB from a vCPU's ID_AA64MMFR2_EL1, DIC from CTR_EL0)\n"
#define CAP1_WITHOUT_FWB_MSG \
	"KVM_CHECK_EXTENSION(243) is 1 on a CPU without FEAT_S2FWB: KVM would map memory without a kernel alias cacheable with no way to clean it"

/*
 * CAP-1: never 1 on a CPU without FEAT_S2FWB. FWB comes from the ID
 * register as KVM gives it to a vCPU (ID_AA64MMFR2_EL1.FWB), a source that
 * does not go through the capability code; in a rig cell the rig also
 * reads it from the emulator and judges the capability rule by that.
 */
TEST(cap_is_never_1_without_fwb)
{
	const struct pfnmap_env *env = pfnmap_env();

	if (env->fwb == PFNMAP_UNKNOWN)
		SKIP(return,
		     "KVM_GET_ONE_REG(ID_AA64MMFR2_EL1) failed on a vCPU: FWB is unknown");
	ksft_print_msg(CAP_FWB_FORMAT, env->cap, env->fwb, env->dic);
	EXPECT_FALSE(env->cap == 1 && env->fwb == 0)
		TH_LOG(CAP1_WITHOUT_FWB_MSG);
	/*
	 * Which rule the kernel follows (cap = FWB, or FWB and DIC) shows only
	 * across CPUs: the rig reads it from every cell's cap, FWB and DIC.
	 */
}

TEST(cap_on_system_fd_fails_with_einval)
{
	int kvm_fd = open_kvm_dev_path_or_exit();
	int ret;

	/* Raw ioctl: kvm_check_cap() asserts on the error we expect. */
	ret = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED);
	EXPECT_EQ(-1, ret)
		TH_LOG("KVM_CHECK_EXTENSION(243) on /dev/kvm returned %d, want -1/EINVAL", ret);
	if (ret == -1)
		EXPECT_EQ(EINVAL, errno);
	close(kvm_fd);
}

/* ---- MS-1 / MS-2 / MS-3 / CAP-3 / CAP-4 (memslot creation) ---- */

FIXTURE(kind) {
	struct kvm_vm *vm;
	struct pfnmap_region r;
	int expect;
};

FIXTURE_VARIANT(kind) {
	uint32_t type;
	uint32_t flags;
	enum pfnmap_path path;
};

/* Lazily populated kinds (VM_MIXEDMAP) may be refused at the first fault instead */
#define PFNMAP_KIND(name)		FIXTURE_VARIANT_ADD(kind, name)
#define PFNMAP_KIND_WHEN_CAP_1(name)	FIXTURE_VARIANT_ADD(kind, name##_accepted_when_cap_1)
#define PFNMAP_KIND_WHEN_CAP_0(name)	FIXTURE_VARIANT_ADD(kind, name##_refused_when_cap_0)
#include "pfnmap_kinds.h"

FIXTURE_SETUP(kind)
{
	const char *reason;

	if (!pfnmap_kind_ready(variant->path,
			       pfnmap_nonlinear_bytes(variant->flags, PAGE), &reason))
		SKIP(return, "%s", reason);
	self->expect = pfnmap_expected_s2(variant->type, variant->flags,
					  pfnmap_env()->cap);
	self->vm = vm_create_barebones();
	ASSERT_EQ(0, pfnmap_map(&self->r, variant->type, variant->flags, 0,
				PAGE, true, NULL));
}

FIXTURE_TEARDOWN(kind)
{
	pfnmap_teardown(self->vm, &self->r);
}

#define LAZY_FORMAT \
	"cap=%d: lazily populated cacheable VM_MIXEDMAP memslot: errno %d (%s), want EINVAL or accepted"
#define REFUSED_FORMAT \
	"%s PFNMAP memslot (flags %#x) refused: errno %d (%s), want accepted"

TEST_F(kind, memslot_is_accepted_unless_cacheable_with_cap_0)
{
	int err;

	err = pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA, PAGE,
				self->r.hva);
	if (self->expect == S2T_REFUSED && (variant->flags & TEST_PFNMAP_F_MIXEDMAP) &&
	    err != EINVAL) {
		/*
		 * Populated on fault: no page is mapped yet, so the kernel may
		 * refuse here or at the first fault (pfnmap_s2attr_test checks
		 * that one). Which it does is its CAP-4 profile.
		 */
		EXPECT_EQ(0, err)
			TH_LOG(LAZY_FORMAT, pfnmap_env()->cap, err, strerror(err));
		if (!err)
			ksft_print_msg("PROFILE: cap0_lazy=fault\n");
	} else if (self->expect == S2T_REFUSED) {
		if (err == EINVAL && (variant->flags & TEST_PFNMAP_F_MIXEDMAP))
			ksft_print_msg("PROFILE: cap0_lazy=memslot\n");
		EXPECT_EQ(EINVAL, err)
			TH_LOG("cap=%d: %s non-linear PFNMAP memslot: errno %d (%s), want EINVAL",
			       pfnmap_env()->cap, pfnmap_type_name(variant->type),
			       err, err ? strerror(err) : "accepted");
	} else if (err == EINVAL && (variant->flags & PTE_DEV)) {
		/* S2-8: refusing MMIO behind a cacheable VMA is safe too */
		ksft_print_msg("memslot over Device PTEs in a cacheable VMA refused (EINVAL)\n");
	} else {
		EXPECT_EQ(0, err)
			TH_LOG(REFUSED_FORMAT, pfnmap_type_name(variant->type),
			       variant->flags, err, strerror(err));
	}
}

TEST_F(kind, dirty_logging_is_refused_at_creation)
{
	int err;

	if (variant->flags & TEST_PFNMAP_F_MIXEDMAP)
		SKIP(return,
		     "MS-3 covers VM_PFNMAP; a VM_MIXEDMAP VMA is not an IO region for KVM");
	err = pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES,
				PFNMAP_TEST_GPA, PAGE, self->r.hva);
	EXPECT_EQ(EINVAL, err)
		TH_LOG("KVM_MEM_LOG_DIRTY_PAGES on a %s PFNMAP memslot: errno %d, want EINVAL",
		       pfnmap_type_name(variant->type), err);
}

TEST_F(kind, dirty_logging_is_refused_as_flags_only_update)
{
	int err;

	if (variant->flags & TEST_PFNMAP_F_MIXEDMAP)
		SKIP(return,
		     "MS-3 covers VM_PFNMAP; a VM_MIXEDMAP VMA is not an IO region for KVM");
	if (self->expect == S2T_REFUSED)
		SKIP(return,
		     "cap=0: this kind is refused at creation (CAP-4); the flags-only update is checked on the non-cacheable kinds");
	ASSERT_EQ(0, pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
				       PAGE, self->r.hva));
	err = pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES,
				PFNMAP_TEST_GPA, PAGE, self->r.hva);
	EXPECT_EQ(EINVAL, err)
		TH_LOG("flags-only update to KVM_MEM_LOG_DIRTY_PAGES: errno %d, want EINVAL", err);
}

/* ---- MS-4: one memslot over several VMAs ---- */

enum piece { END, ANON, HOLE, PFN_WB, PFN_NC_ALLOW, PFN_DEV };
#define MAX_PIECES 4

FIXTURE(span) {
	struct kvm_vm *vm;
	uint8_t *base;
	struct pfnmap_region r[MAX_PIECES];
	int n;
};

FIXTURE_VARIANT(span) {
	enum piece layout[MAX_PIECES];
	uint32_t slot_flags;
};

FIXTURE_VARIANT_ADD(span, anon_then_pfnmap_with_dirty_logging) {
	{ ANON, PFN_NC_ALLOW, HOLE, END }, KVM_MEM_LOG_DIRTY_PAGES };
FIXTURE_VARIANT_ADD(span, nc_then_hole_then_cacheable) {
	{ PFN_NC_ALLOW, HOLE, PFN_WB, END }, 0 };
FIXTURE_VARIANT_ADD(span, device_then_cacheable_then_anon) {
	{ PFN_DEV, PFN_WB, ANON, END }, 0 };
FIXTURE_VARIANT_ADD(span, anon_then_hole_then_device) {
	{ ANON, HOLE, PFN_DEV, END }, 0 };

FIXTURE_SETUP(span)
{
	int i;

	if (!pfnmap_have_provider(MAX_PIECES * PAGE))
		return;
	for (self->n = 0; self->n < MAX_PIECES && variant->layout[self->n] != END; self->n++)
		;
	self->base = pfnmap_reserve_aligned(self->n * PAGE, PAGE);
	for (i = 0; i < self->n; i++) {
		void *at = self->base + i * PAGE;
		uint32_t type = nGnRE, flags = 0;

		switch (variant->layout[i]) {
		case ANON:
			ASSERT_NE(MAP_FAILED, mmap(at, PAGE, PROT_READ | PROT_WRITE,
						   MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
			continue;
		case HOLE:
			munmap(at, PAGE);
			continue;
		case PFN_WB:
			type = WB;
			break;
		case PFN_NC_ALLOW:
			type = NC;
			flags = ALLOW;
			break;
		default:
			break;
		}
		/* Disjoint provider offsets: each piece has its own pfns. */
		ASSERT_EQ(0, pfnmap_map(&self->r[i], type, flags, i * PAGE, PAGE, true, at));
	}
	self->vm = vm_create_barebones();
}

FIXTURE_TEARDOWN(span)
{
	int i;

	if (self->vm)
		kvm_vm_free(self->vm);
	for (i = 0; i < MAX_PIECES; i++)
		pfnmap_unmap(&self->r[i]);
}

TEST_F(span, first_offending_vma_decides_and_nothing_is_created_on_error)
{
	uint64_t size = self->n * PAGE;
	bool offending = false;
	const char *reason;
	void *anon;
	int i, err, probe;

	if (!pfnmap_provider_ready(MAX_PIECES * PAGE, &reason))
		SKIP(return, "%s", reason);
	for (i = 0; i < self->n; i++) {
		enum piece p = variant->layout[i];

		if (p >= PFN_WB && (variant->slot_flags & KVM_MEM_LOG_DIRTY_PAGES))
			offending = true;
		if (p == PFN_WB && !pfnmap_env()->cap)
			offending = true;
	}

	err = pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, variant->slot_flags,
				PFNMAP_TEST_GPA, size, self->base);
	EXPECT_EQ(offending ? EINVAL : 0, err)
		TH_LOG("cap=%d, slot flags %#x: errno %d, want %s", pfnmap_env()->cap,
		       variant->slot_flags, err, offending ? "EINVAL" : "accepted");

	/* An overlapping slot is refused (EEXIST) iff the first one exists. */
	anon = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	probe = pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT + 1, 0, PFNMAP_TEST_GPA, size, anon);
	EXPECT_EQ(err ? 0 : EEXIST, probe)
		TH_LOG("overlap probe: errno %d: the failed memslot %s", probe,
		       err ? "was partly created" : "is missing");
	if (!probe)
		pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT + 1, 0, PFNMAP_TEST_GPA, 0, anon);
	munmap(anon, size);
}

/* ---- S2-7 / CAP-4: the VMA is replaced under an existing memslot ---- */

#define S27_PAGES 4

FIXTURE(replace) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct pfnmap_region r;
};

FIXTURE_VARIANT(replace) {
	uint32_t from_type, from_flags;
	uint32_t to_type, to_flags;
	enum pfnmap_path path;
};

FIXTURE_VARIANT_ADD(replace, device_replaced_by_cacheable_mapped_when_cap_1) {
	nGnRE, NONLINEAR, WB, NONLINEAR, WHEN_CAP_1 };
FIXTURE_VARIANT_ADD(replace, device_replaced_by_cacheable_refused_when_cap_0) {
	nGnRE, NONLINEAR, WB, NONLINEAR, WHEN_CAP_0 };
FIXTURE_VARIANT_ADD(replace, nc_allow_uncached_replaced_by_device) {
	NC, ALLOW, nGnRE, NONLINEAR };
FIXTURE_VARIANT_ADD(replace, device_replaced_by_nc_allow_uncached) {
	nGnRE, NONLINEAR, NC, ALLOW };
FIXTURE_VARIANT_ADD(replace, linear_replaced_by_device) {
	NC, TEST_PFNMAP_F_LINEAR, nGnRE, NONLINEAR };

/* The seed the host filled the current VMA with (sync_global_to_guest()). */
static uint64_t g_seed;

/*
 * Reads the first word of every page: args[1] is page 0's, args[2] the
 * first page whose word is not the current seed's (S27_PAGES if none),
 * args[3] what that page held.
 */
static void guest_read_loop(void)
{
	uint64_t i, v, bad, got;

	for (;;) {
		bad = S27_PAGES;
		got = 0;
		for (i = S27_PAGES; i-- > 0;) {
			v = READ_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + i * PAGE));
			if (v != pfnmap_pattern(g_seed, i * PAGE / 8)) {
				bad = i;
				got = v;
			}
		}
		GUEST_SYNC_ARGS(READ_ONCE(*(uint64_t *)PFNMAP_TEST_GPA), bad, got, 0, 0);
	}
}

FIXTURE_SETUP(replace)
{
	const char *reason;

	if (!pfnmap_kind_ready(variant->path, 2 * S27_PAGES * PAGE, &reason))
		SKIP(return, "%s", reason);
	self->vm = pfnmap_vm_create(&self->vcpu, guest_read_loop, S27_PAGES * PAGE);
	ASSERT_EQ(0, pfnmap_map(&self->r, variant->from_type, variant->from_flags,
				0, S27_PAGES * PAGE, true, NULL));
	ASSERT_EQ(0, pfnmap_slot_errno(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
				       S27_PAGES * PAGE, self->r.hva));
	pfnmap_virt_map(self->vm, PFNMAP_TEST_GPA, S27_PAGES * PAGE);
}

FIXTURE_TEARDOWN(replace)
{
	pfnmap_teardown(self->vm, &self->r);
}

#define SWAPPED_IN_RAN_FORMAT \
	"cap=0: fault on a cacheable VMA swapped in: KVM_RUN returned %d, want EFAULT"

TEST_F(replace, new_vma_decides_at_next_fault_and_old_entries_are_gone)
{
	struct kvm_vm *vm = self->vm;
	int expect = pfnmap_expected_s2(variant->to_type, variant->to_flags,
					pfnmap_env()->cap);
	struct pfnmap_s2_leaf leaf;
	struct pfnmap_region to;
	struct ucall uc;
	void *hva = self->r.hva;
	int ret, n;

	pfnmap_fill(hva, S27_PAGES * PAGE, 1);
	pfnmap_clean_poc((uint64_t)hva, S27_PAGES * PAGE);
	g_seed = 1;
	sync_global_to_guest(vm, g_seed);
	ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
	ASSERT_EQ(pfnmap_pattern(1, 0), uc.args[1]);
	ASSERT_EQ(S27_PAGES, uc.args[2])
		TH_LOG("page %lu of the first VMA read %#lx", uc.args[2], uc.args[3]);

	/*
	 * Same address, other kind, other pfns (offset past the first). A
	 * PROT_NONE placeholder holds the address meanwhile: the stage-2
	 * reading below creates a thread, whose stack would otherwise be put
	 * in the hole and then mapped over.
	 */
	pfnmap_unmap(&self->r);
	ASSERT_EQ(hva, mmap(hva, S27_PAGES * PAGE, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	n = pfnmap_s2_count(vm, PFNMAP_TEST_GPA, PFNMAP_TEST_GPA + S27_PAGES * PAGE);
	if (n != -ENODEV)
		EXPECT_EQ(0, n) TH_LOG("%d stage-2 leaves survive the munmap", n);
	ASSERT_EQ(0, pfnmap_map(&to, variant->to_type, variant->to_flags,
				S27_PAGES * PAGE, S27_PAGES * PAGE, true, hva));
	self->r = to;
	pfnmap_fill(hva, S27_PAGES * PAGE, 2);
	pfnmap_clean_poc((uint64_t)hva, S27_PAGES * PAGE);
	g_seed = 2;
	sync_global_to_guest(vm, g_seed);

	if (expect == S2T_REFUSED) {
		ret = _vcpu_run(self->vcpu);
		EXPECT_EQ(-1, ret)
			TH_LOG(SWAPPED_IN_RAN_FORMAT, ret);
		if (ret == -1)
			EXPECT_EQ(EFAULT, errno);
		return;
	}
	ASSERT_EQ(UCALL_SYNC, pfnmap_run(self->vcpu, &uc));
	EXPECT_EQ(pfnmap_pattern(2, 0), uc.args[1])
		TH_LOG("guest read %#lx: stale data from the replaced VMA (want %#lx)",
		       uc.args[1], pfnmap_pattern(2, 0));
	/* Every page, not only the first: each had its own stage-2 entry */
	EXPECT_EQ(S27_PAGES, uc.args[2])
		TH_LOG("page %lu of %d read %#lx after the VMA was replaced, want %#lx: stale data",
		       uc.args[2], S27_PAGES, uc.args[3],
		       pfnmap_pattern(2, uc.args[2] * PAGE / 8));
	ret = pfnmap_s2_lookup(vm, PFNMAP_TEST_GPA, &leaf);
	if (ret == -ENODEV) {
		ksft_print_msg("stage-2 type not checked: %s\n", pfnmap_no_view_reason);
		return;
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ(expect, leaf.type)
		TH_LOG("IPA %#lx: stage 2 is %s, want %s (new VMA %s flags %#x)",
		       PFNMAP_TEST_GPA, pfnmap_s2_type_name(leaf.type),
		       pfnmap_expect_name(expect), pfnmap_type_name(variant->to_type),
		       variant->to_flags);
}

TEST_HARNESS_MAIN
