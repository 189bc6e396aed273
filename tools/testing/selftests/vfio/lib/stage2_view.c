// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reader for the stage-2 debugfs view,
 * /sys/kernel/debug/kvm/<pid>-<vmfd>/stage2_leaves (docs/interfaces.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vfio_util.h"

const char *s2view_path(int vm_fd, char *buf, size_t len)
{
	snprintf(buf, len, "/sys/kernel/debug/kvm/%d-%d/stage2_leaves",
		 getpid(), vm_fd);
	return access(buf, R_OK) ? NULL : buf;
}

static uint64_t size_bytes(const char *sz)
{
	unsigned long long n = 0;
	char unit = 0;

	if (sscanf(sz, "%llu%c", &n, &unit) < 1)
		return 0;
	switch (unit) {
	case 'K': return n << 10;
	case 'M': return n << 20;
	case 'G': return n << 30;
	case 'T': return n << 40;
	}
	return n;
}

int s2view_summarise(const char *path, uint64_t start, uint64_t end,
		     const char *type, uint64_t pa_base, struct s2_summary *s)
{
	unsigned long long lo, hi, pa;
	char line[512], size[8], t[16];
	uint64_t best = 0, a, b;
	int level;
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "ipa=%llx-%llx level=%d size=%7s pa=%llx memattr=%*x type=%15s",
			   &lo, &hi, &level, size, &pa, t) != 6)
			continue;
		if (hi < start || lo >= end)
			continue;
		a = lo > start ? lo : start;
		b = hi + 1 < end ? hi + 1 : end;
		s->mapped += b - a;
		if (!strcmp(t, type)) {
			s->bytes_of_type += b - a;
		} else if (!s->other[0]) {
			snprintf(s->other, sizeof(s->other), "%s", t);
			s->other_ipa = lo;
		}
		if (pa_base && pa != pa_base + (lo - start) && !s->pa_mismatch) {
			s->pa_mismatch = true;
			s->bad_pa_ipa = lo;
		}
		if (size_bytes(size) > best) {
			best = size_bytes(size);
			snprintf(s->largest, sizeof(s->largest), "%s", size);
		}
	}
	fclose(f);
	return 0;
}
