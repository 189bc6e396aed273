/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The provider kinds: one table for every test that has a case per kind,
 * as page_fault_test has one tests[]. A test names its fixture and the
 * words of its cap paths, then includes this file (the pattern of
 * arch/x86/include/asm/kvm-x86-ops.h); its variant has .type, .flags and
 * .path:
 *
 *	#define PFNMAP_KIND(name)		FIXTURE_VARIANT_ADD(kind, name)
 *	#define PFNMAP_KIND_WHEN_CAP_1(name)	FIXTURE_VARIANT_ADD(kind, name##_mapped_when_cap_1)
 *	#define PFNMAP_KIND_WHEN_CAP_0(name)	FIXTURE_VARIANT_ADD(kind, name##_refused_when_cap_0)
 *	#include "pfnmap_kinds.h"
 *
 * The names are the case names rig/case-requirements.tsv traces.
 */

/* Cacheable outside the linear map: each cap path is a case of its own */
PFNMAP_KIND_WHEN_CAP_1(cacheable_nonlinear_pfnmap) { .type = WB, .flags = 0, .path = WHEN_CAP_1 };
PFNMAP_KIND_WHEN_CAP_0(cacheable_nonlinear_pfnmap) { .type = WB, .flags = 0, .path = WHEN_CAP_0 };
PFNMAP_KIND_WHEN_CAP_1(cacheable_allow_uncached_nonlinear_pfnmap) {
	.type = WB, .flags = ALLOW, .path = WHEN_CAP_1 };
PFNMAP_KIND_WHEN_CAP_0(cacheable_allow_uncached_nonlinear_pfnmap) {
	.type = WB, .flags = ALLOW, .path = WHEN_CAP_0 };
PFNMAP_KIND_WHEN_CAP_1(cacheable_nonlinear_mixedmap) {
	.type = WB, .flags = MIXED, .path = WHEN_CAP_1 };
PFNMAP_KIND_WHEN_CAP_0(cacheable_nonlinear_mixedmap) {
	.type = WB, .flags = MIXED, .path = WHEN_CAP_0 };

/* One answer on every CPU */
PFNMAP_KIND(nc_allow_uncached_nonlinear_pfnmap) { .type = NC, .flags = ALLOW };
PFNMAP_KIND(device_nGnRE_allow_uncached_nonlinear_pfnmap) { .type = nGnRE, .flags = ALLOW };
PFNMAP_KIND(device_nGnRnE_allow_uncached_nonlinear_pfnmap) { .type = nGnRnE, .flags = ALLOW };
PFNMAP_KIND(nc_nonlinear_pfnmap) { .type = NC, .flags = 0 };
PFNMAP_KIND(device_nGnRE_nonlinear_pfnmap) { .type = nGnRE, .flags = 0 };
PFNMAP_KIND(device_nGnRnE_nonlinear_pfnmap) { .type = nGnRnE, .flags = 0 };
PFNMAP_KIND(cacheable_linear_pfnmap) { .type = WB, .flags = LINEAR };
PFNMAP_KIND(nc_allow_uncached_linear_pfnmap) { .type = NC, .flags = LINEAR | ALLOW };
PFNMAP_KIND(device_nGnRE_linear_pfnmap) { .type = nGnRE, .flags = LINEAR };
PFNMAP_KIND(device_nGnRnE_linear_pfnmap) { .type = nGnRnE, .flags = LINEAR };
PFNMAP_KIND(nc_allow_uncached_nonlinear_mixedmap) { .type = NC, .flags = MIXED | ALLOW };
PFNMAP_KIND(device_nGnRE_nonlinear_mixedmap) { .type = nGnRE, .flags = MIXED };
PFNMAP_KIND(cacheable_linear_mixedmap) { .type = WB, .flags = MIXED | LINEAR };
PFNMAP_KIND(nc_linear_mixedmap) { .type = NC, .flags = MIXED | LINEAR };
/* S2-8: a driver's Device PTEs in a VMA whose vm_page_prot is cacheable */
PFNMAP_KIND(cacheable_vma_device_pte_nonlinear_pfnmap) { .type = WB, .flags = PTE_DEV };
PFNMAP_KIND(cacheable_vma_device_pte_allow_uncached_nonlinear_pfnmap) {
	.type = WB, .flags = PTE_DEV | ALLOW };

#undef PFNMAP_KIND
#undef PFNMAP_KIND_WHEN_CAP_1
#undef PFNMAP_KIND_WHEN_CAP_0
