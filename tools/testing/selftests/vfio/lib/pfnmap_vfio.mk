# SPDX-License-Identifier: GPL-2.0-only
# Builds the VFIO tests listed in PFNMAP_VFIO_PROGS, on arm64 only. They
# drive a guest through the KVM selftest library, which is compiled here
# from ../kvm into $(OUTPUT)/libkvm, and use lib/pfnmap_vfio*.c. Include
# it after ../lib.mk. Every name is prefixed, and the tests are
# TEST_CUSTOM_PROGS built with their own flags, so that the file can sit
# beside other VFIO tests and their library.
include $(top_srcdir)/scripts/subarch.include
ARCH ?= $(SUBARCH)

ifeq ($(ARCH),arm64)

PFNMAP_KVM_DIR := ../kvm
# The KVM selftests name the architecture aarch64 up to 6.13, arm64 since.
PFNMAP_ARCH_DIR := $(if $(wildcard $(PFNMAP_KVM_DIR)/lib/arm64/processor.c),arm64,aarch64)

PFNMAP_LIBKVM := lib/assert.c lib/elf.c lib/guest_modes.c lib/guest_sprintf.c \
	lib/io.c lib/kvm_util.c lib/rbtree.c lib/sparsebit.c lib/test_util.c \
	lib/ucall_common.c lib/userfaultfd_util.c
PFNMAP_LIBKVM += $(addprefix lib/$(PFNMAP_ARCH_DIR)/,gic.c gic_v3.c gic_v3_its.c \
	handlers.S processor.c spinlock.c ucall.c vgic.c)
# The cacheable PFNMAP library, whatever files it is split into.
PFNMAP_LIBKVM += $(patsubst $(PFNMAP_KVM_DIR)/%,%,\
	$(wildcard $(PFNMAP_KVM_DIR)/lib/$(PFNMAP_ARCH_DIR)/pfnmap_*.c \
		   $(PFNMAP_KVM_DIR)/lib/$(PFNMAP_ARCH_DIR)/pfnmap_*.S))
PFNMAP_LIBKVM_STRING := lib/string_override.c
PFNMAP_LIBVFIO := lib/pfnmap_vfio.c lib/pfnmap_vfio_kvm.c

PFNMAP_VFIO_TESTS := $(patsubst %,$(OUTPUT)/%,$(PFNMAP_VFIO_PROGS))
TEST_CUSTOM_PROGS += $(PFNMAP_VFIO_TESTS)
TEST_PROGS_EXTENDED += setup.sh cleanup.sh

all: $(PFNMAP_VFIO_TESTS)

# The sysreg headers the KVM library needs, generated as ../kvm does.
ifneq ($(abs_objdir),)
PFNMAP_HDR_OUTDIR := $(abs_objdir)/tools/
else
PFNMAP_HDR_OUTDIR := $(top_srcdir)/tools/
endif
PFNMAP_GEN_HDRS := $(PFNMAP_HDR_OUTDIR)arch/arm64/include/generated/

PFNMAP_CFLAGS = -Wall -Wstrict-prototypes -Wuninitialized -O2 -g -std=gnu99 \
	-MD -MP -DCONFIG_64BIT -D_GNU_SOURCE= -U_FORTIFY_SOURCE \
	-fno-builtin-memcmp -fno-builtin-memcpy -fno-builtin-memset \
	-fno-builtin-strnlen -fno-stack-protector -fno-PIE -fno-strict-aliasing \
	-I$(top_srcdir)/tools/include -I$(top_srcdir)/tools/arch/arm64/include \
	-I$(PFNMAP_GEN_HDRS) $(KHDR_INCLUDES) -Ilib/include \
	-I$(PFNMAP_KVM_DIR)/include -I$(PFNMAP_KVM_DIR)/include/$(PFNMAP_ARCH_DIR) \
	-I.. $(EXTRA_CFLAGS)
PFNMAP_LDFLAGS = -pthread -no-pie $(LDFLAGS)
PFNMAP_LDLIBS = -ldl $(LDLIBS)

PFNMAP_LIBKVM_C_OBJS := $(patsubst %.c,$(OUTPUT)/libkvm/%.o,$(filter %.c,$(PFNMAP_LIBKVM)))
PFNMAP_LIBKVM_S_OBJS := $(patsubst %.S,$(OUTPUT)/libkvm/%.o,$(filter %.S,$(PFNMAP_LIBKVM)))
PFNMAP_LIBKVM_STRING_OBJ := $(patsubst %.c,$(OUTPUT)/libkvm/%.o,$(PFNMAP_LIBKVM_STRING))
PFNMAP_LIBVFIO_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(PFNMAP_LIBVFIO))
PFNMAP_LIB_OBJS := $(PFNMAP_LIBVFIO_OBJS) $(PFNMAP_LIBKVM_C_OBJS) \
	$(PFNMAP_LIBKVM_S_OBJS) $(PFNMAP_LIBKVM_STRING_OBJ)
PFNMAP_TEST_OBJS := $(patsubst %,%.o,$(PFNMAP_VFIO_TESTS))

$(shell mkdir -p $(sort $(dir $(PFNMAP_LIB_OBJS))))

$(PFNMAP_GEN_HDRS): $(wildcard $(top_srcdir)/tools/arch/arm64/tools/*)
	$(MAKE) -C $(top_srcdir)/tools/arch/arm64/tools OUTPUT=$(PFNMAP_HDR_OUTDIR)

$(PFNMAP_LIBKVM_C_OBJS): $(OUTPUT)/libkvm/%.o: $(PFNMAP_KVM_DIR)/%.c | $(PFNMAP_GEN_HDRS)
	$(CC) $(PFNMAP_CFLAGS) -c $< -o $@
$(PFNMAP_LIBKVM_S_OBJS): $(OUTPUT)/libkvm/%.o: $(PFNMAP_KVM_DIR)/%.S | $(PFNMAP_GEN_HDRS)
	$(CC) $(PFNMAP_CFLAGS) -c $< -o $@
# Freestanding, as in ../kvm: no self-referential memcpy/memset.
$(PFNMAP_LIBKVM_STRING_OBJ): $(OUTPUT)/libkvm/%.o: $(PFNMAP_KVM_DIR)/%.c | $(PFNMAP_GEN_HDRS)
	$(CC) $(PFNMAP_CFLAGS) -ffreestanding -c $< -o $@
$(PFNMAP_LIBVFIO_OBJS) $(PFNMAP_TEST_OBJS): $(OUTPUT)/%.o: %.c | $(PFNMAP_GEN_HDRS)
	$(CC) $(PFNMAP_CFLAGS) -c $< -o $@

$(PFNMAP_VFIO_TESTS): %: %.o $(PFNMAP_LIB_OBJS)
	$(CC) $(PFNMAP_CFLAGS) $(PFNMAP_LDFLAGS) $^ $(PFNMAP_LDLIBS) -o $@

-include $(PFNMAP_LIB_OBJS:.o=.d) $(PFNMAP_TEST_OBJS:.o=.d)
EXTRA_CLEAN += $(PFNMAP_VFIO_TESTS) $(PFNMAP_LIB_OBJS) $(PFNMAP_TEST_OBJS) \
	$(PFNMAP_LIB_OBJS:.o=.d) $(PFNMAP_TEST_OBJS:.o=.d)

endif
