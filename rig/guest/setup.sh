# Rig hook, sourced by /init before the tests (busybox sh): bind the VFIO
# device named by rig.vfio_bdf to nvgrace-gpu-vfio-pci with the selftests'
# own setup script. Sourced, so no "exit" and no "set -e" here: a failure
# only means the VFIO tests will skip and say why. Output is TAP comments.
if [ -n "${VFIO_SELFTESTS_BDF:-}" ] && [ -x /kselftest/vfio/setup.sh ]; then
	if /kselftest/vfio/setup.sh -d nvgrace_gpu_vfio_pci "$VFIO_SELFTESTS_BDF"; then
		echo "# ENV: vfio_device=$VFIO_SELFTESTS_BDF vfio_driver=nvgrace_gpu_vfio_pci"
	else
		echo "# rig: binding $VFIO_SELFTESTS_BDF to nvgrace_gpu_vfio_pci failed; VFIO tests will skip"
	fi
	if [ -e /dev/vfio/vfio ] && ls /dev/vfio | grep -q '^noiommu-'; then
		echo "# ENV: vfio_iommu=noiommu"
	elif [ -e /dev/vfio/vfio ]; then
		echo "# ENV: vfio_iommu=smmuv3"
	fi
	for p in nvidia,gpu-mem-base-pa nvidia,gpu-mem-size; do
		f=/sys/bus/pci/devices/$VFIO_SELFTESTS_BDF/of_node/$p
		[ -f "$f" ] && echo "# ENV: $p=0x$(od -An -tx1 "$f" | tr -d ' \n')"
	done
fi
