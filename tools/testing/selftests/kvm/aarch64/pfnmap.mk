# SPDX-License-Identifier: GPL-2.0-only
# Cacheable stage-2 PFNMAP selftests; included from the KVM selftest Makefile.
LIBKVM_aarch64 += lib/aarch64/pfnmap_util.c

TEST_GEN_PROGS_aarch64 += aarch64/pfnmap_memslot_test
TEST_GEN_PROGS_aarch64 += aarch64/pfnmap_s2attr_test
TEST_GEN_PROGS_aarch64 += aarch64/pfnmap_cow_mte_test
TEST_GEN_PROGS_aarch64 += aarch64/pfnmap_exec_test
TEST_GEN_PROGS_aarch64 += aarch64/pfnmap_cmo_test
TEST_GEN_PROGS_aarch64 += aarch64/pfnmap_block_test
TEST_GEN_PROGS_aarch64 += aarch64/pfnmap_block_layout_test
