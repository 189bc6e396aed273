// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stage-2 inspector's client. In a rig cell, QEMU gives the L1 kernel
 * a virtio-serial port named "rig.s2"; on "DUMP" the rig stops the
 * emulator, finds the vCPU that is in a KVM guest, and walks that VM's
 * stage-2 tables in emulated physical memory. The kernel under test takes
 * no part, so its stage 2 is judged by what it really holds.
 *
 * The vCPU must be in the guest while the rig looks: it is sent to a
 * parking loop (pfnmap_park_entry) on its own thread, and released once
 * the answer is in.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"
#include "pfnmap_s2view.h"

#define PORT_NAME	"rig.s2"
#define PARK_TIMEOUT_S	60
#define NO_INSPECTOR_MSG \
	"no stage-2 inspector: not in a rig QEMU cell (no virtio-serial port " PORT_NAME ")"

/* 0: not parked; 1: the guest spins; 2: the host released it */
uint64_t pfnmap_park_state;

void pfnmap_guest_park(void)
{
	WRITE_ONCE(pfnmap_park_state, 1);
	while (READ_ONCE(pfnmap_park_state) != 2)
		;
	GUEST_DONE();
}

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

static void *run_parked(void *arg)
{
	struct kvm_vcpu *vcpu = arg;

	_vcpu_run(vcpu);
	return NULL;
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

FILE *pfnmap_s2_emulator_dump(struct kvm_vcpu *vcpu, const char **why)
{
	uint64_t *state;
	struct ucall uc;
	pthread_t thread;
	time_t deadline;
	FILE *out;
	int fd;

	fd = open_port();
	if (fd < 0) {
		*why = NO_INSPECTOR_MSG;
		return NULL;
	}
	state = addr_gva2hva(vcpu->vm, (vm_vaddr_t)&pfnmap_park_state);
	WRITE_ONCE(*state, 0);
	vcpu_set_reg(vcpu, ARM64_CORE_REG(regs.pc), (uint64_t)pfnmap_park_entry);
	TEST_ASSERT(!pthread_create(&thread, NULL, run_parked, vcpu), "pthread_create");
	deadline = time(NULL) + PARK_TIMEOUT_S;
	while (READ_ONCE(*state) != 1) {
		TEST_ASSERT(time(NULL) < deadline, "the vCPU did not reach its parking loop");
		usleep(1000);
	}

	out = tmpfile();
	TEST_ASSERT(out, "tmpfile");
	TEST_ASSERT(write(fd, "DUMP\n", 5) == 5, "stage-2 inspector port: write: %s",
		    strerror(errno));
	read_answer(fd, out);
	close(fd);

	WRITE_ONCE(*state, 2);
	pthread_join(thread, NULL);
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_DONE, "the parked vCPU did not finish");
	rewind(out);
	return out;
}

/* "# error why" from the rig, or NULL: the dump is usable. */
const char *pfnmap_s2_dump_error(FILE *f)
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
