"""rig/lava_jobs.py: LAVA jobs from boot-cell.sh's command line, the device
they need, and LAVA's monitor results against the rig's own parse."""
import argparse
import os
import re
import subprocess

import pytest

from conftest import RIG, binary_tap, framed

import lava_jobs
import rig_stream

TOP = os.path.dirname(RIG)
URLS = {"kernel": "file:///b/Image", "initrd": "file:///b/initrd.cpio.gz",
        "dtb": "file:///b/cell.dtb"}


def boot_cell_like(cpu="max", machine="virt,virtualization=on,gic-version=3,mte=on",
                   nvgrace=True, extra=()):
    """A QEMU command line shaped like boot-cell.sh's."""
    out = lava_jobs.OUT
    argv = ["qemu-system-aarch64", "-M", machine, "-cpu", cpu, "-smp", "2", "-m", "8G",
            "-display", "none", "-monitor", "none", "-no-reboot", "-nic", "none",
            "-kernel", lava_jobs.IMAGE, "-initrd", lava_jobs.INITRD,
            "-append", "console=ttyAMA0 mem=2G rig.timeout=900 rig.tests=*",
            "-serial", f"file:{out}/console.log", "-device", "virtio-serial-device",
            "-chardev", f"file,id=results,path={out}/results.tap",
            "-device", "virtconsole,chardev=results"]
    if nvgrace:
        argv += ["-object", "memory-backend-ram,id=gpubar,size=64M",
                 "-device", "ivshmem-plain,memdev=gpubar,bus=pcie.0,addr=0x2",
                 "-dtb", f"{out}/nvgrace.dtb"]
    return argv + list(extra)


# ------------------------------------------------------------ the command line

def test_lava_parts_split_the_rig_command_line():
    ctx, images, append = lava_jobs.lava_parts(boot_cell_like())
    assert ctx["arch"] == "arm64" and ctx["cpu"] == "max" and ctx["memory"] == "8G"
    assert ctx["machine"] == "virt,virtualization=on,gic-version=3,mte=on"
    # What LAVA's device does not provide itself passes through unchanged.
    assert ctx["extra_options"] == [
        "-smp 2", "-no-reboot", "-nic none", "-object memory-backend-ram,id=gpubar,size=64M",
        "-device ivshmem-plain,memdev=gpubar,bus=pcie.0,addr=0x2"]
    assert set(images) == {"kernel", "initrd", "dtb"}
    assert append == "console=ttyAMA0 mem=2G rig.timeout=900 rig.tests=*"
    # The results channel is a host file: left out, so the init uses the console.
    assert not any("virtconsole" in e or "results" in e for e in ctx["extra_options"])


def test_a_new_rig_option_reaches_the_job():
    ctx, _, _ = lava_jobs.lava_parts(boot_cell_like(extra=["-device", "foo,bar=1 baz"]))
    assert ctx["extra_options"][-1] == "-device 'foo,bar=1 baz'"


def test_an_option_with_a_host_file_is_refused_not_dropped():
    with pytest.raises(lava_jobs.InputError, match="does not know"):
        lava_jobs.lava_parts(boot_cell_like(extra=["-drive", f"file={lava_jobs.OUT}/d.img"]))


def test_a_command_line_without_a_kernel_is_refused():
    argv = [w for w in boot_cell_like() if w not in ("-kernel", lava_jobs.IMAGE)]
    with pytest.raises(lava_jobs.InputError):
        lava_jobs.lava_parts(argv)


def test_every_matrix_cell_comes_from_boot_cell_sh():
    """The real boot-cell.sh --print-qemu: it needs no QEMU and no files."""
    for cell, cpu, mode, mte in lava_jobs.read_matrix(TOP):
        argv = lava_jobs.boot_cell_argv(cell, cpu, mode, mte, "patched", top=TOP)
        job = lava_jobs.qemu_job(cell, cpu, mode, mte, "patched", argv, URLS)
        ctx = job["context"]
        assert ctx["cpu"] == cpu
        assert ("mte=on" in ctx["machine"]) == (mte == "on")
        kernel_arg = job["actions"][0]["deploy"]["images"]["kernel"]["image_arg"]
        assert ("kvm-arm.mode=nvhe" in kernel_arg) == (mode == "nvhe")
        assert kernel_arg.startswith('-kernel {kernel} -append "console=ttyAMA0 ')
        assert job["actions"][0]["deploy"]["images"]["dtb"]["url"] == URLS["dtb"]


def test_without_nvgrace_there_is_no_device_tree(monkeypatch):
    argv = lava_jobs.boot_cell_argv("max-vhe", "max", "vhe", "on", "patched",
                                    nvgrace=False, top=TOP)
    job = lava_jobs.qemu_job("max-vhe", "max", "vhe", "on", "patched", argv, URLS)
    assert "dtb" not in job["actions"][0]["deploy"]["images"]
    assert not any("ivshmem" in e for e in job["context"]["extra_options"])


def test_debug_variant_scales_the_timeouts(monkeypatch):
    monkeypatch.setenv("RIG_DEBUG_TIMEOUT_SCALE", "3")
    argv = lava_jobs.boot_cell_argv("max-vhe", "max", "vhe", "on", "patched", "debug", top=TOP)
    debug = lava_jobs.qemu_job("max-vhe", "max", "vhe", "on", "patched-debug", argv, URLS, "debug")
    argv = lava_jobs.boot_cell_argv("max-vhe", "max", "vhe", "on", "patched", top=TOP)
    release = lava_jobs.qemu_job("max-vhe", "max", "vhe", "on", "patched", argv, URLS)
    assert "rig.timeout_scale=3" in debug["actions"][0]["deploy"]["images"]["kernel"]["image_arg"]
    test = [a["test"]["timeout"]["seconds"] for a in (debug["actions"][2], release["actions"][2])]
    assert test[0] == 3 * test[1]


# ------------------------------------------------------------ LAVA's own checks

def test_jobs_and_devices_pass_lavas_schema():
    schemas = pytest.importorskip("lava_common.schemas")
    device_schema = pytest.importorskip("lava_common.schemas.device")
    job = lava_jobs.qemu_job("max-vhe", "max", "vhe", "on", "patched", boot_cell_like(), URLS)
    schemas.validate(job, strict=True)
    device_schema.validate(lava_jobs.render_device(job["context"]))


def test_hardware_template_passes_lavas_schema():
    schemas = pytest.importorskip("lava_common.schemas")
    args = argparse.Namespace(
        device_type="dt", kernel_url="https://x/Image", rootfs_url="https://x/r.tar.xz",
        kselftest_url="https://x/kselftest-pfnmap.tar.gz", kernel_name="patched",
        where="hardware: test", provider_base="0x880000000", provider_size="0x40000000",
        vfio_bdf="")
    job = lava_jobs.hardware_job(args)
    schemas.validate(job, strict=True)
    steps = "\n".join(job["actions"][2]["test"]["definitions"][0]["repository"]["run"]["steps"])
    assert "./run_kselftest.sh" in steps and "report.py hardware results.tap" in steps
    assert "lava-test-case" in steps


def test_device_dictionary_renders_what_lava_jobs_renders(tmp_path):
    """rig/lava/devices/qemu-rig.jinja2 (for lava-server) and render_device()
    (for offline lava-run) must give QEMU the same options. A stand-in for
    qemu.jinja2 provides the block the dictionary replaces."""
    jinja2 = pytest.importorskip("jinja2")
    sandbox = pytest.importorskip("jinja2.sandbox")
    yaml = pytest.importorskip("yaml")
    (tmp_path / "qemu.jinja2").write_text(
        "actions:\n  boot:\n    methods:\n      qemu:\n        parameters:\n"
        "          options:\n{% block qemu_options %}{% endblock qemu_options %}\n")
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(tmp_path)),
                                  jinja2.FileSystemLoader(os.path.join(RIG, "lava", "devices"))])
    env = sandbox.SandboxedEnvironment(loader=loader, autoescape=False)
    ctx, _, _ = lava_jobs.lava_parts(boot_cell_like())
    rendered = yaml.safe_load(env.get_template("qemu-rig.jinja2").render(**ctx))
    params = rendered["actions"]["boot"]["methods"]["qemu"]["parameters"]
    options, extra = lava_jobs.device_options(ctx)
    assert params["options"] == options and params["extra"] == extra
    device = lava_jobs.render_device(ctx)["actions"]["boot"]["methods"]["qemu"]["parameters"]
    assert device["options"] == options and device["extra"] == extra


# ------------------------------------------------------------ the monitor

def run_monitor(tmp_path, text, monitor=None):
    """LAVA's TestMonitorAction, replayed: the console text goes through a
    pty (as QEMU's stdio does) into pexpect with LAVA's ShellCommand
    settings, and each match becomes a result the way monitor.py makes it."""
    pexpect = pytest.importorskip("pexpect")
    monitor = monitor or {"name": lava_jobs.SUITE, "start": "# rig-begin", "end": "# rig-end",
                          "pattern": lava_jobs.MONITOR_PATTERN,
                          "fixupdict": lava_jobs.FIXUPDICT}
    console = tmp_path / "console.txt"
    # The guest's tty writes "\r\n"; the pty adds another "\r".
    console.write_text(text.replace("\n", "\r\n"))
    child = pexpect.spawn("cat", [str(console)], encoding="utf-8", searchwindowsize=4000,
                          maxread=2000, timeout=10)
    child.expect(monitor["start"])
    records = []
    while True:
        i = child.expect([pexpect.EOF, pexpect.TIMEOUT, monitor["end"], monitor["pattern"]])
        if i != 3:
            break
        m = child.match.groupdict()
        result = monitor["fixupdict"].get(m["result"], m["result"])
        assert result in ("pass", "fail", "skip", "unknown")
        records.append({"definition": monitor["name"], "result": result,
                        "case": re.sub(r"\W+", "_", m["test_case_id"].strip().lower()),
                        "extra": {"test_case_id": m["test_case_id"].strip()}})
    child.close()
    return records


def sample_stream():
    return framed(
        binary_tap("kvm:pfnmap_memslot_test", [
            ("memslot.cacheable.create", "MS-1", "ok"),
            ("memslot.mixedmap.create", "MS-3", "ok # SKIP MS-3 covers VM_PFNMAP"),
            ("memslot.nc.create", "MS-2", "not ok"),
            ("memslot.todo.later", "MS-2", "not ok # TODO not yet"),
            ("memslot.todo.lucky", "MS-2", "ok # TODO flaky"),
            ("memslot.xfail.known", "MS-2", "ok # XFAIL known"),
            ("memslot.skipped.spelled", "MS-2", "ok # SKIPPED: no FWB")]),
        # The harness's own SKIP diagnostic must not become a result, nor
        # a diagnostic that starts with "ok," or "not ok,".
        ["# #      SKIP      the refusal path needs a CPU without FWB",
         "# # ok, the provider is there", "# # not ok, retrying"],
        binary_tap("kvm:pfnmap_s2attr_test", [("s2.wb.fault_attr", "S2-1", "ok")]),
        ["# SPLAT: kvm:pfnmap_s2attr_test: WARNING: CPU: 1 PID: 80 at mmu.c:1234"],
        ["TAP version 13", "1..1", "# selftests: kvm: pfnmap_block_test",
         "not ok 1 selftests: kvm: pfnmap_block_test # TIMEOUT 300 seconds"],
        ["TAP version 13", "1..1", "# selftests: vfio: nvgrace_mmap_test", "# 1..0 # SKIP no device",
         "ok 1 selftests: vfio: nvgrace_mmap_test # SKIP"])


def test_lava_and_the_rig_agree_on_every_case(tmp_path):
    text = sample_stream()
    records = run_monitor(tmp_path, text)
    stream = rig_stream.read_stream(text.splitlines(keepends=True))
    agree, problems = lava_jobs.compare(records, stream)
    assert problems == []
    assert agree == len(stream.cases) == 10
    by_id = {r["extra"]["test_case_id"]: r["result"] for r in records}
    assert by_id["memslot.mixedmap.create"] == "skip"
    assert by_id["memslot.todo.later"] == "fail"  # not ok # TODO is a failure
    assert by_id["memslot.todo.lucky"] == "unknown"
    assert by_id["memslot.xfail.known"] == "fail"
    assert by_id["memslot.skipped.spelled"] == "skip"
    assert by_id["SPLAT: kvm:pfnmap_s2attr_test"] == "fail"
    assert by_id["selftests: kvm: pfnmap_block_test"] == "fail"
    assert not any("refusal path" in r["extra"]["test_case_id"] for r in records)
    assert not any(r["extra"]["test_case_id"].startswith(",") for r in records)
    # The splat fails the binary's passing case in both views.
    assert [c.result for c in stream.cases if c.name == "s2.wb.fault_attr"] == ["fail"]


def test_a_disagreement_is_reported(tmp_path):
    text = sample_stream()
    stream = rig_stream.read_stream(text.splitlines(keepends=True))
    records = run_monitor(tmp_path, text)
    flipped = [dict(r, result="pass") if r["extra"]["test_case_id"] == "memslot.nc.create" else r
               for r in records]
    _, problems = lava_jobs.compare(flipped, stream)
    assert problems == ["kvm:pfnmap_memslot_test: memslot.nc.create: rig fail, LAVA pass"]
    dropped = [r for r in records if r["extra"]["test_case_id"] != "memslot.cacheable.create"]
    _, problems = lava_jobs.compare(dropped, stream)
    assert problems == ["kvm:pfnmap_memslot_test: memslot.cacheable.create: "
                        "in the rig's parse, not in LAVA's results"]
    extra = records + [{"result": "pass", "extra": {"test_case_id": "selftests: kvm: ghost"}}]
    _, problems = lava_jobs.compare(extra, stream)
    assert problems == ["kvm:ghost: in LAVA's results (pass), not in the rig's parse"]


def test_read_lava_log_gives_results_and_console():
    lines = [
        '{"dt": "t", "lvl": "info", "msg": "start: 3 lava-test-monitor-retry"}\n',
        '{"dt": "t", "lvl": "target", "msg": "# rig-begin"}\n',
        '- {"dt": "t", "lvl": "target", "msg": "# # say \\\\\\"hi\\\\\\""}\n',
        '{"dt": "t", "lvl": "results", "msg": {"definition": "pfnmap-conformance", '
        '"case": "a", "result": "pass", "extra": {"test_case_id": "a"}}}\n',
        "not yaml at all\n",
    ]
    results, console = lava_jobs.read_lava_log(lines)
    assert [r["case"] for r in results] == ["a"]
    assert console == ["# rig-begin\n", '# # say "hi"\n']


# ------------------------------------------------------------ the command

def test_jobs_command_writes_a_job_and_a_device_per_cell(tmp_path):
    pytest.importorskip("yaml")
    out = tmp_path / "jobs"
    rc = lava_jobs.main(["jobs", "--out", str(out), "--cells", "n1-vhe", "--kernels", "patched",
                         "--build", "/b"])
    assert rc == 0
    assert sorted(os.listdir(out)) == ["device-n1-vhe.yaml", "patched-n1-vhe.yaml"]
    text = (out / "patched-n1-vhe.yaml").read_text()
    assert text.startswith("# LAVA job generated by rig/lava_jobs.py")
    assert "url: file:///b/kernels/patched/arch/arm64/boot/Image" in text
    assert lava_jobs.main(["jobs", "--out", str(out), "--cells", "nope"]) == 2


def test_device_command_renders_from_a_job(tmp_path):
    yaml = pytest.importorskip("yaml")
    job = lava_jobs.qemu_job("n1-vhe", "neoverse-n1", "vhe", "off", "patched",
                             boot_cell_like(cpu="neoverse-n1"), URLS)
    (tmp_path / "job.yaml").write_text(lava_jobs.dump_yaml(job))
    assert lava_jobs.main(["device", str(tmp_path / "job.yaml"),
                           "--out", str(tmp_path / "d.yaml")]) == 0
    device = yaml.safe_load((tmp_path / "d.yaml").read_text())
    assert "-cpu neoverse-n1" in device["actions"]["boot"]["methods"]["qemu"]["parameters"]["options"]


def test_print_qemu_leaves_no_files(tmp_path):
    out = tmp_path / "never"
    p = subprocess.run([os.path.join(TOP, "scripts", "boot-cell.sh"), "--print-qemu",
                        "--image", "I", "--initrd", "R", "--cpu", "max", "--mode", "vhe",
                        "--mte", "on", "--kernel", "k", "--cell", "c", "--out", str(out),
                        "--nvgrace"], stdout=subprocess.PIPE, check=True)
    argv = p.stdout.decode().split("\0")
    assert argv[0] == "qemu-system-aarch64" and f"{out}/nvgrace.dtb" in argv
    assert not out.exists()


def test_job_cell_timeout_follows_the_runs_raise(tmp_path):
    # run-matrix.sh raises the cell timeout to what the tests add up to;
    # the LAVA job must give the same, not the 2400 s default.
    install = tmp_path / "selftests" / "kselftest_install"
    (install / "kvm").mkdir(parents=True)
    (install / "kvm" / "settings").write_text("timeout=120\n")
    (install / "kselftest-list.txt").write_text(
        "".join(f"kvm:pfnmap_t{i}\n" for i in range(16)))
    got = lava_jobs.cell_timeout_for(str(tmp_path))
    assert got == 16 * 300 + 180  # rig/test-timeouts gives kvm:pfnmap_* 300 s
    assert lava_jobs.cell_timeout_for(str(tmp_path / "none")) == 2400


# ------------------------------------------------------------ 64 KiB pages

def _jobs(tmp_path, variant):
    yaml = pytest.importorskip("yaml")
    out = tmp_path / variant
    rc = lava_jobs.main(["jobs", "--out", str(out), "--cells", "max-vhe", "--kernels", "patched",
                         "--build", "/b", "--variant", variant])
    assert rc == 0
    return out, {p.name: yaml.safe_load(p.read_text()) for p in out.iterdir()}


@pytest.mark.parametrize("variant, kernel", [("release-64k", "patched-64k"),
                                             ("debug-64k", "patched-debug-64k")])
def test_64k_variants_get_their_own_kernels_and_say_the_page_size(tmp_path, monkeypatch,
                                                                   variant, kernel):
    monkeypatch.setenv("RIG_DEBUG_TIMEOUT_SCALE", "3")
    _, files = _jobs(tmp_path, variant)
    job = files[f"{kernel}-max-vhe.yaml"]
    images = job["actions"][0]["deploy"]["images"]
    assert images["kernel"]["url"] == f"file:///b/kernels/{kernel}/arch/arm64/boot/Image"
    assert images["initrd"]["url"] == f"file:///b/initramfs/{kernel}.cpio.gz"
    assert images["dtb"]["url"] == "file:///b/lava/dtb/max-vhe.dtb"
    assert job["metadata"]["rig.kernel"] == kernel
    assert job["metadata"]["rig.variant"] == variant
    assert job["metadata"]["rig.page_size"] == "64k"
    assert "64 KiB pages" in job["job_name"] and kernel in job["job_name"]
    # The device written for the job says which page size it is for.
    device = files["device-max-vhe-64k.yaml"]
    assert {"rig_page_size": "64k"} in device["static_info"]
    scaled = "rig.timeout_scale=3" in images["kernel"]["image_arg"]
    assert scaled == variant.startswith("debug")


def test_64k_timeouts_scale_as_4k_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("RIG_DEBUG_TIMEOUT_SCALE", "3")
    seconds = {}
    for variant, kernel in (("release", "patched"), ("release-64k", "patched-64k"),
                            ("debug-64k", "patched-debug-64k")):
        _, files = _jobs(tmp_path, variant)
        job = files[f"{kernel}-max-vhe.yaml"]
        seconds[variant] = (job["timeouts"]["job"]["seconds"],
                            job["actions"][1]["boot"]["timeout"]["seconds"],
                            job["actions"][2]["test"]["timeout"]["seconds"])
    assert seconds["release-64k"] == seconds["release"]
    assert seconds["debug-64k"][2] == 3 * seconds["release-64k"][2]
    assert seconds["debug-64k"][1] > seconds["release-64k"][1]


def test_4k_jobs_and_devices_say_4k(tmp_path):
    _, files = _jobs(tmp_path, "release")
    assert files["patched-max-vhe.yaml"]["metadata"]["rig.page_size"] == "4k"
    assert "4 KiB pages" in files["patched-max-vhe.yaml"]["job_name"]
    assert {"rig_page_size": "4k"} in files["device-max-vhe.yaml"]["static_info"]


def test_device_command_keeps_the_jobs_page_size(tmp_path):
    yaml = pytest.importorskip("yaml")
    out, files = _jobs(tmp_path, "release-64k")
    assert lava_jobs.main(["device", str(out / "patched-64k-max-vhe.yaml"),
                           "--out", str(tmp_path / "d.yaml")]) == 0
    assert yaml.safe_load((tmp_path / "d.yaml").read_text()) == files["device-max-vhe-64k.yaml"]


def test_64k_jobs_and_devices_pass_lavas_schema(tmp_path):
    schemas = pytest.importorskip("lava_common.schemas")
    device_schema = pytest.importorskip("lava_common.schemas.device")
    _, files = _jobs(tmp_path, "debug-64k")
    schemas.validate(files["patched-debug-64k-max-vhe.yaml"], strict=True)
    device_schema.validate(files["device-max-vhe-64k.yaml"])
