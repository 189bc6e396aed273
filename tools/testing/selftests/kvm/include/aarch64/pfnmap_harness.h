/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kselftest-harness glue shared by the pfnmap_* tests.
 */
#ifndef SELFTEST_KVM_PFNMAP_HARNESS_H
#define SELFTEST_KVM_PFNMAP_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "pfnmap_env.h"
#include "pfnmap_provider.h"

/*
 * Whether the provider is there, with @nonlinear_bytes of non-linear-map
 * memory; if not, *reason says why. A TEST body or a FIXTURE_SETUP skips
 * the case with:
 *
 *	if (!pfnmap_provider_ready(bytes, &reason))
 *		SKIP(return, "%s", reason);
 */
static inline bool pfnmap_provider_ready(uint64_t nonlinear_bytes,
					 const char **reason)
{
	struct test_pfnmap_info info;

	return pfnmap_provider(&info, nonlinear_bytes, reason);
}

/* For a FIXTURE_SETUP that leaves the skip to the case, after its REQ line. */
static inline bool pfnmap_have_provider(uint64_t nonlinear_bytes)
{
	struct test_pfnmap_info info;
	const char *reason;

	return pfnmap_provider(&info, nonlinear_bytes, &reason);
}

/*
 * Prints the case's "REQ:" line for the path it checks. A case over a kind
 * KVM must refuse (cap = 0) checks the refusal, CAP-4, and nothing of what
 * a mapping would have shown: it does not count for S2-1, S2-6, CAP-3,
 * SEC-1 or NV-1. A case that maps the kind does not count for CAP-4.
 */
static inline void __pfnmap_print_req(const char *req, bool drop_mapped, bool cap4)
{
	static const char mapped_only[] = " S2-1 S2-6 CAP-3 SEC-1 NV-1 ";
	char buf[128], out[160] = "", word[16], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", req);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		snprintf(word, sizeof(word), " %s ", tok);
		/* CAP-4 is the cap = 0 path's, CAP-3 the cap = 1 path's */
		if (!strcmp(tok, "CAP-4") || (cap4 && !strcmp(tok, "CAP-3")) ||
		    (drop_mapped && strstr(mapped_only, word)))
			continue;
		strncat(out, word + 1, sizeof(out) - strlen(out) - 1);
	}
	ksft_print_msg("REQ: %s%s\n", out, cap4 ? "CAP-4" : "");
}

static inline void pfnmap_print_req(const char *req, bool refusal_path)
{
	__pfnmap_print_req(req, refusal_path, refusal_path);
}

/*
 * The same, once the kernel has answered: a kind it must refuse that it
 * mapped anyway fails CAP-4, and what it mapped is judged as well (the
 * unpatched kernel maps cacheable usemem Device with cap = 0: S2-1, NV-1,
 * SEC-1), though not CAP-3, which is about cap = 1.
 */
static inline void pfnmap_print_req_after(const char *req, bool must_refuse, bool refused)
{
	__pfnmap_print_req(req, must_refuse && refused, must_refuse);
}

/*
 * KASAN and lockdep kernels run the same cases several times slower than
 * the harness's per-case timeouts allow. PFNMAP_TIMEOUT_SCALE=N (the rig's
 * init sets it on debug kernels) multiplies every case's timeout by N, as
 * the runner's per-binary timeout already is.
 */
static inline void pfnmap_scale_timeouts(void)
{
	const char *env = getenv("PFNMAP_TIMEOUT_SCALE");
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	int scale = env ? atoi(env) : 1;

	if (scale <= 1)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= scale;
	ksft_print_msg("case timeouts x%d (PFNMAP_TIMEOUT_SCALE)\n", scale);
}

/*
 * What each test's main() returns: probe and print "# ENV:" once in the
 * parent (every case inherits it), then run the cases.
 */
static inline int pfnmap_harness_main(int argc, char **argv)
{
	pfnmap_env();
	pfnmap_scale_timeouts();
	return test_harness_run(argc, argv);
}

#endif /* SELFTEST_KVM_PFNMAP_HARNESS_H */
