// SPDX-License-Identifier: GPL-2.0-only
/*
 * The data round trip and execute probe over a region in a memslot, one
 * guest for every test that asks whether guest and host see each other's
 * data and whether the guest can execute from the memory.
 *
 * Page i carries the host's word pfnmap_pattern(HOST_SEED, i) at word 0 and
 * gets the guest's at word 1, so a page mapped at the wrong place or not
 * shared shows up at that page. The two aliases may have different memory
 * types, so each side does the B2.8 maintenance: the writer cleans to PoC,
 * the reader invalidates.
 */
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"
#include "pfnmap_guest.h"

#define HOST_SEED	0x4e56484f
#define GUEST_SEED	0x4e564753

void pfnmap_round_trip_guest(uint64_t gva, uint64_t pages, uint64_t exec)
{
	uint64_t i, bad = 0, first_bad = 0, *p;

	for (i = 0; i < pages; i++) {
		p = (uint64_t *)(gva + i * pfnmap_page_size);
		pfnmap_inval_poc((uint64_t)p, 8);
		if (READ_ONCE(p[0]) != pfnmap_pattern(HOST_SEED, i) && !bad++)
			first_bad = i;
		WRITE_ONCE(p[1], pfnmap_pattern(GUEST_SEED, i));
		pfnmap_clean_poc((uint64_t)&p[1], 8);
	}
	GUEST_SYNC_ARGS(1, bad, first_bad, 0, 0);
	if (exec)
		GUEST_SYNC_ARGS(2, pfnmap_guest_exec(gva + PFNMAP_RT_EXEC_OFFSET), 0, 0, 0);
	GUEST_DONE();
}

void pfnmap_round_trip_prepare(struct pfnmap_round_trip *rt, struct kvm_vcpu *vcpu,
			       void *hva, uint64_t gva, uint64_t bytes, bool exec)
{
	uint64_t i, *w;

	*rt = (struct pfnmap_round_trip){ .hva = hva, .pages = bytes / pfnmap_page_size };
	for (i = 0; i < rt->pages; i++) {
		w = (uint64_t *)((char *)hva + i * pfnmap_page_size);
		WRITE_ONCE(w[0], pfnmap_pattern(HOST_SEED, i));
		WRITE_ONCE(w[1], 0);
		pfnmap_clean_poc((uint64_t)w, 16);
	}
	if (exec) {
		pfnmap_put_code((char *)hva + PFNMAP_RT_EXEC_OFFSET, PFNMAP_RT_EXEC_TAG);
		pfnmap_clean_poc((uint64_t)hva + PFNMAP_RT_EXEC_OFFSET, 8);
	}
	rt->asked_exec = exec;
	vcpu_args_set(vcpu, 3, gva, rt->pages, (uint64_t)exec);
}

/* Runs the guest to step @step of the round trip; *@uc is its ucall. */
static void run_to(struct kvm_vcpu *vcpu, uint64_t step, struct ucall *uc)
{
	uint64_t cmd = pfnmap_run(vcpu, uc);

	TEST_ASSERT(cmd == UCALL_SYNC && uc->args[1] == step,
		    "round trip: guest at ucall %lu step %lu, want step %lu", cmd,
		    cmd == UCALL_SYNC ? uc->args[1] : 0, step);
}

void pfnmap_round_trip_run(struct pfnmap_round_trip *rt, struct kvm_vcpu *vcpu)
{
	struct ucall uc;
	uint64_t i, *w;

	run_to(vcpu, 1, &uc);
	rt->guest_bad = uc.args[2];
	rt->guest_first_bad = uc.args[3];
	for (i = 0; i < rt->pages; i++) {
		w = (uint64_t *)((char *)rt->hva + i * pfnmap_page_size);
		pfnmap_inval_poc((uint64_t)&w[1], 8);
		if (READ_ONCE(w[1]) != pfnmap_pattern(GUEST_SEED, i) && !rt->host_bad++)
			rt->host_first_bad = i;
	}
	if (rt->asked_exec) {
		run_to(vcpu, 2, &uc);
		rt->exec = uc.args[2];
	}
	TEST_ASSERT(pfnmap_run(vcpu, &uc) == UCALL_DONE, "round trip: the guest did not finish");
}

void pfnmap_round_trip(struct pfnmap_round_trip *rt, struct kvm_vcpu *vcpu, void *hva,
		       uint64_t gva, uint64_t bytes, bool exec)
{
	pfnmap_round_trip_prepare(rt, vcpu, hva, gva, bytes, exec);
	pfnmap_round_trip_run(rt, vcpu);
}
