// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest side of the cacheable PFNMAP tests: VM setup in the host's
 * page size, exception handlers for the execute and data-abort probes,
 * code and data patterns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"
#include "pfnmap_guest.h"

uint64_t pfnmap_guest_iabt_count;
uint64_t pfnmap_guest_dabt_esr;
bool pfnmap_guest_dabt_armed;

/* Return to the caller of the aborted call: the fault is at its target. */
static void guest_iabt_handler(struct ex_regs *regs)
{
	WRITE_ONCE(pfnmap_guest_iabt_count, READ_ONCE(pfnmap_guest_iabt_count) + 1);
	regs->pc = regs->regs[30];
}

/* Record the syndrome and step over the instruction, if one was expected. */
static void guest_dabt_handler(struct ex_regs *regs)
{
	uint64_t esr = read_sysreg(esr_el1);

	if (!READ_ONCE(pfnmap_guest_dabt_armed))
		GUEST_FAIL("unexpected data abort: esr %#lx far %#lx pc %#lx",
			   esr, read_sysreg(far_el1), regs->pc);
	WRITE_ONCE(pfnmap_guest_dabt_esr, esr);
	regs->pc += 4;
}

uint64_t pfnmap_page_size;

static void __attribute__((constructor)) pfnmap_page_size_init(void)
{
	pfnmap_page_size = getpagesize();
}

uint64_t pfnmap_largest_block(void)
{
	return pfnmap_page_size == 4096 ? PFNMAP_PMD_BLOCK * 512 : PFNMAP_PMD_BLOCK;
}

uint64_t pfnmap_guest_pages(struct kvm_vm *vm, uint64_t bytes)
{
	uint64_t page = vm ? vm->page_size :
			vm_guest_mode_params[VM_MODE_DEFAULT].page_size;

	return (bytes + page - 1) / page;
}

void pfnmap_virt_map(struct kvm_vm *vm, uint64_t gpa, uint64_t bytes)
{
	virt_map(vm, gpa, gpa, (bytes + vm->page_size - 1) / vm->page_size);
}

struct kvm_vm *pfnmap_vm_create(struct kvm_vcpu **vcpu, void *guest_code,
				uint64_t test_bytes)
{
	struct kvm_vm *vm;

	/*
	 * The library sizes memslot 0 for the guest page tables that map
	 * this many extra pages; the test memory itself lives in its own slot.
	 */
	vm = __vm_create_with_one_vcpu(vcpu, pfnmap_guest_pages(NULL, test_bytes),
				       guest_code);
	pfnmap_vcpu_install_handlers(*vcpu);
	return vm;
}

struct kvm_vm *pfnmap_vm_create_with_region(struct kvm_vcpu **vcpu, void *guest_code,
					    void *hva, uint64_t bytes)
{
	struct kvm_vm *vm = pfnmap_vm_create(vcpu, guest_code, bytes);

	if (hva)
		vm_set_user_memory_region(vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
					  bytes, hva);
	else
		vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB,
					    PFNMAP_TEST_GPA, PFNMAP_TEST_SLOT,
					    pfnmap_guest_pages(vm, bytes), 0);
	pfnmap_virt_map(vm, PFNMAP_TEST_GPA, bytes);
	return vm;
}

int pfnmap_slot_errno(struct kvm_vm *vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		      uint64_t size, void *hva)
{
	return __vm_set_user_memory_region(vm, slot, flags, gpa, size, hva) ? errno : 0;
}

void pfnmap_vcpu_install_handlers(struct kvm_vcpu *vcpu)
{
	vm_init_descriptor_tables(vcpu->vm);
	vcpu_init_descriptor_tables(vcpu);
	vm_install_sync_handler(vcpu->vm, VECTOR_SYNC_CURRENT, PFNMAP_EC_IABT_CUR,
				guest_iabt_handler);
	vm_install_sync_handler(vcpu->vm, VECTOR_SYNC_CURRENT, PFNMAP_EC_DABT_CUR,
				guest_dabt_handler);
	sync_global_to_guest(vcpu->vm, pfnmap_page_size);
}

void pfnmap_set_s1_attr(struct kvm_vm *vm, uint64_t gva, int attr_idx)
{
	uint64_t *pte = virt_get_pte_hva(vm, gva);

	*pte = (*pte & ~(7ULL << 2)) | ((uint64_t)attr_idx << 2);
}

uint64_t pfnmap_vcpu_stat(struct kvm_vcpu *vcpu, const char *name)
{
	struct kvm_stats_header header;
	struct kvm_stats_desc *descs, *d;
	uint64_t data = 0;
	int fd = vcpu_get_stats_fd(vcpu);
	int i;

	read_stats_header(fd, &header);
	descs = read_stats_descriptors(fd, &header);
	for (i = 0; i < header.num_desc; i++) {
		d = get_stats_descriptor(descs, i, &header);
		if (!strcmp(d->name, name)) {
			read_stat_data(fd, &header, d, &data, 1);
			break;
		}
	}
	TEST_ASSERT(i < header.num_desc, "no vCPU stat '%s'", name);
	free(descs);
	close(fd);
	return data;
}

uint64_t pfnmap_vcpu_fault_exits(struct kvm_vcpu *vcpu)
{
	return pfnmap_vcpu_stat(vcpu, "exits") - pfnmap_vcpu_stat(vcpu, "mmio_exit_user");
}

uint64_t pfnmap_run(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	uint64_t cmd;

	vcpu_run(vcpu);
	cmd = get_ucall(vcpu, uc);
	if (cmd == UCALL_ABORT)
		REPORT_GUEST_ASSERT(*uc);
	TEST_ASSERT(cmd == UCALL_SYNC || cmd == UCALL_DONE,
		    "unexpected exit: reason %u (%s), ucall %lu",
		    vcpu->run->exit_reason,
		    exit_reason_str(vcpu->run->exit_reason), cmd);
	return cmd;
}

void pfnmap_put_code(void *va, uint16_t tag)
{
	uint32_t *insn = va;

	WRITE_ONCE(insn[0], 0xd2800000 | ((uint32_t)tag << 5));	/* movz x0, #tag */
	WRITE_ONCE(insn[1], 0xd65f03c0);			/* ret */
}

uint64_t pfnmap_guest_call(uint64_t gva)
{
	uint64_t (*fn)(void) = (void *)gva;
	uint64_t before = READ_ONCE(pfnmap_guest_iabt_count);
	uint64_t ret;

	ret = fn();
	return READ_ONCE(pfnmap_guest_iabt_count) != before ? PFNMAP_EXEC_ABORTED : ret;
}

uint64_t pfnmap_guest_exec(uint64_t gva)
{
	/* The code may come from another alias: drop stale lines (B2.8). */
	pfnmap_inval_poc(gva, 8);
	pfnmap_sync_icache(gva, 8);
	return pfnmap_guest_call(gva);
}

void pfnmap_guest_touch_pages(uint64_t gva, uint64_t npages, uint64_t *seen, uint64_t mark)
{
	uint64_t i, *p, v;

	for (i = 0; i < npages; i++) {
		p = (uint64_t *)(gva + i * pfnmap_page_size);
		v = READ_ONCE(p[0]);
		if (seen)
			seen[i] = v;
		if (mark)
			WRITE_ONCE(p[1], mark | i);
	}
}

void pfnmap_fill(uint64_t *p, uint64_t bytes, uint64_t seed)
{
	uint64_t i;

	for (i = 0; i < bytes / 8; i++)
		WRITE_ONCE(p[i], pfnmap_pattern(seed, i));
}

int64_t pfnmap_check(const uint64_t *p, uint64_t bytes, uint64_t seed)
{
	uint64_t i;

	for (i = 0; i < bytes / 8; i++)
		if (READ_ONCE(p[i]) != pfnmap_pattern(seed, i))
			return i;
	return -1;
}
