/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kselftest-harness glue shared by the pfnmap_* tests.
 */
#ifndef SELFTEST_KVM_PFNMAP_HARNESS_H
#define SELFTEST_KVM_PFNMAP_HARNESS_H

#include "kselftest_harness.h"
#include "pfnmap_util.h"

/* Skip the case (from a TEST body or a FIXTURE_SETUP) without the provider. */
#define PFNMAP_REQUIRE_PROVIDER(_nonlinear_bytes) do {			\
	struct test_pfnmap_info __info;					\
	const char *__reason;						\
									\
	if (!pfnmap_provider(&__info, (_nonlinear_bytes), &__reason))	\
		SKIP(return, "%s", __reason);				\
} while (0)

/* For a FIXTURE_SETUP that leaves the skip to the case, after its REQ line. */
static inline bool pfnmap_have_provider(uint64_t nonlinear_bytes)
{
	struct test_pfnmap_info info;
	const char *reason;

	return pfnmap_provider(&info, nonlinear_bytes, &reason);
}

/* Probe and print "# ENV:" once in the parent; every case inherits it. */
#define PFNMAP_HARNESS_MAIN						\
int main(int argc, char **argv)						\
{									\
	pfnmap_env();							\
	return test_harness_run(argc, argv);				\
}

#endif /* SELFTEST_KVM_PFNMAP_HARNESS_H */
