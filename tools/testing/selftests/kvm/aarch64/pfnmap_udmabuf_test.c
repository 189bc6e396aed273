// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_udmabuf_test - a real in-tree VM_PFNMAP driver as guest memory.
 *
 * udmabuf (UDMABUF_CREATE_LIST) turns pages of a memfd into a dma-buf
 * whose mmap is a VM_PFNMAP VMA filled by vmf_insert_pfn() from its fault
 * handler, with vm_pgoff 0. The memfd's pages are linear-map RAM and, in
 * general, not physically contiguous; here the list also names them out
 * of order (pairs of items swapped), so no range of the VMA is one
 * physically contiguous run that a stage-2 block could cover.
 *
 * The buffer is mmapped at a block-aligned address and used as a memslot
 * at a block-aligned IPA. SPEC S2-4: the memslot is accepted on every CPU
 * and mapped Normal-WB. SPEC BLK-2: every page reads the memfd page the
 * list put there. A kernel that sizes the stage-2 block from the VMA's
 * alignment and vm_pgoff alone maps the whole block from the first page's
 * pfn: the guest then reads other pages, most of them host memory the
 * dma-buf never held. The test says which pages it saw.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/udmabuf.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_s2view.h"
#include "ucall_common.h"

#define MARK		0x1a50000000000000ULL
#define MARK_MASK	0xffff000000000000ULL
#define PAGE		pfnmap_page_size
#define BLOCK		PFNMAP_PMD_BLOCK
/* udmabuf's default list_limit */
#define MAX_ITEMS	1024
/* 2 MiB blocks with 4 KiB pages: 1024 one-page items make two blocks */
#define MAX_PAGES	8192
#define SHOW_WRONG	8

#define NO_UDMABUF_MSG \
	"no /dev/udmabuf: build the kernel with CONFIG_UDMABUF=y (and CONFIG_DMABUF_HEAPS=y to get DMA_SHARED_BUFFER)"

/* Guest parameters and what the guest read, page by page. */
static uint64_t g_npages;
static uint64_t g_seen[MAX_PAGES];

static void guest_code(void)
{
	pfnmap_guest_touch_pages(PFNMAP_TEST_GPA, g_npages, g_seen, 0);
	GUEST_DONE();
}

FIXTURE(udmabuf) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	int memfd, buf;
	void *hva;
	uint64_t bytes, npages, item_pages;
};

FIXTURE_VARIANT(udmabuf) {
	bool swap_pairs;	/* list the memfd's items pairwise swapped */
};

FIXTURE_VARIANT_ADD(udmabuf, pages_swapped_pairwise) { true };
FIXTURE_VARIANT_ADD(udmabuf, pages_in_memfd_order) { false };

/* The memfd page that the list puts at page @i of the buffer. */
static uint64_t memfd_page(uint64_t i, uint64_t item_pages, bool swap)
{
	uint64_t item = i / item_pages;

	return (swap ? item ^ 1 : item) * item_pages + i % item_pages;
}

static int make_udmabuf(int memfd, uint64_t items, uint64_t item_bytes, bool swap)
{
	struct udmabuf_create_list *list;
	int dev, fd;
	uint64_t k;

	list = calloc(1, sizeof(*list) + items * sizeof(list->list[0]));
	TEST_ASSERT(list, "calloc");
	list->flags = UDMABUF_FLAGS_CLOEXEC;
	list->count = items;
	for (k = 0; k < items; k++) {
		list->list[k].memfd = memfd;
		list->list[k].offset = (swap ? k ^ 1 : k) * item_bytes;
		list->list[k].size = item_bytes;
	}
	dev = open("/dev/udmabuf", O_RDWR);
	fd = dev < 0 ? -1 : ioctl(dev, UDMABUF_CREATE_LIST, list);
	if (dev >= 0)
		close(dev);
	free(list);
	return fd;
}

FIXTURE_SETUP(udmabuf)
{
	uint64_t i, items;
	int fd;

	self->memfd = -1;
	self->buf = -1;
	self->hva = NULL;
	if (access("/dev/udmabuf", R_OK | W_OK))
		SKIP(return, NO_UDMABUF_MSG);

	/* Two blocks where 1024 items reach that far, else one. */
	self->bytes = 2 * BLOCK / PAGE <= MAX_ITEMS ? 2 * BLOCK : BLOCK;
	self->npages = self->bytes / PAGE;
	items = self->npages < MAX_ITEMS ? self->npages : MAX_ITEMS;
	self->item_pages = self->npages / items;
	ASSERT_LE(self->npages, MAX_PAGES);

	self->memfd = memfd_create("pfnmap_udmabuf", MFD_ALLOW_SEALING);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, self->bytes));
	ASSERT_EQ(0, fcntl(self->memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	/* Each memfd page names itself. */
	for (i = 0; i < self->npages; i++) {
		uint64_t v = MARK | i;

		ASSERT_EQ(sizeof(v), pwrite(self->memfd, &v, sizeof(v), i * PAGE));
	}

	fd = make_udmabuf(self->memfd, items, self->item_pages * PAGE, variant->swap_pairs);
	if (fd < 0 && errno == EINVAL && self->bytes > (64ULL << 20))
		SKIP(return,
		     "udmabuf refused %lu MiB (its size_limit_mb is 64 by default): boot with udmabuf.size_limit_mb=%lu",
		     self->bytes >> 20, (self->bytes >> 20) + 1);
	ASSERT_LE(0, fd) TH_LOG("UDMABUF_CREATE_LIST: %s", strerror(errno));
	self->buf = fd;

	/* A block-aligned user address, as a VMM that asks for THP gets. */
	self->hva = pfnmap_reserve_aligned(self->bytes, BLOCK);
	ASSERT_EQ(self->hva, mmap(self->hva, self->bytes, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, self->buf, 0));
	self->vm = pfnmap_vm_create(&self->vcpu, guest_code, self->bytes);
}

FIXTURE_TEARDOWN(udmabuf)
{
	if (self->vm)
		kvm_vm_free(self->vm);
	if (self->hva)
		munmap(self->hva, self->bytes);
	if (self->buf >= 0)
		close(self->buf);
	if (self->memfd >= 0)
		close(self->memfd);
}

#define WRONG_PAGE_FORMAT \
	"page %lu (IPA %#lx) read %#lx, want %#lx (memfd page %lu): %s"
#define WRONG_TOTAL_FORMAT \
	"%lu of %lu pages read wrong data: %lu another page of this buffer, %lu host memory the buffer does not hold"

/* What a wrong value says about where the guest read from. */
static const char *seen_where(uint64_t v, uint64_t npages)
{
	if ((v & MARK_MASK) == MARK && (v & ~MARK_MASK) < npages)
		return "another page of this buffer";
	return "not this buffer's data: host memory outside the dma-buf";
}

#define REFUSED_FORMAT \
	"a udmabuf memslot (linear-map RAM) was refused: errno %d (%s); SPEC S2-4 wants it accepted on every CPU"
#define REFUSED_ELSEWHERE_FORMAT \
	"the memslot was refused (errno %d): memslot_accepted_on_every_cpu reports that (S2-4); nothing is mapped to check"

/* The memslot over the whole buffer: 0 or its errno. */
static int add_slot(FIXTURE_DATA(udmabuf) *self)
{
	if (__vm_set_user_memory_region(self->vm, PFNMAP_TEST_SLOT, 0, PFNMAP_TEST_GPA,
					self->bytes, self->hva))
		return errno;
	pfnmap_virt_map(self->vm, PFNMAP_TEST_GPA, self->bytes);
	return 0;
}

/* SPEC S2-4: accepted on every CPU, FWB or not. */
TEST_F(udmabuf, memslot_accepted_on_every_cpu)
{
	int err = add_slot(self);

	ASSERT_EQ(0, err) TH_LOG(REFUSED_FORMAT, err, strerror(err));
}

/* SPEC BLK-2: each page its own memfd page, whatever their order. */
TEST_F(udmabuf, every_page_reads_its_memfd_page)
{
	uint64_t i, want, wrong = 0, foreign = 0;
	struct ucall uc;
	int err = add_slot(self);

	if (err)
		SKIP(return, REFUSED_ELSEWHERE_FORMAT, err);
	g_npages = self->npages;
	sync_global_to_guest(self->vm, g_npages);
	ASSERT_EQ(UCALL_DONE, pfnmap_run(self->vcpu, &uc));
	sync_global_from_guest(self->vm, g_seen);

	for (i = 0; i < self->npages; i++) {
		want = MARK | memfd_page(i, self->item_pages, variant->swap_pairs);
		if (g_seen[i] == want)
			continue;
		if (wrong++ < SHOW_WRONG)
			ksft_print_msg(WRONG_PAGE_FORMAT "\n", i, PFNMAP_TEST_GPA + i * PAGE,
				       g_seen[i], want, (uint64_t)(want & ~MARK_MASK),
				       seen_where(g_seen[i], self->npages));
		if ((g_seen[i] & MARK_MASK) != MARK || (g_seen[i] & ~MARK_MASK) >= self->npages)
			foreign++;
	}
	EXPECT_EQ(0, wrong)
		TH_LOG(WRONG_TOTAL_FORMAT, wrong, self->npages, wrong - foreign, foreign);
}

#define NOT_PAGES_FORMAT \
	"IPA %#lx..%#lx is mapped by a %s leaf, want %lu-byte pages: the pfns are not contiguous"
#define NOT_WB_FORMAT "IPA %#lx is %s at stage 2, want Normal-WB (linear-map RAM)"

/* SPEC S2-4 (Normal-WB) and BLK-2 (page leaves), from the stage-2 view. */
TEST_F(udmabuf, mapped_normal_wb_by_page_leaves)
{
	struct pfnmap_s2_summary sum;
	char page_size[24];
	int err = add_slot(self);
	struct ucall uc;
	uint64_t blk;
	int ret;

	if (err)
		SKIP(return, REFUSED_ELSEWHERE_FORMAT, err);
	g_npages = self->npages;
	sync_global_to_guest(self->vm, g_npages);
	ASSERT_EQ(UCALL_DONE, pfnmap_run(self->vcpu, &uc));

	snprintf(page_size, sizeof(page_size), "%luK", PAGE >> 10);
	for (blk = 0; blk < self->bytes / BLOCK; blk++) {
		uint64_t ipa = PFNMAP_TEST_GPA + blk * BLOCK;

		ret = pfnmap_s2_summarise(self->vm, ipa, ipa + BLOCK, S2T_NORMAL_WB, 0, &sum);
		if (ret == -ENODEV || sum.not_shown)
			SKIP(return, "%s", pfnmap_no_view_reason);
		ASSERT_EQ(0, ret);
		ASSERT_EQ(BLOCK, sum.mapped);
		EXPECT_EQ(-1, sum.other)
			TH_LOG(NOT_WB_FORMAT, sum.other_ipa, pfnmap_s2_type_name(sum.other));
		if (variant->swap_pairs)
			EXPECT_STREQ(page_size, sum.largest)
				TH_LOG(NOT_PAGES_FORMAT, ipa, ipa + BLOCK - 1, sum.largest, PAGE);
	}
}

TEST_HARNESS_MAIN
