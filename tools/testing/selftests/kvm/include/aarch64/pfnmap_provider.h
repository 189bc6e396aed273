/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A client of the test PFNMAP provider, /dev/test_pfnmap: its INFO, and
 * regions of a given type, flags and layout mapped from it.
 */
#ifndef SELFTEST_KVM_PFNMAP_PROVIDER_H
#define SELFTEST_KVM_PFNMAP_PROVIDER_H

#include <stdbool.h>
#include <stdint.h>

/* Kept beside lib/test_hmm_uapi.h, so included by path as hmm-tests does. */
#include "../../../../../../lib/test_pfnmap_uapi.h"

/* All zero (as a harness fixture starts) means nothing is mapped. */
struct pfnmap_region {
	void *hva;
	uint64_t size;
	uint64_t pa;		/* physical address; 0 for linear backing */
	int fd;
};

/*
 * Opens the provider once and caches its INFO. Returns false with an
 * actionable *reason when it is absent, or when @nonlinear_bytes of
 * non-linear-map memory are needed and the region is smaller.
 */
bool pfnmap_provider(struct test_pfnmap_info *info, uint64_t nonlinear_bytes,
		     const char **reason);

/*
 * CONFIG + mmap on a fresh fd. @shared selects MAP_SHARED or MAP_PRIVATE,
 * @fixed (or NULL) is a MAP_FIXED address. Returns 0 or -errno.
 */
int pfnmap_map(struct pfnmap_region *r, uint32_t type, uint32_t flags,
	       uint64_t offset, uint64_t size, bool shared, void *fixed);
void pfnmap_unmap(struct pfnmap_region *r);

/* Offset of the first @align-aligned physical address of the region. */
static inline uint64_t pfnmap_provider_aligned(const struct test_pfnmap_info *info,
					       uint64_t align)
{
	return ((info->base + align - 1) & ~(align - 1)) - info->base;
}

/* Reserves @size of address space aligned to @align (PROT_NONE). */
void *pfnmap_reserve_aligned(uint64_t size, uint64_t align);

/*
 * A non-linear-map kind that every CPU accepts and that may be a stage-2
 * block: cacheable where the capability says so, else Normal-NC with
 * VM_ALLOW_ANY_UNCACHED. @name may be NULL.
 */
void pfnmap_accepted_kind(uint32_t *type, uint32_t *flags, const char **name);
const char *pfnmap_type_name(uint32_t type);

#endif /* SELFTEST_KVM_PFNMAP_PROVIDER_H */
