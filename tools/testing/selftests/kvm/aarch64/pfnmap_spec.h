/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What SPEC requires of a provider kind: the tests' oracle, kept with the
 * tests and written from SPEC's rows, not from the kernel's code.
 */
#ifndef SELFTEST_KVM_PFNMAP_SPEC_H
#define SELFTEST_KVM_PFNMAP_SPEC_H

#include "pfnmap_provider.h"
#include "pfnmap_s2view.h"

/* Shorthand for the provider kinds in the tests' variant tables */
#define WB		TEST_PFNMAP_TYPE_NORMAL_WB
#define NC		TEST_PFNMAP_TYPE_NORMAL_NC
#define nGnRE		TEST_PFNMAP_TYPE_DEVICE_nGnRE
#define nGnRnE		TEST_PFNMAP_TYPE_DEVICE_nGnRnE
#define ALLOW		TEST_PFNMAP_F_ALLOW_ANY_UNCACHED
#define MIXED		TEST_PFNMAP_F_MIXEDMAP
#define LINEAR		TEST_PFNMAP_F_LINEAR
#define PTE_DEV		TEST_PFNMAP_F_PTE_DEVICE

/* Not a stage-2 type: KVM must refuse the memory (CAP-4). */
#define S2T_REFUSED	(S2T_OTHER + 1)

static inline const char *pfnmap_expect_name(int expect)
{
	return expect == S2T_REFUSED ? "refused(EINVAL)" : pfnmap_s2_type_name(expect);
}

/*
 * SPEC S2-1..S2-6 / S2-8 / CAP-3 / CAP-4: the stage-2 type a provider kind
 * gets. S2T_REFUSED for a kind populated at mmap time is EINVAL at the
 * memslot; for a lazily populated one (VM_MIXEDMAP) it may instead be
 * EFAULT at the first fault (CAP-4: the kernel's profile).
 */
static inline int pfnmap_expected_s2(uint32_t type, uint32_t flags, int cap)
{
	/* S2-4: linear-map RAM is Normal-WB on every CPU, FWB or not. */
	if (flags & TEST_PFNMAP_F_LINEAR)
		return S2T_NORMAL_WB;
	/* S2-8: never more cacheable than the PTE, which is Device here. */
	if (flags & TEST_PFNMAP_F_PTE_DEVICE)
		return (flags & TEST_PFNMAP_F_ALLOW_ANY_UNCACHED) ?
			S2T_NORMAL_NC : S2T_DEVICE_nGnRE;
	/* S2-1 / S2-6 / CAP-3 / CAP-4 */
	if (type == TEST_PFNMAP_TYPE_NORMAL_WB)
		return cap ? S2T_NORMAL_WB : S2T_REFUSED;
	/* S2-2 / S2-3: KVM picks NC or nGnRE, never the VMA's exact type. */
	return (flags & TEST_PFNMAP_F_ALLOW_ANY_UNCACHED) ? S2T_NORMAL_NC :
							   S2T_DEVICE_nGnRE;
}

#endif /* SELFTEST_KVM_PFNMAP_SPEC_H */
