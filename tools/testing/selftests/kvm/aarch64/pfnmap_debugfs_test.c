// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfnmap_debugfs_test - the stage-2 view read while its VM goes away (DBG-1).
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

static void guest_touch(void)
{
	uint64_t off;

	for (off = 0; off < TOUCH_BYTES; off += pfnmap_page_size)
		WRITE_ONCE(*(uint64_t *)(PFNMAP_TEST_GPA + off), off);
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
	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/stage2_leaves",
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

	ksft_print_msg("REQ: DBG-1\n");
	if (!pfnmap_env()->s2view)
		SKIP(return, "%s", pfnmap_no_view_reason);

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

int main(int argc, char **argv)
{
	return pfnmap_harness_main(argc, argv);
}
