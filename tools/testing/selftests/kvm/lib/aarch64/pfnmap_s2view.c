// SPDX-License-Identifier: GPL-2.0-only
/*
 * A reader of KVM's stage-2 dump (debugfs kvm/<pid>-<fd>/stage2_page_tables,
 * CONFIG_PTDUMP_STAGE2_DEBUGFS) and of the rig's emulator dumps
 * (docs/interfaces.md), one leaf at a time. The kernel's dump merges leaves
 * into ranges; they are split again here. Every line is checked against its
 * format, and every memory type against its MemAttr decoded here.
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
	"KVM's stage-2 dump (stage2_page_tables) is missing or shows no memory types: build with CONFIG_PTDUMP_STAGE2_DEBUGFS=y, on a kernel whose dump prints them (this series), and mount debugfs"
#define NO_DUMP_REASON \
	"no stage-2 dump (stage2_page_tables): build with CONFIG_PTDUMP_STAGE2_DEBUGFS=y and mount debugfs"

const char pfnmap_no_view_reason[] = NO_VIEW_REASON;
const char pfnmap_no_dump_reason[] = NO_DUMP_REASON;

const char *pfnmap_s2_type_name(int type)
{
	static const char * const names[] = {
		[S2T_NORMAL_WB] = "NORMAL_WB", [S2T_NORMAL_NC] = "NORMAL_NC",
		[S2T_NORMAL_WT] = "NORMAL_WT",
		[S2T_DEVICE_nGnRnE] = "DEVICE_nGnRnE",
		[S2T_DEVICE_nGnRE] = "DEVICE_nGnRE",
		[S2T_DEVICE_nGRE] = "DEVICE_nGRE",
		[S2T_DEVICE_GRE] = "DEVICE_GRE", [S2T_OTHER] = "OTHER",
		[S2T_NOT_SHOWN] = "NOT_SHOWN",
	};

	return type >= 0 && type <= S2T_NOT_SHOWN ? names[type] : "?";
}

bool pfnmap_s2_type_is_cacheable(int type)
{
	return type == S2T_NORMAL_WB || type == S2T_NORMAL_WT;
}

static FILE *open_view(struct kvm_vm *vm)
{
	char path[128];

	snprintf(path, sizeof(path), DEBUGFS "/kvm/%d-%d/stage2_page_tables",
		 getpid(), vm->fd);
	return fopen(path, "r");
}

/* Any vCPU of @vm: the inspector parks one to look (pfnmap_s2inspect.c). */
static struct kvm_vcpu *some_vcpu(struct kvm_vm *vm)
{
	if (list_empty(&vm->vcpus))
		return NULL;
	return list_first_entry(&vm->vcpus, struct kvm_vcpu, list);
}

/* A rig cell, and a vCPU to park: the emulator's tables can be read. */
static bool emulated(struct kvm_vm *vm)
{
	return some_vcpu(vm) && pfnmap_s2_inspector_present();
}

bool pfnmap_s2_types_observable(struct kvm_vm *vm)
{
	return emulated(vm) || pfnmap_env()->s2view;
}

bool pfnmap_s2_observable(struct kvm_vm *vm)
{
	FILE *f;

	if (emulated(vm))
		return true;
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
		    "emulator dump header does not match docs/interfaces.md: '%s'", line);
	TEST_ASSERT(fwb == PFNMAP_UNKNOWN || hdr == fwb,
		    "emulator dump says fwb=%d, the CPU %s FEAT_S2FWB", hdr,
		    fwb ? "has" : "lacks");
	return hdr;
}

/* The kernel dump's memory type names (those of arm64's stage-1 dump). */
static int parse_dump_type(const char *s)
{
	static const struct { const char *name; int type; } names[] = {
		{ "MEM/NORMAL", S2T_NORMAL_WB }, { "MEM/NORMAL-NC", S2T_NORMAL_NC },
		{ "MEM/NORMAL-WT", S2T_NORMAL_WT },
		{ "DEVICE/nGnRnE", S2T_DEVICE_nGnRnE }, { "DEVICE/nGnRE", S2T_DEVICE_nGnRE },
		{ "DEVICE/nGRE", S2T_DEVICE_nGRE }, { "DEVICE/GRE", S2T_DEVICE_GRE },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i].name))
			return names[i].type;
	return S2T_OTHER;
}

/* Size of a stage-2 leaf at @level: the granule is the host's page size. */
static uint64_t leaf_bytes(int level)
{
	int shift = __builtin_ctzl(getpagesize());

	return 1UL << (shift + (3 - level) * (shift - 3));
}

static void size_name(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "KMGT";
	int i = 0;

	bytes >>= 10;
	while (units[i + 1] && bytes >= 1024 && !(bytes % 1024)) {
		bytes >>= 10;
		i++;
	}
	snprintf(buf, len, "%lu%c", bytes, units[i]);
}

/*
 * One line of the kernel's dump: "0x<start>-0x<end> <size><unit> <level>"
 * then flags, 6.12's (R W X AF BLK, X meaning execute-never) or 6.18's (NX
 * or x for the XN bit), and, from this series on, for valid leaves, the
 * memory type, "memattr=0x<MemAttr>" and "pa=0x<output address>".
 * Returns 0 for a range of valid leaves, 1 for a hole, -1 for no dump line.
 */
static int parse_dump_line(const char *line, struct pfnmap_s2_leaf *l, uint64_t *end)
{
	char buf[256], *tok, *save;
	bool r = false, w = false, valid = false;
	uint64_t range_bytes;
	char unit;
	int n;

	memset(l, 0, sizeof(*l));
	if (sscanf(line, "0x%lx-0x%lx %lu%c %d%n", &l->ipa_start, end, &range_bytes,
		   &unit, &l->level, &n) != 5)
		return -1;
	l->type = S2T_NOT_SHOWN;
	l->memattr = PFNMAP_S2_NO_MEMATTR;
	l->pa = PFNMAP_S2_NO_PA;
	snprintf(buf, sizeof(buf), "%s", line + n);
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		valid = true;	/* any flag: "F" alone marks an invalid one */
		if (!strcmp(tok, "F"))
			return 1;
		else if (!strcmp(tok, "R"))
			r = true;
		else if (!strcmp(tok, "W"))
			w = true;
		else if (!strcmp(tok, "X") || !strcmp(tok, "NX"))
			l->xn = 1;
		else if (!strncmp(tok, "memattr=", 8))
			l->memattr = strtoul(tok + 8, NULL, 16);
		else if (!strncmp(tok, "pa=", 3))
			l->pa = strtoul(tok + 3, NULL, 16);
		else if (strchr(tok, '/'))
			l->type = parse_dump_type(tok);
	}
	if (!valid)
		return 1;
	TEST_ASSERT(*end > l->ipa_start && l->level >= -1 && l->level <= 3 &&
		    !(l->ipa_start % leaf_bytes(l->level)) && !(*end % leaf_bytes(l->level)),
		    "stage2_page_tables line is not a range of level-%d leaves: '%s'",
		    l->level, line);
	TEST_ASSERT((l->type == S2T_NOT_SHOWN) == (l->memattr == PFNMAP_S2_NO_MEMATTR),
		    "stage2_page_tables prints a memory type without its MemAttr or the reverse: '%s'",
		    line);
	snprintf(l->s2ap, sizeof(l->s2ap), "%s", r && w ? "RW" : r ? "R" : w ? "W" : "-");
	size_name(l->size, sizeof(l->size), leaf_bytes(l->level));
	l->ipa_end = l->ipa_start + leaf_bytes(l->level) - 1;
	return 0;
}

/* Checks a leaf's memory type against its MemAttr under the CPU's FWB. */
static void check_type(const struct pfnmap_s2_leaf *leaf, int fwb, const char *what)
{
	int want;

	if (leaf->type == S2T_NOT_SHOWN || fwb < 0)
		return;
	want = decode_memattr(leaf->memattr, fwb);
	TEST_ASSERT(leaf->type == want,
		    "%s prints %s for memattr=%#x, which is %s with fwb=%d: the view lies",
		    what, pfnmap_s2_type_name(leaf->type), leaf->memattr,
		    pfnmap_s2_type_name(want), fwb);
}

/*
 * Reading state, per file: the header's fwb= of an emulator dump, and the
 * rest of a kernel dump's range still to be returned leaf by leaf. A few
 * files are read side by side (the emulator's and the kernel's).
 */
struct read_state {
	FILE *f;
	int fwb;
	struct pfnmap_s2_leaf next;
	uint64_t end;		/* exclusive end of the range */
	unsigned long used;
};

static struct read_state *state_of(FILE *f)
{
	static struct read_state rd[4];
	static unsigned long clock;
	struct read_state *st = &rd[0];
	int i;

	for (i = 0; i < 4; i++) {
		if (rd[i].f == f) {
			st = &rd[i];
			break;
		}
		if (rd[i].used < st->used)
			st = &rd[i];
	}
	/*
	 * A file at its start is a new one, even where a closed one's FILE
	 * is reused: nothing of the last file's range may carry over.
	 */
	if (st->f != f || !ftell(f)) {
		memset(st, 0, sizeof(*st));
		st->f = f;
		st->fwb = -1;
	}
	st->used = ++clock;
	return st;
}

static bool next_of_range(struct read_state *rd, struct pfnmap_s2_leaf *leaf)
{
	uint64_t bytes = leaf_bytes(rd->next.level);

	if (rd->next.ipa_start >= rd->end)
		return false;
	*leaf = rd->next;
	rd->next.ipa_start += bytes;
	rd->next.ipa_end += bytes;
	if (rd->next.pa != PFNMAP_S2_NO_PA)
		rd->next.pa += bytes;
	return true;
}

/* The next leaf of a kernel dump or an emulator dump. */
bool pfnmap_s2_read_leaf(FILE *f, struct pfnmap_s2_leaf *leaf)
{
	struct read_state *rd = state_of(f);
	char line[256];

	if (next_of_range(rd, leaf))
		return true;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "# stage2 ", 9)) {
			rd->fwb = check_header(line);
			continue;
		}
		if (!strncmp(line, "0x", 2)) {
			if (parse_dump_line(line, &rd->next, &rd->end))
				continue;	/* a hole */
			check_type(&rd->next, pfnmap_env()->fwb, "stage2_page_tables");
			if (next_of_range(rd, leaf))
				return true;
			continue;
		}
		if (strncmp(line, "ipa=", 4))
			continue;
		TEST_ASSERT(parse_leaf(line, leaf),
			    "emulator dump line does not match docs/interfaces.md: '%s'", line);
		TEST_ASSERT(rd->fwb >= 0, "emulator dump has a leaf before its header");
		check_type(leaf, rd->fwb, "emulator dump");
		return true;
	}
	return false;
}

const char *pfnmap_s2_disagreement(const struct pfnmap_s2_leaf *view,
				   const struct pfnmap_s2_leaf *emu)
{
	static char why[512];

	/* A dump without memory types (6.12, 6.18) still has the rest */
	if (emu->ipa_start == view->ipa_start && emu->ipa_end == view->ipa_end &&
	    emu->level == view->level &&
	    (view->pa == PFNMAP_S2_NO_PA || emu->pa == view->pa) &&
	    (view->memattr == PFNMAP_S2_NO_MEMATTR || emu->memattr == view->memattr) &&
	    !strcmp(emu->s2ap, view->s2ap) && !emu->xn == !view->xn)
		return NULL;
	snprintf(why, sizeof(why),
		 "IPA %#lx-%#lx: the kernel's dump says %s level %d pa %#lx memattr %#x s2ap %s xn %d, the emulator's tables say IPA %#lx-%#lx %s level %d pa %#lx memattr %#x s2ap %s xn %d",
		 view->ipa_start, view->ipa_end, pfnmap_s2_type_name(view->type), view->level,
		 view->pa, view->memattr, view->s2ap, view->xn, emu->ipa_start, emu->ipa_end,
		 pfnmap_s2_type_name(emu->type), emu->level, emu->pa, emu->memattr, emu->s2ap,
		 emu->xn);
	return why;
}

static bool next_meeting(FILE *f, uint64_t start, uint64_t end, struct pfnmap_s2_leaf *l)
{
	while (pfnmap_s2_read_leaf(f, l))
		if (l->ipa_end >= start && l->ipa_start < end)
			return true;
	return false;
}

/* Where the kernel has its own dump, it shows what the emulator holds. */
static void check_agreement(struct kvm_vm *vm, FILE *emu, uint64_t start, uint64_t end)
{
	struct pfnmap_s2_leaf e, v;
	bool more_e, more_v;
	const char *why;
	FILE *view;

	view = open_view(vm);
	if (!view)
		return;
	do {
		more_e = next_meeting(emu, start, end, &e);
		more_v = next_meeting(view, start, end, &v);
		TEST_ASSERT(more_e == more_v,
			    "stage 2 over [%#lx, %#lx): the %s has a leaf at IPA %#lx that the %s does not",
			    start, end, more_e ? "emulator" : "kernel's dump",
			    more_e ? e.ipa_start : v.ipa_start,
			    more_e ? "kernel's dump" : "emulator");
		why = more_e ? pfnmap_s2_disagreement(&v, &e) : NULL;
		if (why)
			TEST_FAIL("stage 2 disagrees with the emulator: %s", why);
	} while (more_e);
	fclose(view);
	rewind(emu);
}

/*
 * @vm's stage 2 over [start, end) from the most trusted source there is
 * (SPEC "Observing stage 2"): the emulator's tables in a rig cell, else the
 * kernel's dump; NULL without either. Where both exist they must agree.
 */
static FILE *open_source(struct kvm_vm *vm, uint64_t start, uint64_t end)
{
	static bool said;
	const char *why;
	FILE *f;

	if (!emulated(vm))
		return open_view(vm);
	if (!said)
		ksft_print_msg("%s\n",
			       "stage 2 read from the emulator's tables (rig.s2), checked against the kernel's dump where there is one");
	said = true;
	f = pfnmap_s2_emulator_dump(some_vcpu(vm), start, end, &why);
	TEST_ASSERT(f, "stage-2 inspector: %s", why);
	check_agreement(vm, f, start, end);
	return f;
}

int pfnmap_s2_lookup(struct kvm_vm *vm, uint64_t ipa,
		     struct pfnmap_s2_leaf *leaf)
{
	int ret = -ENOENT;
	FILE *f;

	f = open_source(vm, ipa, ipa + 1);
	if (!f)
		return -ENODEV;
	while (pfnmap_s2_read_leaf(f, leaf)) {
		if (ipa >= leaf->ipa_start && ipa <= leaf->ipa_end) {
			ret = leaf->type == S2T_NOT_SHOWN ? -ENODEV : 0;
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

	f = open_source(vm, start, end);
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

	f = open_source(vm, start, end);
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
		s->not_shown |= leaf.type == S2T_NOT_SHOWN;
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
