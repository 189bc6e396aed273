/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest side of the cacheable PFNMAP tests: VM setup in the host's
 * page size, the execute and data-abort probes, patterns, and the cache
 * maintenance a guest does by the Arm ARM's rules.
 */
#ifndef SELFTEST_KVM_PFNMAP_GUEST_H
#define SELFTEST_KVM_PFNMAP_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_env.h"

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

/* VM with one vCPU, exception tables, and room for @test_bytes of PTEs. */
struct kvm_vm *pfnmap_vm_create(struct kvm_vcpu **vcpu, void *guest_code,
				uint64_t test_bytes);
/*
 * pfnmap_vm_create() with @bytes at PFNMAP_TEST_GPA in PFNMAP_TEST_SLOT,
 * identity-mapped in the guest: the PFNMAP mapping at @hva, or, for a NULL
 * @hva, 2 MiB hugetlb memory the library allocates (the THP baseline).
 */
struct kvm_vm *pfnmap_vm_create_with_region(struct kvm_vcpu **vcpu, void *guest_code,
					    void *hva, uint64_t bytes);
/* KVM_SET_USER_MEMORY_REGION's errno, or 0 when it succeeds. */
int pfnmap_slot_errno(struct kvm_vm *vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		      uint64_t size, void *hva);
/* Adds exception tables and the instruction/data abort handlers. */
void pfnmap_vcpu_install_handlers(struct kvm_vcpu *vcpu);

/* Rewrites the AttrIndx of the guest stage-1 PTE for @gva (MT_*). */
void pfnmap_set_s1_attr(struct kvm_vm *vm, uint64_t gva, int attr_idx);

/* A vCPU binary stat by name (e.g. "exits"), via KVM_GET_STATS_FD. */
uint64_t pfnmap_vcpu_stat(struct kvm_vcpu *vcpu, const char *name);

/* Exits that are not MMIO to user space: stage-2 faults, plus interrupts. */
uint64_t pfnmap_vcpu_fault_exits(struct kvm_vcpu *vcpu);

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
/*
 * Exception classes (Arm ARM, ESR_ELx.EC) under names of our own: the KVM
 * selftests' ESR_EC_* became the kernel's ESR_ELx_EC_* in 6.15.
 */
#define PFNMAP_EC_IABT_CUR	0x21
#define PFNMAP_EC_DABT_CUR	0x25
#define PFNMAP_ESR_EC(esr)	(((esr) >> 26) & 0x3f)

extern uint64_t pfnmap_guest_dabt_esr;	/* 0: none since reset */
extern bool pfnmap_guest_dabt_armed;	/* else a data abort fails */

/*
 * Guest: call @gva with no cache maintenance at all. Returns the tag the
 * code put in x0, or PFNMAP_EXEC_ABORTED when an instruction abort came.
 */
uint64_t pfnmap_guest_call(uint64_t gva);

/*
 * Guest: D/I maintenance for @gva, then call it. Returns the tag the code
 * put in x0, or PFNMAP_EXEC_ABORTED when an instruction abort came instead.
 */
uint64_t pfnmap_guest_exec(uint64_t gva);

/*
 * Guest: page by page from @gva (in the host's page size), word 0 into
 * @seen[i] when @seen is not NULL, then @mark | i into word 1 when @mark
 * is not 0.
 */
void pfnmap_guest_touch_pages(uint64_t gva, uint64_t npages, uint64_t *seen, uint64_t mark);

/*
 * The data round trip and execute probe (pfnmap_round_trip.c): the host
 * puts its word in every page, the guest checks it and puts its own, the
 * host checks that; then, if asked, the guest calls "movz x0, #tag; ret"
 * that the host put at PFNMAP_RT_EXEC_OFFSET of the first page. A vCPU made
 * with pfnmap_round_trip_guest() as its code runs it.
 */
#define PFNMAP_RT_EXEC_OFFSET	2048
#define PFNMAP_RT_EXEC_TAG	0x5a17

struct pfnmap_round_trip {
	void *hva;
	uint64_t pages;		/* in the host's page size */
	bool asked_exec;
	uint64_t guest_bad;	/* pages where the guest read wrong host data */
	uint64_t guest_first_bad;
	uint64_t host_bad;	/* pages where the host read wrong guest data */
	uint64_t host_first_bad;
	/* PFNMAP_RT_EXEC_TAG: it ran; PFNMAP_EXEC_ABORTED: instruction abort */
	uint64_t exec;
};

void pfnmap_round_trip_guest(uint64_t gva, uint64_t pages, uint64_t exec);
/* The host's words and code, and the guest's arguments; nothing runs yet. */
void pfnmap_round_trip_prepare(struct pfnmap_round_trip *rt, struct kvm_vcpu *vcpu,
			       void *hva, uint64_t gva, uint64_t bytes, bool exec);
/* Runs a prepared round trip to the guest's end and fills *@rt. */
void pfnmap_round_trip_run(struct pfnmap_round_trip *rt, struct kvm_vcpu *vcpu);
/* Both: [@hva, + @bytes) is the host's alias of [@gva, + @bytes). */
void pfnmap_round_trip(struct pfnmap_round_trip *rt, struct kvm_vcpu *vcpu, void *hva,
		       uint64_t gva, uint64_t bytes, bool exec);

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

#endif /* SELFTEST_KVM_PFNMAP_GUEST_H */
