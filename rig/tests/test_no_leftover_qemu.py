"""The rig never leaves an emulator behind: a boot timeout, a cell timeout
and an interrupt of the whole matrix each kill QEMU. A stand-in
qemu-system-aarch64 (a shell script that sleeps, and records its pid) takes
the place of the real one, so these run in seconds and need no kernel."""
import json
import os
import signal
import subprocess
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FAKE_QEMU = """#!/bin/bash
# Stand-in for qemu-system-aarch64: announce init when asked, then hang.
echo $$ >>"{pids}"
for a in "$@"; do
	case "$a" in file:*) [ -z "{boot}" ] || echo "rig: init started" >"${{a#file:}}" ;; esac
done
exec sleep 600
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def default_signals():
    """In the child before exec: SIGINT and SIGTERM at their defaults."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def fake_env(tmp_path, boots):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    pids = tmp_path / "qemu.pids"
    q = bindir / "qemu-system-aarch64"
    q.write_text(FAKE_QEMU.format(pids=pids, boot="1" if boots else ""))
    q.chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", RIG_NVGRACE="0")
    return env, pids


def qemu_pids(pids):
    return [int(p) for p in pids.read_text().split()] if pids.exists() else []


def wait_for(what, deadline_s=120.0):
    """Poll until what() is true: an event, with a deadline far beyond what
    a loaded 2-core machine needs (a fixed short wait failed under load)."""
    end = time.monotonic() + deadline_s
    while not what():
        if time.monotonic() > end:
            return False
        time.sleep(0.1)
    return True


def boot_cell(tmp_path, env, *extra):
    (tmp_path / "Image").write_text("")
    (tmp_path / "initrd").write_text("")
    return subprocess.run(
        [f"{TOP}/scripts/boot-cell.sh", "--image", str(tmp_path / "Image"),
         "--initrd", str(tmp_path / "initrd"), "--cpu", "max", "--mode", "vhe",
         "--mte", "off", "--kernel", "k", "--cell", "c", "--out", str(tmp_path / "out"),
         *extra], env=env, capture_output=True, text=True, timeout=180)


def test_boot_timeout_kills_qemu(tmp_path):
    env, pids = fake_env(tmp_path, boots=False)
    r = boot_cell(tmp_path, env, "--boot-timeout", "2")
    assert r.returncode == 1
    assert "boot-timeout" in r.stderr
    cell = json.load(open(tmp_path / "out" / "cell.json"))
    assert cell["status"] == "boot-timeout"
    assert qemu_pids(pids) and not any(alive(p) for p in qemu_pids(pids))


def test_cell_timeout_kills_qemu(tmp_path):
    env, pids = fake_env(tmp_path, boots=True)
    r = boot_cell(tmp_path, env, "--cell-timeout", "3")
    assert r.returncode == 1
    cell = json.load(open(tmp_path / "out" / "cell.json"))
    assert cell["status"] == "cell-timeout", cell
    assert qemu_pids(pids) and not any(alive(p) for p in qemu_pids(pids))


def test_outside_sigkill_is_not_a_timeout(tmp_path):
    env, pids = fake_env(tmp_path, boots=True)
    (tmp_path / "Image").write_text("")
    (tmp_path / "initrd").write_text("")
    p = subprocess.Popen(
        [f"{TOP}/scripts/boot-cell.sh", "--image", str(tmp_path / "Image"),
         "--initrd", str(tmp_path / "initrd"), "--cpu", "max", "--mode", "vhe",
         "--mte", "off", "--kernel", "k", "--cell", "c", "--out", str(tmp_path / "out")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: qemu_pids(pids))
    time.sleep(1.5)
    os.kill(qemu_pids(pids)[0], signal.SIGKILL)     # what the OOM killer does
    p.wait(timeout=120)
    cell = json.load(open(tmp_path / "out" / "cell.json"))
    assert cell["status"] == "qemu-killed", cell
    assert "OOM" in cell["status_detail"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_matrix_leaves_no_qemu(tmp_path, sig):
    env, pids = fake_env(tmp_path, boots=True)
    build = tmp_path / "build"
    for k in ("baseline", "patched"):
        (build / "kernels" / k / "arch/arm64/boot").mkdir(parents=True)
        (build / "kernels" / k / "arch/arm64/boot/Image").write_text("")
        (build / "initramfs").mkdir(exist_ok=True)
        (build / "initramfs" / f"{k}.cpio.gz").write_text("")
    # Its own session, as a terminal's Ctrl-C reaches the foreground group,
    # with the signals a terminal's shell leaves at their defaults: a CI
    # job started in the background inherits SIGINT ignored, and bash
    # cannot trap a signal ignored on entry.
    p = subprocess.Popen([f"{TOP}/scripts/run-matrix.sh", "--run-dir", str(tmp_path / "run"),
                          "--build", str(build), "--cells", "max-vhe n1-vhe"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, preexec_fn=default_signals)
    try:
        assert wait_for(lambda: len(qemu_pids(pids)) >= 2), "two cells should be running"
        os.killpg(p.pid, sig)
        p.wait(timeout=120)
        assert p.returncode != 0
        # Each cell kills its QEMU on the way out: wait for that, not a fixed time.
        assert wait_for(lambda: not any(alive(q) for q in qemu_pids(pids)), 30)
    finally:
        # A failed run must not leave its matrix or stand-in QEMUs behind.
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        for q in qemu_pids(pids):
            if alive(q):
                os.kill(q, signal.SIGKILL)
