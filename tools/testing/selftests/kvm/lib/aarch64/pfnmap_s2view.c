// SPDX-License-Identifier: GPL-2.0-only
/*
 * A reader of KVM's stage-2 view (debugfs kvm/<pid>-<fd>/stage2_leaves,
 * docs/interfaces.md): every line is checked against the format, and every
 * leaf's type= against its memattr= decoded here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "pfnmap_env.h"
#include "pfnmap_s2view.h"

#define DEBUGFS		"/sys/kernel/debug"
#define NO_VIEW_REASON \
	"no stage-2 view (stage2_leaves): build with CONFIG_KVM_ARM_STAGE2_DEBUGFS=y and mount debugfs"

const char pfnmap_no_view_reason[] = NO_VIEW_REASON;

const char *pfnmap_s2_type_name(int type)
{
	static const char * const names[] = {
		[S2T_NORMAL_WB] = "NORMAL_WB", [S2T_NORMAL_NC] = "NORMAL_NC",
		[S2T_NORMAL_WT] = "NORMAL_WT",
		[S2T_DEVICE_nGnRnE] = "DEVICE_nGnRnE",
		[S2T_DEVICE_nGnRE] = "DEVICE_nGnRE",
		[S2T_DEVICE_nGRE] = "DEVICE_nGRE",
		[S2T_DEVICE_GRE] = "DEVICE_GRE", [S2T_OTHER] = "OTHER",
	};

	return type >= 0 && type <= S2T_OTHER ? names[type] : "?";
}

bool pfnmap_s2_type_is_cacheable(int type)
{
	return type == S2T_NORMAL_WB || type == S2T_NORMAL_WT;
}
static FILE *open_view(struct kvm_vm *vm)
{
	char path[128];

	pfnmap_mount_debugfs();
	snprintf(path, sizeof(path), DEBUGFS "/kvm/%d-%d/stage2_leaves",
		 getpid(), vm->fd);
	return fopen(path, "r");
}

bool pfnmap_s2_view_present(struct kvm_vm *vm)
{
	FILE *f;

	f = open_view(vm);
	if (!f)
		return false;
	fclose(f);
	return true;
}

static int parse_type(const char *s)
{
	int t;

	for (t = S2T_NORMAL_WB; t <= S2T_OTHER; t++)
		if (!strcmp(s, pfnmap_s2_type_name(t)))
			return t;
	return S2T_OTHER;
}

/*
 * The memory type of a stage-2 MemAttr[3:0] field, decoded from the Arm
 * ARM (D8.6.6) and not from the kernel's MT_S2_* macros, so that a view
 * that prints the wrong type= for its memattr= is caught.
 * Without FWB: [3:2] == 0 is Device, [1:0] its kind; otherwise Normal with
 * outer [3:2] and inner [1:0] (01 NC, 10 WT, 11 WB), both the same here.
 * With FWB: [2] == 0 is Device, [1:0] its kind; [2] == 1 is Normal with
 * [1:0] 01 NC, 10 WB, 11 "use the stage-1 attributes".
 */
static int decode_memattr(uint32_t memattr, bool fwb)
{
	static const int device[] = {
		S2T_DEVICE_nGnRnE, S2T_DEVICE_nGnRE, S2T_DEVICE_nGRE, S2T_DEVICE_GRE,
	};

	if (fwb) {
		if (memattr & 0x8)
			return S2T_OTHER;
		if (!(memattr & 0x4))
			return device[memattr & 0x3];
		return (memattr & 0x3) == 1 ? S2T_NORMAL_NC :
		       (memattr & 0x3) == 2 ? S2T_NORMAL_WB : S2T_OTHER;
	}
	if (!(memattr & 0xc))
		return device[memattr & 0x3];
	switch (memattr) {
	case 0x5: return S2T_NORMAL_NC;
	case 0xa: return S2T_NORMAL_WT;
	case 0xf: return S2T_NORMAL_WB;
	default: return S2T_OTHER;
	}
}

static bool parse_leaf(const char *line, struct pfnmap_s2_leaf *l)
{
	char type[24];

	memset(l, 0, sizeof(*l));
	if (sscanf(line,
		   "ipa=%lx-%lx level=%d size=%7s pa=%lx memattr=%x type=%23s s2ap=%3s xn=%d",
		   &l->ipa_start, &l->ipa_end, &l->level, l->size, &l->pa,
		   &l->memattr, type, l->s2ap, &l->xn) != 9)
		return false;
	l->type = parse_type(type);
	return true;
}

/*
 * The header's fwb= must be what the CPU has (the kernel log's cpufeature
 * line; KVM uses FWB whenever the CPU has it), and every leaf's type= what
 * its memattr= means under that encoding. Returns the header's fwb=.
 */
static int check_header(const char *line)
{
	int fwb = pfnmap_env()->fwb;
	int hdr;

	TEST_ASSERT(sscanf(line, "# stage2 fwb=%d", &hdr) == 1,
		    "stage2_leaves header does not match docs/interfaces.md: '%s'", line);
	TEST_ASSERT(fwb == PFNMAP_UNKNOWN || hdr == fwb,
		    "stage2_leaves says fwb=%d, the CPU %s FEAT_S2FWB", hdr,
		    fwb ? "has" : "lacks");
	return hdr;
}

/* The next leaf line of the view; blank lines are skipped. */
bool pfnmap_s2_read_leaf(FILE *f, struct pfnmap_s2_leaf *leaf)
{
	static int fwb = -1;	/* the header's, for the lines after it */
	char line[256];
	int want;

	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "# stage2 ", 9)) {
			fwb = check_header(line);
			continue;
		}
		if (strncmp(line, "ipa=", 4))
			continue;
		TEST_ASSERT(parse_leaf(line, leaf),
			    "stage2_leaves line does not match docs/interfaces.md: '%s'", line);
		TEST_ASSERT(fwb >= 0, "stage2_leaves has a leaf before its header");
		want = decode_memattr(leaf->memattr, fwb);
		TEST_ASSERT(leaf->type == want,
			    "stage2_leaves prints type=%s for memattr=%#x, which is %s with fwb=%d: the view lies",
			    pfnmap_s2_type_name(leaf->type), leaf->memattr,
			    pfnmap_s2_type_name(want), fwb);
		return true;
	}
	return false;
}

int pfnmap_s2_lookup(struct kvm_vm *vm, uint64_t ipa,
		     struct pfnmap_s2_leaf *leaf)
{
	int ret = -ENOENT;
	FILE *f;

	f = open_view(vm);
	if (!f)
		return -ENODEV;
	while (pfnmap_s2_read_leaf(f, leaf)) {
		if (ipa >= leaf->ipa_start && ipa <= leaf->ipa_end) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int pfnmap_s2_count(struct kvm_vm *vm, uint64_t start, uint64_t end)
{
	struct pfnmap_s2_leaf leaf;
	int n = 0;
	FILE *f;

	f = open_view(vm);
	if (!f)
		return -ENODEV;
	while (pfnmap_s2_read_leaf(f, &leaf))
		if (leaf.ipa_start < end && leaf.ipa_end >= start)
			n++;
	fclose(f);
	return n;
}

int pfnmap_s2_summarise(struct kvm_vm *vm, uint64_t start, uint64_t end,
			int type, uint64_t pa_base, struct pfnmap_s2_summary *s)
{
	FILE *f;

	f = open_view(vm);
	if (!f)
		return -ENODEV;
	pfnmap_s2_summarise_file(f, start, end, type, pa_base, s);
	fclose(f);
	return 0;
}

void pfnmap_s2_summarise_file(FILE *f, uint64_t start, uint64_t end, int type,
			      uint64_t pa_base, struct pfnmap_s2_summary *s)
{
	struct pfnmap_s2_leaf leaf;
	int largest_level = 4;
	uint64_t lo, hi;

	memset(s, 0, sizeof(*s));
	s->other = -1;
	while (pfnmap_s2_read_leaf(f, &leaf)) {
		if (leaf.ipa_end < start || leaf.ipa_start >= end)
			continue;
		lo = leaf.ipa_start > start ? leaf.ipa_start : start;
		hi = leaf.ipa_end + 1 < end ? leaf.ipa_end + 1 : end;
		s->mapped += hi - lo;
		if (leaf.type == type) {
			s->bytes_of_type += hi - lo;
		} else if (s->other < 0) {
			s->other = leaf.type;
			s->other_ipa = leaf.ipa_start;
		}
		if (pa_base && !s->pa_mismatch &&
		    leaf.pa != pa_base + (leaf.ipa_start - start)) {
			s->pa_mismatch = true;
			s->bad_pa_ipa = leaf.ipa_start;
		}
		/* A lower level is a larger leaf */
		if (leaf.level < largest_level) {
			largest_level = leaf.level;
			snprintf(s->largest, sizeof(s->largest), "%s", leaf.size);
		}
	}
}

FILE *pfnmap_s2_kernel_view(struct kvm_vm *vm)
{
	return open_view(vm);
}
