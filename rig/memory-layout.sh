# Guest physical memory plan shared by the QEMU cell scripts (sourced).
# System RAM starts at 0x40000000 on -M virt. The guest kernel gets the first
# 2 GiB (mem=2G); everything above is outside its linear map and is split
# into disjoint ranges for the test PFNMAP provider and the nvgrace device.
RIG_QEMU_MEM=8G
RIG_LINEAR_MEM=2G
RIG_PROVIDER_BASE=0xc0000000	# 1 GiB aligned, for block-mapping tests
RIG_PROVIDER_SIZE=0x100000000	# 4 GiB: the BLK-1 region and the sweep benchmark
RIG_NVGRACE_BASE=0x1c0000000
RIG_NVGRACE_SIZE=0x80000000	# 2 GiB: nvgrace carves 1 GiB resmem, the rest is usemem
# The emulated PCI function nvgrace-gpu binds to: ivshmem-plain has a
# RAM-backed BAR (plain vfio-pci, NV-3); its devfn sets the DT node's reg.
RIG_NVGRACE_PCI_ADDR=0x2
RIG_NVGRACE_BDF=0000:00:02.0
RIG_IVSHMEM_SIZE=64M
# A no-map carve-out inside the kernel's 2 GiB (PRV-1), clear of where QEMU
# puts the kernel, initrd and device tree at the start of RAM.
RIG_CARVE_OUT_BASE=0x60000000
RIG_CARVE_OUT_SIZE=0x100000
