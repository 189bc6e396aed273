// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_debugfs_test - KVM's stage-2 dump read while its VM goes away (DBG-1).
 *
 * A child process is the VMM: it builds a VM whose guest touches a few
 * thousand pages, reports where its view is, and exits without tearing
 * anything down, as a crashing VMM would. The stage-2 page table is freed
 * when its mm goes, while this process still holds the view open (which
 * keeps the struct kvm alive) and reads it in a loop, each time through a
 * fresh open: a new iterator walks and prints the whole view, as a reader
 * that comes along during the teardown would. Every read must return whole
 * lines or an error. The use-after-free this is about shows as a KASAN or
 * lockdep report, which the rig turns into a failure of this test (run it
 * on the debug kernel).
 *
 * A second case reads the dump of a VM whose stage 2 alternates read-only
 * and writable pages, so the dump is larger than seq_read()'s first
 * buffer and is generated twice: its lines must still tile the IPA space
 * from 0 to the end that ipa_range gives, after one header line.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_harness.h"
#include "pfnmap_guest.h"
#include "pfnmap_s2view.h"
#include "ucall_common.h"

#define ROUNDS		8
#define TOUCH_BYTES	(16UL << 20)
/*
 * The re-show case needs a dump larger than seq_read()'s first buffer, a
 * host page. A line is about 115 bytes: 512 tiles made 59 KB, less than
 * one 64 KiB page, so the count grows with the page size.
 */
#define TILE_PAGES	max(512UL, 4 * pfnmap_page_size / 128)
#define DUMP_HEADER	"---[ Guest IPA ]---\n"

static void guest_touch(void)
{
	uint64_t off;

	for (off = 0; off < TOUCH_BYTES; off += pfnmap_page_size)
		WRITE_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + off), off);
	GUEST_DONE();
}

/* Reads even pages and writes odd ones: stage 2 alternates R and RW. */
static void guest_alternate(void)
{
	uint64_t i;

	for (i = 0; i < TILE_PAGES; i++) {
		uint64_t *p = (void *)(PFNMAP_TEST_GPA + i * pfnmap_page_size);

		if (i & 1)
			WRITE_ONCE(*p, i);
		else
			READ_ONCE(*p);
	}
	GUEST_DONE();
}

/* The VMM: build, fault every page in, say where the view is, then die. */
static void __noreturn vmm(int to_parent, int from_parent)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	char path[128];
	char go;

	vm = pfnmap_vm_create(&vcpu, guest_touch, TOUCH_BYTES);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, PFNMAP_TEST_GPA,
				    PFNMAP_TEST_SLOT, pfnmap_guest_pages(vm, TOUCH_BYTES), 0);
	pfnmap_virt_map(vm, PFNMAP_TEST_GPA, TOUCH_BYTES);
	TEST_ASSERT_EQ(pfnmap_run(vcpu, &uc), UCALL_DONE);
	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/stage2_page_tables",
		 getpid(), vm->fd);
	TEST_ASSERT_EQ(write(to_parent, path, sizeof(path)), sizeof(path));
	TEST_ASSERT_EQ(read(from_parent, &go, 1), 1);
	_exit(0);	/* no teardown: the mm's exit frees stage 2 */
}

/*
 * One full read of the view through a fresh open; 0 if every line was
 * whole or the read failed cleanly, -1 on a partial line.
 */
static int read_view(const char *path, unsigned long *lines)
{
	char line[256];
	int ret = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return 0;	/* the VM is gone: an error, not a bad line */
	while (fgets(line, sizeof(line), f)) {
		if (!strchr(line, '\n')) {
			ret = ferror(f) ? 0 : -1;
			break;
		}
		(*lines)++;
	}
	fclose(f);
	return ret;
}

TEST(view_reads_whole_lines_while_the_vm_is_torn_down)
{
	unsigned long lines = 0, reads = 0, after;
	int to_parent[2], from_parent[2], round, status;
	char path[128];
	pid_t child;
	FILE *f;

	if (!pfnmap_env()->s2dump)
		SKIP(return, "%s", pfnmap_no_dump_reason);
	/*
	 * A pass counts only where KASAN and lockdep watch (SPEC DBG-1), and
	 * on a kernel with the bug the read oopses, which ends a run that
	 * boots with oops=panic: run it on the debug kernel only.
	 */
	if (access("/proc/lockdep", F_OK))
		SKIP(return,
		     "DBG-1 counts only on a debug kernel (lockdep, KASAN) and this one has no /proc/lockdep; where the dump dereferences a freed stage 2 (6.12.117, 6.18) the read oopses");

	for (round = 0; round < ROUNDS; round++) {
		ASSERT_EQ(0, pipe(to_parent));
		ASSERT_EQ(0, pipe(from_parent));
		child = fork();
		ASSERT_LE(0, child);
		if (!child)
			vmm(to_parent[1], from_parent[0]);
		ASSERT_EQ(sizeof(path), read(to_parent[0], path, sizeof(path)))
			TH_LOG("round %d: the VMM died before its VM was ready", round);
		/* Held open to the end of the round: the VM's struct kvm stays */
		f = fopen(path, "r");
		ASSERT_NE(NULL, f) TH_LOG("cannot open %s: %s", path, strerror(errno));
		ASSERT_EQ(0, read_view(path, &lines));
		ASSERT_LT(0, lines) TH_LOG("the view of a populated VM is empty");

		/* Let the VMM go, and read until well after it is gone. */
		ASSERT_EQ(1, write(from_parent[1], "g", 1));
		after = 0;
		while (after < 20) {
			ASSERT_EQ(0, read_view(path, &lines))
				TH_LOG("round %d: a read returned a partial line", round);
			reads++;
			if (waitpid(child, &status, WNOHANG) == child || after)
				after++;
		}
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("round %d: the VMM failed (status %#x)", round, status);
		fclose(f);
		close(to_parent[0]);
		close(to_parent[1]);
		close(from_parent[0]);
		close(from_parent[1]);
	}
	ksft_print_msg("%lu reads of the view, %lu lines, over %d VMM exits\n",
		       reads, lines, ROUNDS);
}

static unsigned int ipa_bits(struct kvm_vm *vm)
{
	unsigned int bits = 0;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/ipa_range",
		 getpid(), vm->fd);
	f = fopen(path, "r");
	TEST_ASSERT(f && fscanf(f, "%u", &bits) == 1, "cannot read %s", path);
	fclose(f);
	return bits;
}

TEST(dump_lines_tile_the_ipa_space_when_generated_twice)
{
	uint64_t start, end, prev_end = 0;
	struct kvm_vcpu *vcpu;
	unsigned long bytes;
	struct kvm_vm *vm;
	struct ucall uc;
	char line[256];
	int lineno = 0;
	FILE *f;

	if (!pfnmap_env()->s2dump)
		SKIP(return, "%s", pfnmap_no_dump_reason);

	vm = pfnmap_vm_create(&vcpu, guest_alternate, TILE_PAGES * pfnmap_page_size);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, PFNMAP_TEST_GPA, PFNMAP_TEST_SLOT,
				    pfnmap_guest_pages(vm, TILE_PAGES * pfnmap_page_size), 0);
	pfnmap_virt_map(vm, PFNMAP_TEST_GPA, TILE_PAGES * pfnmap_page_size);
	ASSERT_EQ(UCALL_DONE, pfnmap_run(vcpu, &uc));

	f = pfnmap_s2_kernel_view(vm);
	ASSERT_NE(NULL, f);
	for (bytes = 0; fgets(line, sizeof(line), f); bytes += strlen(line)) {
		if (!lineno++) {
			ASSERT_STREQ(DUMP_HEADER, line)
				TH_LOG("the dump does not start with its header");
			continue;
		}
		ASSERT_EQ(2, sscanf(line, "0x%lx-0x%lx", &start, &end))
			TH_LOG("line %d is not a range: '%s'", lineno, line);
		ASSERT_TRUE(start == prev_end && end > start)
			TH_LOG("line %d covers %#lx-%#lx after a line that ended at %#lx: '%s'",
			       lineno, start, end, prev_end, line);
		prev_end = end;
	}
	fclose(f);
	/* Smaller than seq_read()'s first buffer, it would be generated once */
	ASSERT_LT(getpagesize(), bytes)
		TH_LOG("the dump is only %lu bytes: the case shows nothing", bytes);
	EXPECT_EQ(1UL << ipa_bits(vm), prev_end)
		TH_LOG("the dump's lines end at %#lx, the IPA space at %#lx",
		       prev_end, 1UL << ipa_bits(vm));
	kvm_vm_free(vm);
}

TEST_HARNESS_MAIN
