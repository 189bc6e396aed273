// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VFIO region mapping in a KVM memslot, probed by a tiny guest.
 *
 * Each page carries two words: the host writes word 0, the guest checks it
 * and writes word 1, the host checks word 1. A page mapped at the wrong
 * place or not shared between the two aliases shows up as a mismatch at
 * that exact page. The execute probe calls the KVM library's "movz x0,
 * #tag; ret", which the host wrote at offset EXEC_OFFSET of the first page:
 * a stage-2 mapping that is Device or Normal-NC makes KVM inject an
 * instruction abort instead.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/sizes.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"
#include "pfnmap_env.h"
#include "pfnmap_guest.h"
#include "pfnmap_vfio_kvm.h"

#define EXEC_OFFSET	2048
#define EXEC_TAG	0x5a17
/* pfnmap_pattern() seeds of the host's and the guest's word of a page */
#define HOST_SEED	0x4e56484f
#define GUEST_SEED	0x4e564753

static void guest_code(uint64_t gva, uint64_t pages, uint64_t page_size,
		       uint64_t exec)
{
	uint64_t i, bad = 0, first_bad = 0;
	uint64_t *p;

	for (i = 0; i < pages; i++) {
		p = (uint64_t *)(gva + i * page_size);
		if (READ_ONCE(p[0]) != pfnmap_pattern(HOST_SEED, i) && !bad++)
			first_bad = i;
		WRITE_ONCE(p[1], pfnmap_pattern(GUEST_SEED, i));
	}
	GUEST_SYNC_ARGS(1, bad, first_bad, 0, 0);

	if (exec)
		GUEST_SYNC_ARGS(2, pfnmap_guest_exec(gva + EXEC_OFFSET), 0, 0, 0);
	GUEST_DONE();
}

static void print_device_env(const char *bdf)
{
	struct vfio_pci_device dev;
	struct vfio_region r;
	const char *why;
	uint32_t i;
	bool mmap;

	if (bdf && !vfio_pci_device_open(&dev, bdf, &why)) {
		printf("# ENV: vfio_device=%s driver=%s vfio_iommu=%s\n",
		       bdf, dev.driver, dev.iommu);
		printf("# ENV: vfio_regions=");
		for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
			if (vfio_pci_region_get(&dev, i, &r) || !r.info.size)
				continue;
			mmap = r.info.flags & VFIO_REGION_INFO_FLAG_MMAP;
			printf("%u:0x%llx/0x%llx%s,", i,
			       (unsigned long long)r.mmap_size,
			       (unsigned long long)r.info.size, mmap ? "" : "(no-mmap)");
		}
		printf("\n");
		vfio_pci_device_close(&dev);
	} else if (bdf) {
		printf("# ENV: vfio_device=%s unusable: %s\n", bdf, why);
	}
}

const struct pfnmap_env *vfio_kvm_env(const char *bdf)
{
	if (!pfnmap_env_probed())
		print_device_env(bdf);
	return pfnmap_env();
}

/* Next-level table of descriptor *@ptep, allocated when missing. */
static uint64_t *next_table(struct kvm_vm *vm, uint64_t *ptep)
{
	if (!*ptep)
		*ptep = vm_alloc_page_table(vm) | 3;
	return addr_gpa2hva(vm, *ptep & GENMASK_ULL(47, 12));
}

/*
 * Identity-maps [gva, gva + size) in the guest with 1 GiB and 2 MiB blocks
 * where alignment allows: page by page, a GiB-sized device region takes
 * far too long to map under emulation. Needs the 4K-granule, 4-level mode
 * (the aarch64 default); other modes fall back to virt_map().
 */
static void guest_map_blocks(struct kvm_vm *vm, uint64_t gva, uint64_t size)
{
	const uint64_t attrs = (MT_NORMAL << 2) | PTE_AF;
	uint64_t off, va, *l1, *l2;

	if (vm->page_size != SZ_4K || vm->pgtable_levels != 4) {
		virt_map(vm, gva, gva, size / vm->page_size);
		return;
	}
	for (off = 0; off < size;) {
		va = gva + off;
		l1 = next_table(vm, (uint64_t *)addr_gpa2hva(vm, vm->pgd) +
				    ((va >> 39) & 0x1ff));
		l1 += (va >> 30) & 0x1ff;
		if (!(va & (SZ_1G - 1)) && size - off >= SZ_1G) {
			*l1 = va | attrs | 1;
			off += SZ_1G;
			continue;
		}
		l2 = next_table(vm, l1) + ((va >> 21) & 0x1ff);
		if (!(va & (SZ_2M - 1)) && size - off >= SZ_2M) {
			*l2 = va | attrs | 1;
			off += SZ_2M;
			continue;
		}
		virt_pg_map(vm, va, va);
		off += SZ_4K;
	}
}

void vfio_kvm_create(struct vfio_kvm_probe *p, void *hva, uint64_t size)
{
	uint64_t pt_pages = 64 + size / SZ_1G;

	memset(p, 0, sizeof(*p));
	p->exec = -1;
	p->vm = __vm_create_with_one_vcpu(&p->vcpu, pt_pages, guest_code);
	pfnmap_vcpu_install_handlers(p->vcpu);

	if (__vm_set_user_memory_region(p->vm, VFIO_KVM_SLOT, 0, VFIO_KVM_GPA,
					size, hva))
		p->slot_errno = errno;
	else
		guest_map_blocks(p->vm, VFIO_KVM_GPA, size);
}

static void run_to(struct vfio_kvm_probe *p, uint64_t stage, struct ucall *uc)
{
	vcpu_run(p->vcpu);
	switch (get_ucall(p->vcpu, uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc->args[1] == stage, "guest at stage %lu, expected %lu",
			    (unsigned long)uc->args[1], (unsigned long)stage);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(*uc);
		break;
	default:
		TEST_FAIL("unexpected exit %s (ucall %lu) at stage %lu",
			  exit_reason_str(p->vcpu->run->exit_reason),
			  (unsigned long)uc->cmd, (unsigned long)stage);
	}
}

void vfio_kvm_run(struct vfio_kvm_probe *p, void *hva, uint64_t size, bool exec)
{
	uint64_t ps = getpagesize(), i;
	uint64_t *w;
	char *code;
	struct ucall uc;

	p->pages = size / ps;
	for (i = 0; i < p->pages; i++) {
		w = (uint64_t *)((char *)hva + i * ps);
		WRITE_ONCE(w[0], pfnmap_pattern(HOST_SEED, i));
		WRITE_ONCE(w[1], 0);
	}
	if (exec) {
		code = (char *)hva + EXEC_OFFSET;
		pfnmap_put_code(code, EXEC_TAG);
		__builtin___clear_cache(code, code + 8);
	}

	vcpu_args_set(p->vcpu, 4, VFIO_KVM_GPA, p->pages, ps, (uint64_t)exec);
	run_to(p, 1, &uc);
	p->guest_bad = uc.args[2];
	p->guest_first_bad = uc.args[3];
	for (i = 0; i < p->pages; i++) {
		w = (uint64_t *)((char *)hva + i * ps);
		if (READ_ONCE(w[1]) != pfnmap_pattern(GUEST_SEED, i) && !p->host_bad++)
			p->host_first_bad = i;
	}
	if (!exec)
		return;
	run_to(p, 2, &uc);
	TEST_ASSERT(uc.args[2] == EXEC_TAG || uc.args[2] == PFNMAP_EXEC_ABORTED,
		    "guest call returned 0x%lx, neither the tag nor an abort",
		    (unsigned long)uc.args[2]);
	p->exec = uc.args[2] == EXEC_TAG;
}

void vfio_kvm_destroy(struct vfio_kvm_probe *p)
{
	if (p->vm)
		kvm_vm_free(p->vm);
	p->vm = NULL;
}
