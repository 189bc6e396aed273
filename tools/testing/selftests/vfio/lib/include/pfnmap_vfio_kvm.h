/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Feeding a VFIO region mapping into a KVM memslot and probing it from a
 * guest: a per-page data round trip, an execute probe, and the stage-2
 * attribute from the debugfs view when the kernel has it.
 */
#ifndef SELFTEST_PFNMAP_VFIO_KVM_H
#define SELFTEST_PFNMAP_VFIO_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm_util.h"
#include "pfnmap_guest.h"
#include "pfnmap_vfio.h"

/* IPA (== guest VA) of the region under test: 1 GiB aligned, below 40 bits. */
#define VFIO_KVM_GPA		0x4000000000ULL
#define VFIO_KVM_SLOT		10

struct vfio_kvm_probe {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	int slot_errno;		/* 0: memslot accepted, else its errno */
	/* Filled by vfio_kvm_run(). */
	struct pfnmap_round_trip rt;
	int exec;		/* 1 ran, 0 instruction abort, -1 not tried */
};

/*
 * pfnmap_env(), for a case's setup. The first case of a binary also prints
 * "# ENV:" lines for the device, its driver, the VFIO IOMMU mode and the
 * BAR regions (index:mmappable/size), before the KVM library's.
 */
const struct pfnmap_env *vfio_kvm_env(const char *bdf);

/*
 * Creates a VM with one vCPU and a memslot over [hva, hva + size) at
 * VFIO_KVM_GPA. p->slot_errno says whether KVM accepted it; the VM exists
 * either way and must be released with vfio_kvm_destroy().
 */
void vfio_kvm_create(struct vfio_kvm_probe *p, void *hva, uint64_t size);
/*
 * The KVM library's round trip over the region, then (if @exec) its
 * execute probe. Only after a successful memslot.
 */
void vfio_kvm_run(struct vfio_kvm_probe *p, void *hva, uint64_t size, bool exec);
void vfio_kvm_destroy(struct vfio_kvm_probe *p);

#endif /* SELFTEST_PFNMAP_VFIO_KVM_H */
