/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the cacheable stage-2 PFNMAP selftests: the test PFNMAP
 * provider (/dev/test_pfnmap), the stage-2 debugfs view, the host
 * environment, and guest-side probes (execute oracle, cache maintenance).
 */
#ifndef SELFTEST_KVM_PFNMAP_UTIL_H
#define SELFTEST_KVM_PFNMAP_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm_util.h"
#include "processor.h"

/* Kept beside lib/test_hmm_uapi.h, so included by path as hmm-tests does. */
#include "../../../../../../lib/test_pfnmap_uapi.h"

#ifndef KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED
#define KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED 243
#endif

/* IPA (== guest VA) and slot used for the memory under test. 1 GiB aligned. */
#define PFNMAP_TEST_GPA		0x1000000000UL
#define PFNMAP_TEST_SLOT	10
#define PFNMAP_SZ_1G		BIT(30)

/*
 * The host's page size (4, 16 or 64 KiB): memslots, provider mappings and
 * the stage-2 view work in it. Set before main(); guest code reads the copy
 * that pfnmap_vcpu_install_handlers() puts in the guest.
 */
extern uint64_t pfnmap_page_size;
/* A level-2 stage-2 block of the host granule: 2 MiB, 32 MiB or 512 MiB */
#define PFNMAP_PMD_BLOCK	(pfnmap_page_size * (pfnmap_page_size / 8))
/* The largest block a region aligned as ours can get: 1 GiB with 4 KiB pages, else level 2 */
uint64_t pfnmap_largest_block(void);
/*
 * @bytes in the guest's own pages (@vm's, or the default mode's for NULL):
 * the guest may use 4 KiB pages on a 64 KiB host, and the library counts
 * memslot sizes and page-table room in guest pages.
 */
uint64_t pfnmap_guest_pages(struct kvm_vm *vm, uint64_t bytes);
/* virt_map() of @bytes at @gpa (identity), in the guest's own page size */
void pfnmap_virt_map(struct kvm_vm *vm, uint64_t gpa, uint64_t bytes);

/* Tri-state answers: a feature the host does not reveal is "unknown". */
#define PFNMAP_UNKNOWN		(-1)

struct pfnmap_env {
	int cap;		/* KVM_CHECK_EXTENSION(243) on a VM fd */
	int fwb, dic, idc, mte;	/* 1, 0 or PFNMAP_UNKNOWN */
	const char *kvm_mode;	/* vhe, nvhe, hvhe, protected, unknown */
	bool s2view;		/* stage2_leaves exists for a fresh VM */
	const char *where;	/* qemu or hardware */
};

/* Probes once, prints "# ENV: ..." once per binary. */
const struct pfnmap_env *pfnmap_env(void);

/* ---- test PFNMAP provider ---- */

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

/* Reserves @size of address space aligned to @align (PROT_NONE). */
void *pfnmap_reserve_aligned(uint64_t size, uint64_t align);

const char *pfnmap_type_name(uint32_t type);

/* ---- what SPEC requires ---- */

enum pfnmap_s2_type {
	S2T_NORMAL_WB,
	S2T_NORMAL_NC,
	S2T_NORMAL_WT,
	S2T_DEVICE_nGnRnE,
	S2T_DEVICE_nGnRE,
	S2T_DEVICE_nGRE,
	S2T_DEVICE_GRE,
	S2T_OTHER,
	S2T_REFUSED,		/* expectation only: memslot gets EINVAL */
};

const char *pfnmap_s2_type_name(int type);
bool pfnmap_s2_type_is_cacheable(int type);

/*
 * SPEC S2-1..S2-6 / S2-8 / CAP-3 / CAP-4: the stage-2 type a provider kind
 * gets. S2T_REFUSED for a kind populated at mmap time is EINVAL at the
 * memslot; for a lazily populated one (VM_MIXEDMAP) it may instead be
 * EFAULT at the first fault (CAP-4: the kernel's profile).
 */
int pfnmap_expected_s2(uint32_t type, uint32_t flags, int cap);

/* ---- stage-2 debugfs view (docs/interfaces.md section 1) ---- */

struct pfnmap_s2_leaf {
	uint64_t ipa_start, ipa_end;	/* inclusive */
	uint64_t pa;
	int level;
	char size[8];
	uint32_t memattr;
	int type;			/* enum pfnmap_s2_type */
	char s2ap[4];
	int xn;
};

/* Why attribute checks cannot run on this kernel. */
extern const char pfnmap_no_view_reason[];

/* 0 and *leaf filled; -ENOENT when @ipa is unmapped; -ENODEV without view. */
int pfnmap_s2_lookup(struct kvm_vm *vm, uint64_t ipa,
		     struct pfnmap_s2_leaf *leaf);
/* Leaves intersecting [start, end); -ENODEV without view. */
int pfnmap_s2_count(struct kvm_vm *vm, uint64_t start, uint64_t end);
bool pfnmap_s2_view_present(struct kvm_vm *vm);

/* What the view says of an IPA range, for checks over a whole region. */
struct pfnmap_s2_summary {
	uint64_t mapped;	/* bytes of [start, end) covered by leaves */
	uint64_t bytes_of_type;	/* ... whose type is the one asked for */
	int other;		/* first other type seen, -1 if none */
	uint64_t other_ipa;
	bool pa_mismatch;	/* a leaf's PA is not pa_base + (ipa - start) */
	uint64_t bad_pa_ipa;
	char largest[8];	/* size of the largest leaf, e.g. "1G" */
};

/*
 * Summarises the leaves over [start, end) against @type (enum
 * pfnmap_s2_type) and, if @pa_base is non-zero, a linear IPA to PA layout.
 * 0, or -ENODEV without view.
 */
int pfnmap_s2_summarise(struct kvm_vm *vm, uint64_t start, uint64_t end,
			int type, uint64_t pa_base, struct pfnmap_s2_summary *s);

/* ---- guest setup and probes ---- */

/* VM with one vCPU, exception tables, and room for @test_bytes of PTEs. */
struct kvm_vm *pfnmap_vm_create(struct kvm_vcpu **vcpu, void *guest_code,
				uint64_t test_bytes);
/* Adds exception tables and the instruction/data abort handlers. */
void pfnmap_vcpu_install_handlers(struct kvm_vcpu *vcpu);

/* Rewrites the AttrIndx of the guest stage-1 PTE for @gva (MT_*). */
void pfnmap_set_s1_attr(struct kvm_vm *vm, uint64_t gva, int attr_idx);

/* A vCPU binary stat by name (e.g. "exits"), via KVM_GET_STATS_FD. */
uint64_t pfnmap_vcpu_stat(struct kvm_vcpu *vcpu, const char *name);

/* Runs to the next ucall; reports a guest assertion as a test failure. */
uint64_t pfnmap_run(struct kvm_vcpu *vcpu, struct ucall *uc);

/* "movz x0, #tag; ret": 8 bytes, written with aligned 32-bit stores. */
void pfnmap_put_code(void *va, uint16_t tag);
#define PFNMAP_EXEC_ABORTED	(~0ULL)

/*
 * Guest: set by the handlers installed by pfnmap_vcpu_install_handlers().
 * Shared with exception context: access them with READ_ONCE()/WRITE_ONCE().
 */
extern uint64_t pfnmap_guest_iabt_count;
extern uint64_t pfnmap_guest_dabt_esr;	/* 0: none since reset */
extern bool pfnmap_guest_dabt_armed;	/* else a data abort fails */

/*
 * Guest: D/I maintenance for @gva, then call it. Returns the tag the code
 * put in x0, or PFNMAP_EXEC_ABORTED when an instruction abort came instead.
 */
uint64_t pfnmap_guest_exec(uint64_t gva);

/*
 * Word by word, with WRITE_ONCE()/READ_ONCE(): memcpy may use DC ZVA or
 * unaligned accesses.
 */
void pfnmap_fill(uint64_t *p, uint64_t bytes, uint64_t seed);
/* Returns the index of the first mismatching word, or -1. */
int64_t pfnmap_check(const uint64_t *p, uint64_t bytes, uint64_t seed);

static inline uint64_t pfnmap_pattern(uint64_t seed, uint64_t i)
{
	return (seed << 32) ^ (i * 0x9e3779b97f4a7c15ULL);
}

/* CTR_EL0 fields (readable at EL0 and EL1). */
static inline uint64_t pfnmap_read_ctr(void)
{
	uint64_t ctr;

	asm volatile("mrs %0, ctr_el0" : "=r" (ctr));
	return ctr;
}

#define PFNMAP_CTR_IDC(ctr)	(((ctr) >> 28) & 1)
#define PFNMAP_CTR_DIC(ctr)	(((ctr) >> 29) & 1)
#define PFNMAP_CTR_DLINE(ctr)	(4UL << (((ctr) >> 16) & 0xf))
#define PFNMAP_CTR_ILINE(ctr)	(4UL << ((ctr) & 0xf))

/* Clean D to PoU and invalidate I for [va, va+len), honouring IDC/DIC. */
static inline void pfnmap_sync_icache(uint64_t va, uint64_t len)
{
	uint64_t ctr = pfnmap_read_ctr();
	uint64_t p;

	if (!PFNMAP_CTR_IDC(ctr))
		for (p = va & ~(PFNMAP_CTR_DLINE(ctr) - 1); p < va + len;
		     p += PFNMAP_CTR_DLINE(ctr))
			asm volatile("dc cvau, %0" :: "r" (p) : "memory");
	dsb(ish);
	if (!PFNMAP_CTR_DIC(ctr))
		for (p = va & ~(PFNMAP_CTR_ILINE(ctr) - 1); p < va + len;
		     p += PFNMAP_CTR_ILINE(ctr))
			asm volatile("ic ivau, %0" :: "r" (p) : "memory");
	dsb(ish);
	isb();
}

/* B2.8 mismatched aliases: the writer cleans to PoC ... */
static inline void pfnmap_clean_poc(uint64_t va, uint64_t len)
{
	uint64_t line = PFNMAP_CTR_DLINE(pfnmap_read_ctr()), p;

	for (p = va & ~(line - 1); p < va + len; p += line)
		asm volatile("dc cvac, %0" :: "r" (p) : "memory");
	dsb(sy);
}

/* ... and the reader invalidates (clean+invalidate: legal at EL0 too). */
static inline void pfnmap_inval_poc(uint64_t va, uint64_t len)
{
	uint64_t line = PFNMAP_CTR_DLINE(pfnmap_read_ctr()), p;

	for (p = va & ~(line - 1); p < va + len; p += line)
		asm volatile("dc civac, %0" :: "r" (p) : "memory");
	dsb(sy);
}

#endif /* SELFTEST_KVM_PFNMAP_UTIL_H */
