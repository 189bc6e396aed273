# Rig hook, sourced by /init after the tests (busybox sh): give the VFIO
# device back to the driver it had. No "exit" and no "set -e": sourced.
if [ -n "${VFIO_SELFTESTS_BDF:-}" ] && [ -x /kselftest/vfio/cleanup.sh ]; then
	/kselftest/vfio/cleanup.sh "$VFIO_SELFTESTS_BDF" ||
		echo "# rig: restoring $VFIO_SELFTESTS_BDF failed"
fi
