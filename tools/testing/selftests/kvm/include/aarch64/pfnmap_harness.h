/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kselftest-harness glue shared by the pfnmap_* tests.
 */
#ifndef SELFTEST_KVM_PFNMAP_HARNESS_H
#define SELFTEST_KVM_PFNMAP_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "pfnmap_env.h"
#include "pfnmap_guest.h"
#include "pfnmap_provider.h"

/*
 * Whether the provider is there, with @nonlinear_bytes of non-linear-map
 * memory; if not, *reason says why. A TEST body or a FIXTURE_SETUP skips
 * the case with:
 *
 *	if (!pfnmap_provider_ready(bytes, &reason))
 *		SKIP(return, "%s", reason);
 */
static inline bool pfnmap_provider_ready(uint64_t nonlinear_bytes,
					 const char **reason)
{
	struct test_pfnmap_info info;

	return pfnmap_provider(&info, nonlinear_bytes, reason);
}

/* A FIXTURE_TEARDOWN's usual body: the VM, if setup made one, then the region. */
static inline void pfnmap_teardown(struct kvm_vm *vm, struct pfnmap_region *r)
{
	if (vm)
		kvm_vm_free(vm);
	pfnmap_unmap(r);
}

/* A round trip's data, checked both ways (its execute answer is the caller's). */
static inline void pfnmap_expect_round_trip(struct __test_metadata *_metadata,
					    const struct pfnmap_round_trip *rt)
{
	ksft_print_msg("round trip over %lu pages: guest misread %lu, host misread %lu\n",
		       rt->pages, rt->guest_bad, rt->host_bad);
	EXPECT_EQ(0, rt->guest_bad)
		TH_LOG("the guest read wrong host data on %lu pages, first page %lu",
		       rt->guest_bad, rt->guest_first_bad);
	EXPECT_EQ(0, rt->host_bad)
		TH_LOG("the host read wrong guest data on %lu pages, first page %lu",
		       rt->host_bad, rt->host_first_bad);
}

/* For a FIXTURE_SETUP that leaves the skip to the case. */
static inline bool pfnmap_have_provider(uint64_t nonlinear_bytes)
{
	struct test_pfnmap_info info;
	const char *reason;

	return pfnmap_provider(&info, nonlinear_bytes, &reason);
}

/*
 * Where a kind's answer depends on the cap, each path is a variant of its
 * own, named for it ("..._when_cap_1", "..._when_cap_0"), so that a pass
 * proves the path its name says. The rig's table of case names
 * (rig/case-requirements.tsv) credits each name with its IDs.
 */
enum pfnmap_path { ANY_CAP, WHEN_CAP_0, WHEN_CAP_1 };

#define PFNMAP_CAP_1_HERE_MSG \
	"cap = 1 here: this case checks the cap = 0 path; its _when_cap_1 sibling checks this CPU's"
#define PFNMAP_CAP_0_HERE_MSG \
	"cap = 0 here (no FEAT_S2FWB, or a kernel without the cap): this case checks the cap = 1 path; its _when_cap_0 sibling checks this CPU's"

/* NULL where @path is this CPU's, else why the case is a skip here. */
static inline const char *pfnmap_path_skip(enum pfnmap_path path)
{
	int cap = pfnmap_env()->cap;

	if (path == ANY_CAP || (path == WHEN_CAP_1) == (cap == 1))
		return NULL;
	return cap ? PFNMAP_CAP_1_HERE_MSG : PFNMAP_CAP_0_HERE_MSG;
}

/*
 * Whether a case over a provider kind can run here: its path is this CPU's
 * and the provider is there. If not, *reason says why, for SKIP().
 */
static inline bool pfnmap_kind_ready(enum pfnmap_path path, uint64_t nonlinear_bytes,
				     const char **reason)
{
	*reason = pfnmap_path_skip(path);
	return !*reason && pfnmap_provider_ready(nonlinear_bytes, reason);
}

/* The non-linear memory @bytes of a kind with provider @flags take. */
static inline uint64_t pfnmap_nonlinear_bytes(uint32_t flags, uint64_t bytes)
{
	return (flags & TEST_PFNMAP_F_LINEAR) ? 0 : bytes;
}

/*
 * PFNMAP_LONG_SWEEPS=1: run the cases that read every page of a multi-GiB
 * region, which take longer than kvm/settings' timeout (give the runner a
 * longer one); without it, their sampled siblings run instead.
 */
static inline bool pfnmap_long_sweeps(void)
{
	const char *v = getenv("PFNMAP_LONG_SWEEPS");

	return v && !strcmp(v, "1");
}

#endif /* SELFTEST_KVM_PFNMAP_HARNESS_H */
