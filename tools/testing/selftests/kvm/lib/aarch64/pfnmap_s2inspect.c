// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stage-2 inspector's client. In a rig cell, QEMU gives the L1 kernel
 * a virtio-serial port named "rig.s2"; on "DUMP" the rig stops the
 * emulator, finds the vCPU that is in a KVM guest, and walks that VM's
 * stage-2 tables in emulated physical memory. The kernel under test takes
 * no part, so its stage 2 is judged by what it really holds.
 *
 * The vCPU must be in the guest while the rig looks: it is sent to a
 * parking loop (pfnmap_park_entry) on its own thread, kicked out once the
 * answer is in, and put back where the test stopped it, so that a test
 * can look at stage 2 at any checkpoint and go on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "pfnmap_s2view.h"

#define PORT_NAME	"rig.s2"
#define PARK_TIMEOUT_S	60
#define NO_INSPECTOR_MSG \
	"no stage-2 inspector: not in a rig QEMU cell (no virtio-serial port " PORT_NAME ")"

/* Set to 1 by the guest once it spins in pfnmap_park_entry (pfnmap_park.S) */
uint64_t pfnmap_park_state;

static int open_port(void)
{
	char path[300], name[64];
	struct dirent *e;
	int fd = -1;
	DIR *d;
	FILE *f;

	d = opendir("/sys/class/virtio-ports");
	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) &&
		    !strncmp(name, PORT_NAME "\n", sizeof(PORT_NAME))) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		fclose(f);
	}
	closedir(d);
	return fd;
}

bool pfnmap_s2_inspector_present(void)
{
	static int present = -1;
	int fd;

	if (present < 0) {
		fd = open_port();
		present = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	return present;
}

struct parked {
	struct kvm_vcpu *vcpu;
	int ret, err;
	bool done;
};

static void *run_parked(void *arg)
{
	struct parked *p = arg;

	/* One KVM_RUN: the kick must end it, not restart it */
	p->ret = __vcpu_run(p->vcpu);
	p->err = errno;
	WRITE_ONCE(p->done, true);
	return NULL;
}

static void kicked(int sig)
{
}

/*
 * The vCPU as the test left it: every core register (GPRs, SP, PC,
 * PSTATE, the EL1 exception state, FP/SIMD), since the park clobbers some,
 * and kvm_run, where the test may still read its last exit. 16 bytes hold
 * the largest core register (a V register).
 */
struct saved_vcpu {
	struct kvm_run run;
	uint64_t n;
	struct {
		uint64_t id;
		uint8_t val[16];
	} reg[];
};

static struct saved_vcpu *save_vcpu(struct kvm_vcpu *vcpu)
{
	struct kvm_reg_list *list = vcpu_get_reg_list(vcpu);
	struct kvm_one_reg one;
	struct saved_vcpu *s;
	uint64_t i;

	s = calloc(1, sizeof(*s) + list->n * sizeof(s->reg[0]));
	TEST_ASSERT(s, "calloc");
	memcpy(&s->run, vcpu->run, sizeof(s->run));
	for (i = 0; i < list->n; i++) {
		if ((list->reg[i] & KVM_REG_ARM_COPROC_MASK) != KVM_REG_ARM_CORE)
			continue;
		TEST_ASSERT(KVM_REG_SIZE(list->reg[i]) <= sizeof(s->reg[0].val),
			    "core register %#llx is larger than 16 bytes", list->reg[i]);
		s->reg[s->n].id = list->reg[i];
		one.id = list->reg[i];
		one.addr = (uint64_t)s->reg[s->n].val;
		TEST_ASSERT(!__vcpu_ioctl(vcpu, KVM_GET_ONE_REG, &one),
			    "KVM_GET_ONE_REG %#llx: %s", one.id, strerror(errno));
		s->n++;
	}
	free(list);
	return s;
}

static void restore_vcpu(struct kvm_vcpu *vcpu, struct saved_vcpu *s)
{
	struct kvm_one_reg one;
	uint64_t i;

	for (i = 0; i < s->n; i++) {
		one.id = s->reg[i].id;
		one.addr = (uint64_t)s->reg[i].val;
		TEST_ASSERT(!__vcpu_ioctl(vcpu, KVM_SET_ONE_REG, &one),
			    "KVM_SET_ONE_REG %#llx: %s", one.id, strerror(errno));
	}
	memcpy(vcpu->run, &s->run, sizeof(s->run));
	vcpu->run->immediate_exit = 0;
	free(s);
}

/* The rig's answer up to "# end", into @out. */
static void read_answer(int fd, FILE *out)
{
	char buf[4096];
	size_t have = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		TEST_ASSERT(n > 0, "stage-2 inspector port: read: %s", n ? strerror(errno) : "EOF");
		have += n;
		buf[have] = '\0';
		for (char *nl; (nl = memchr(buf, '\n', have)); ) {
			size_t len = nl - buf + 1;

			fwrite(buf, 1, len, out);
			if (len == 6 && !strncmp(buf, "# end\n", 6))
				return;
			memmove(buf, buf + len, have - len);
			have -= len;
			buf[have] = '\0';
		}
		TEST_ASSERT(have < sizeof(buf) - 1, "stage-2 inspector line too long");
	}
}

/* Spins @vcpu in the guest, on its own thread, until it has said so. */
static void park(struct kvm_vcpu *vcpu, struct parked *p, pthread_t *thread)
{
	static uint8_t park_stack[256 << 10] __aligned(4096);
	struct sigaction sa = { .sa_handler = kicked };
	pthread_attr_t attr;
	uint64_t *state;
	time_t deadline;

	/* No SA_RESTART: the kick makes KVM_RUN return -EINTR */
	TEST_ASSERT(!sigaction(SIGUSR2, &sa, NULL), "sigaction");
	state = addr_gva2hva(vcpu->vm, (vm_vaddr_t)&pfnmap_park_state);
	WRITE_ONCE(*state, 0);
	vcpu_set_reg(vcpu, ARM64_CORE_REG(regs.pc), (uint64_t)pfnmap_park_entry);
	/*
	 * A stack of its own, not one mmap()ed by pthread_create(): a test may
	 * look at stage 2 while it holds a hole in its address space to map
	 * again, where a new thread stack could land.
	 */
	TEST_ASSERT(!pthread_attr_init(&attr) &&
		    !pthread_attr_setstack(&attr, park_stack, sizeof(park_stack)),
		    "pthread_attr_setstack");
	TEST_ASSERT(!pthread_create(thread, &attr, run_parked, p), "pthread_create");
	pthread_attr_destroy(&attr);
	deadline = time(NULL) + PARK_TIMEOUT_S;
	while (READ_ONCE(*state) != 1) {
		TEST_ASSERT(!READ_ONCE(p->done),
			    "the vCPU left the guest before it parked: KVM_RUN %d (%s)",
			    p->ret, strerror(p->err));
		TEST_ASSERT(time(NULL) < deadline, "the vCPU did not reach its parking loop");
		usleep(1000);
	}
}

static void unpark(struct kvm_vcpu *vcpu, struct parked *p, pthread_t thread)
{
	vcpu->run->immediate_exit = 1;
	while (!READ_ONCE(p->done)) {
		pthread_kill(thread, SIGUSR2);
		usleep(1000);
	}
	pthread_join(thread, NULL);
	TEST_ASSERT(p->ret == -1 && p->err == EINTR,
		    "the parked vCPU's KVM_RUN ended with %d (%s), not EINTR",
		    p->ret, strerror(p->err));
}

/* "# error why" from the rig, or NULL: the dump is usable. */
static const char *dump_error(FILE *f)
{
	static char line[256];

	if (!fgets(line, sizeof(line), f))
		return "empty answer from the stage-2 inspector";
	rewind(f);
	if (!strncmp(line, "# error ", 8)) {
		line[strcspn(line, "\n")] = '\0';
		return line + 8;
	}
	return NULL;
}

FILE *pfnmap_s2_emulator_dump(struct kvm_vcpu *vcpu, uint64_t start, uint64_t end,
			      const char **why)
{
	struct parked p = { .vcpu = vcpu };
	struct saved_vcpu *saved;
	char request[64];
	pthread_t thread;
	FILE *out;
	int fd, n;

	fd = open_port();
	if (fd < 0) {
		*why = NO_INSPECTOR_MSG;
		return NULL;
	}
	/*
	 * The exit the test stopped at completes first (an MMIO ucall steps
	 * past its store), so that the vCPU resumes after it.
	 */
	vcpu_run_complete_io(vcpu);
	saved = save_vcpu(vcpu);
	park(vcpu, &p, &thread);

	out = tmpfile();
	TEST_ASSERT(out, "tmpfile");
	n = end ? snprintf(request, sizeof(request), "DUMP %#lx %#lx\n", start, end) :
		  snprintf(request, sizeof(request), "DUMP\n");
	TEST_ASSERT(write(fd, request, n) == n, "stage-2 inspector port: write: %s",
		    strerror(errno));
	read_answer(fd, out);
	close(fd);

	unpark(vcpu, &p, thread);
	restore_vcpu(vcpu, saved);
	rewind(out);
	*why = dump_error(out);
	if (*why) {
		fclose(out);
		return NULL;
	}
	return out;
}
