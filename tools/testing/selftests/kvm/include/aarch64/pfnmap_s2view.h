/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM's stage-2 dump of a VM (debugfs stage2_page_tables), and the rig's
 * emulator dumps (docs/interfaces.md), parsed leaf by leaf and checked:
 * each leaf's memory type must be what its MemAttr means under the FWB
 * encoding the CPU has. A kernel whose dump prints no memory type or
 * output address (6.12, 6.18) still gives levels and permissions.
 */
#ifndef SELFTEST_KVM_PFNMAP_S2VIEW_H
#define SELFTEST_KVM_PFNMAP_S2VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kvm_util.h"

enum pfnmap_s2_type {
	S2T_NORMAL_WB,
	S2T_NORMAL_NC,
	S2T_NORMAL_WT,
	S2T_DEVICE_nGnRnE,
	S2T_DEVICE_nGnRE,
	S2T_DEVICE_nGRE,
	S2T_DEVICE_GRE,
	S2T_OTHER,
	S2T_NOT_SHOWN,		/* the kernel's dump prints no memory type */
};

/* memattr and pa of a leaf whose dump does not print them */
#define PFNMAP_S2_NO_MEMATTR	(~0U)
#define PFNMAP_S2_NO_PA		(~0UL)

const char *pfnmap_s2_type_name(int type);
bool pfnmap_s2_type_is_cacheable(int type);

struct pfnmap_s2_leaf {
	uint64_t ipa_start, ipa_end;	/* inclusive */
	uint64_t pa;
	int level;
	char size[24];
	uint32_t memattr;
	int type;			/* enum pfnmap_s2_type */
	char s2ap[4];
	int xn;
};

/* Why memory type checks cannot run on this kernel. */
extern const char pfnmap_no_view_reason[];
/* Why no check of the kernel's stage 2 can run on this kernel. */
extern const char pfnmap_no_dump_reason[];

/*
 * The queries below read the most trusted source there is (SPEC "Observing
 * stage 2"): in a rig cell the emulator's own tables, checked against the
 * kernel's dump where the kernel has one (the test fails where they
 * disagree); elsewhere the kernel's dump. The emulator's reading parks a
 * vCPU of @vm, so call them where the test has stopped its vCPUs.
 *
 * 0 and *leaf filled; -ENOENT when @ipa is unmapped; -ENODEV without a
 * source, or when the kernel's dump shows no memory type for @ipa.
 */
int pfnmap_s2_lookup(struct kvm_vm *vm, uint64_t ipa,
		     struct pfnmap_s2_leaf *leaf);
/* Leaves intersecting [start, end); -ENODEV without a dump. */
int pfnmap_s2_count(struct kvm_vm *vm, uint64_t start, uint64_t end);
/* There is a source: the emulator, or a kernel dump with or without types. */
bool pfnmap_s2_observable(struct kvm_vm *vm);
/* ... one that shows memory types and output addresses. */
bool pfnmap_s2_types_observable(struct kvm_vm *vm);
/* Why two leaves differ, or NULL: a dump without types or PAs agrees on the rest. */
const char *pfnmap_s2_disagreement(const struct pfnmap_s2_leaf *view,
				   const struct pfnmap_s2_leaf *emu);

/* What the view says of an IPA range, for checks over a whole region. */
struct pfnmap_s2_summary {
	uint64_t mapped;	/* bytes of [start, end) covered by leaves */
	uint64_t bytes_of_type;	/* ... whose type is the one asked for */
	int other;		/* first other type seen, -1 if none */
	uint64_t other_ipa;
	bool pa_mismatch;	/* a leaf's PA is not pa_base + (ipa - start) */
	uint64_t bad_pa_ipa;
	char largest[24];	/* size of the largest leaf, e.g. "1G" */
	bool not_shown;		/* a leaf's memory type is not in the dump */
};

/*
 * Summarises the leaves over [start, end) against @type (enum
 * pfnmap_s2_type) and, if @pa_base is non-zero, a linear IPA to PA layout.
 * 0, or -ENODEV without a dump. Where the dump shows no memory types or
 * output addresses, s->not_shown is set and only the sizes mean anything.
 */
int pfnmap_s2_summarise(struct kvm_vm *vm, uint64_t start, uint64_t end,
			int type, uint64_t pa_base, struct pfnmap_s2_summary *s);
/* The same over an open view or dump (the kernel's, or the emulator's). */
void pfnmap_s2_summarise_file(FILE *f, uint64_t start, uint64_t end, int type,
			      uint64_t pa_base, struct pfnmap_s2_summary *s);
/* The next leaf of an open view or dump, checked as the view's are. */
bool pfnmap_s2_read_leaf(FILE *f, struct pfnmap_s2_leaf *leaf);

/* The kernel's own view of @vm, or NULL where the kernel has none. */
FILE *pfnmap_s2_kernel_view(struct kvm_vm *vm);

/*
 * The stage-2 inspector: @vcpu's VM's stage 2 as the emulator holds it,
 * in the view's format, read by the rig (rig/s2_service.py) from the
 * hypervisor's tables in emulated memory while @vcpu spins in the guest.
 * Call it where the test has stopped @vcpu (after an exit, or before its
 * first run): the exit is completed (an MMIO access steps past), and @vcpu
 * then resumes where it was. Only the leaves that meet [@start, @end), or
 * all if @end is 0. NULL, with *why, where there is no inspector
 * (hardware, or no rig), or where the rig could not read the tables (its
 * "# error" answer).
 */
FILE *pfnmap_s2_emulator_dump(struct kvm_vcpu *vcpu, uint64_t start, uint64_t end,
			      const char **why);
/* A rig cell: the emulator's stage-2 tables can be read. */
bool pfnmap_s2_inspector_present(void);
/* Guest code: where the vCPU is sent to park (lib/aarch64/pfnmap_park.S). */
void pfnmap_park_entry(void);

#endif /* SELFTEST_KVM_PFNMAP_S2VIEW_H */
