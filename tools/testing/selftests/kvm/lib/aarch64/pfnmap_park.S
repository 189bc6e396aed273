/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where pfnmap_s2_emulator_dump() sends the vCPU: it says it is there and
 * spins until the host kicks it out of KVM_RUN. No ucall, so nothing is
 * left for the test's guest code to complete when it resumes.
 */
	.text
	.global pfnmap_park_entry
pfnmap_park_entry:
	adrp	x0, pfnmap_park_state
	add	x0, x0, :lo12:pfnmap_park_state
	mov	x1, #1
	str	x1, [x0]
1:	b	1b
