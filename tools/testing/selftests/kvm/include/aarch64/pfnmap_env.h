/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host environment of the cacheable PFNMAP tests, probed once per
 * binary from sources independent of the code under test.
 */
#ifndef SELFTEST_KVM_PFNMAP_ENV_H
#define SELFTEST_KVM_PFNMAP_ENV_H

#include <stdbool.h>
#include <stdint.h>

#ifndef KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED
#define KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED 243
#endif

/* Tri-state answers: a feature the host does not reveal is "unknown". */
#define PFNMAP_UNKNOWN		(-1)

struct pfnmap_env {
	int cap;		/* KVM_CHECK_EXTENSION(243) on a VM fd */
	int fwb, dic, idc, mte;	/* 1, 0 or PFNMAP_UNKNOWN */
	bool s2dump;		/* KVM's stage-2 dump exists */
	bool s2view;		/* ... and prints memory types */
	const char *where;	/* qemu or hardware */
};

/* Probes once per binary, in the first case that asks, and prints "# ENV: ...". */
const struct pfnmap_env *pfnmap_env(void);
/* Whether pfnmap_env() has probed yet, in this process or an earlier case. */
bool pfnmap_env_probed(void);

/*
 * Under QEMU, which models no caches, says what a pass of the current case
 * does not show (@what); the rig counts such requirements on hardware only.
 */
void pfnmap_note_no_caches(const char *what);

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

#endif /* SELFTEST_KVM_PFNMAP_ENV_H */
