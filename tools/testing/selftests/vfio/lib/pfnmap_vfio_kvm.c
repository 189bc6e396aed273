// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VFIO region mapping in a KVM memslot, probed by the KVM library's round
 * trip guest (pfnmap_round_trip.c): a per-page data round trip, so a page
 * mapped at the wrong place shows up at that page, and an execute probe,
 * which a stage-2 mapping that is Device or Normal-NC answers with an
 * instruction abort.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/sizes.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_env.h"
#include "pfnmap_guest.h"
#include "pfnmap_vfio_kvm.h"

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
	p->vm = __vm_create_with_one_vcpu(&p->vcpu, pt_pages, pfnmap_round_trip_guest);
	pfnmap_vcpu_install_handlers(p->vcpu);

	if (__vm_set_user_memory_region(p->vm, VFIO_KVM_SLOT, 0, VFIO_KVM_GPA,
					size, hva))
		p->slot_errno = errno;
	else
		guest_map_blocks(p->vm, VFIO_KVM_GPA, size);
}

void vfio_kvm_run(struct vfio_kvm_probe *p, void *hva, uint64_t size, bool exec)
{
	pfnmap_round_trip(&p->rt, p->vcpu, hva, VFIO_KVM_GPA, size, exec);
	TEST_ASSERT(!exec || p->rt.exec == PFNMAP_RT_EXEC_TAG || p->rt.exec == PFNMAP_EXEC_ABORTED,
		    "guest call returned 0x%lx, neither the tag nor an abort",
		    (unsigned long)p->rt.exec);
	p->exec = exec ? p->rt.exec == PFNMAP_RT_EXEC_TAG : -1;
}

void vfio_kvm_destroy(struct vfio_kvm_probe *p)
{
	if (p->vm)
		kvm_vm_free(p->vm);
	p->vm = NULL;
}
