"""Things defined in one place: the splat patterns (guest and reporter), the
hardware kernel log's suite window, the cell.json writer, the variants."""
import json
import os
import subprocess
import sys

from conftest import RIG, data

sys.path.insert(0, RIG)
import cell_record  # noqa: E402
import console_scan  # noqa: E402
import results  # noqa: E402

REPORT = os.path.join(RIG, "report.py")


def hardware(tmp_path, console):
    out = tmp_path / "hw"
    r = subprocess.run([sys.executable, REPORT, "hardware", data("hardware-gh200.log"),
                        "--out", out, "--console", console, "--where", "hardware: test"],
                       capture_output=True, text=True, timeout=60)
    cell = results.load_run(str(out)).cells[0]
    return r, cell


def test_patterns_file_is_the_one_the_guest_gets():
    init = open(os.path.join(RIG, "guest", "init")).read()
    mk = open(os.path.join(RIG, "..", "scripts", "mkinitramfs.sh")).read()
    assert "/rig/splat-patterns" in init and "rig/splat-patterns" in mk
    assert console_scan.PATTERNS_FILE == os.path.join(RIG, "splat-patterns")


def test_patterns_match_reports_not_boot_chatter():
    hits = ["WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x4", "BUG: KASAN: slab-use-after-free in f",
            "Internal error: Oops: 0000000096000004 [#1] SMP", "UBSAN: shift-out-of-bounds in x",
            "WARNING: possible circular locking dependency detected",
            "INFO: task kworker:1 blocked for more than 120 seconds."]
    chatter = ["kasan: KernelAddressSanitizer initialized (generic)",
               "Kernel command line: oops=panic", "kvm [1]: VHE mode initialized successfully"]
    assert console_scan.find_splats(hits) == hits
    assert console_scan.find_splats(chatter) == []


def test_window_is_between_the_markers():
    lines = open(data("dmesg-hardware.log")).readlines()
    window = console_scan.suite_window(lines)
    assert [l.split("] ", 1)[1].strip() for l in window] == [
        "test_pfnmap: region 0x880000000+0x40000000"]
    assert console_scan.suite_window(lines[:5]) is None
    # No end marker (the run died): everything after the begin marker.
    assert len(console_scan.suite_window(lines[:7])) == 1


def test_hardware_ignores_a_boot_warning(tmp_path):
    r, cell = hardware(tmp_path, data("dmesg-hardware.log"))
    assert not cell.failures, cell.failures
    assert (tmp_path / "hw" / "cells" / "patched-hardware" / "kernel-log-full.txt").is_file()


def test_hardware_counts_a_splat_in_the_window(tmp_path):
    log = tmp_path / "dmesg.log"
    lines = open(data("dmesg-hardware.log")).readlines()
    lines.insert(6, "[  120.000000] BUG: KASAN: slab-use-after-free in stage2_show+0x1c/0x80\n")
    log.write_text("".join(lines))
    r, cell = hardware(tmp_path, log)
    assert any("slab-use-after-free" in f for f in cell.failures), cell.failures


def test_hardware_without_markers_says_it_did_not_check(tmp_path):
    log = tmp_path / "dmesg.log"
    log.write_text("[    1.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x4\n")
    r, cell = hardware(tmp_path, log)
    assert "pfnmap-suite: begin" in r.stderr and "not checked" in r.stderr
    assert not cell.failures


def test_cell_record_is_what_the_reporter_reads(tmp_path):
    cell_record.write(str(tmp_path), "patched", "max-vhe", "max", "vhe", True, "qemu ...", 12.34,
                      "cell-timeout", "cell did not finish within 10s")
    rec = json.loads((tmp_path / "cell.json").read_text())
    assert rec["duration_s"] == 12.3 and rec["mte"] is True and rec["status"] == "cell-timeout"
    r = subprocess.run([sys.executable, os.path.join(RIG, "cell_record.py"), str(tmp_path / "x"),
                        "--kernel", "k", "--cell", "c", "--cpu", "max", "--mode", "vhe",
                        "--mte", "off", "--status", "bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_variant_names_and_scale(monkeypatch):
    import variants
    assert [variants.suffix(v) for v in variants.VARIANTS] == ["", "-debug", "-64k", "-debug-64k"]
    monkeypatch.delenv("RIG_DEBUG_TIMEOUT_SCALE", raising=False)
    assert [variants.timeout_scale(v) for v in variants.VARIANTS] == [1, 3, 1, 3]
    r = subprocess.run([sys.executable, os.path.join(RIG, "variants.py"), "suffix", "fast"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "unknown variant 'fast'" in r.stderr


def test_variant_page_sizes_and_names():
    import variants
    assert [variants.page_size(v) for v in variants.VARIANTS] == ["4k", "4k", "64k", "64k"]
    # lava-validate.sh takes the list from here.
    r = subprocess.run([sys.executable, os.path.join(RIG, "variants.py"), "names"],
                       capture_output=True, text=True, check=True)
    assert r.stdout.split() == list(variants.VARIANTS)
