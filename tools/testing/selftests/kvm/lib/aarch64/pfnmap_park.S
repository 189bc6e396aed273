/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where pfnmap_s2_emulator_dump() sends the vCPU. A vCPU whose last exit
 * was an MMIO ucall still has that access to complete: KVM steps over one
 * instruction at the next KVM_RUN, which is this nop.
 */
	.text
	.global pfnmap_park_entry
pfnmap_park_entry:
	nop
	b	pfnmap_guest_park
