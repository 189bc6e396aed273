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


def hardware_args(**kw):
    """cmd_hardware's arguments, as its parser gives them."""
    args = dict(
        device_type="dt", kernel_url="https://x/Image", rootfs_url="https://x/r.tar.xz",
        kselftest_url="https://x/kselftest-pfnmap.tar.gz", kernel_name="patched",
        where="hardware: test", provider_base="0x880000000", provider_size="0x40000000",
        provider_url="", upload_url="", vfio_bdf="")
    return argparse.Namespace(**(args | kw))


def hardware_definition(job):
    return job["actions"][2]["test"]["definitions"][0]["repository"]


@pytest.mark.parametrize("kw", [{}, {"provider_base": "", "provider_size": ""},
                                {"provider_url": "https://x/test_pfnmap.ko",
                                 "upload_url": "https://x/upload/"}])
def test_hardware_template_passes_lavas_schema(kw):
    schemas = pytest.importorskip("lava_common.schemas")
    job = lava_jobs.hardware_job(hardware_args(**kw))
    schemas.validate(job, strict=True)
    steps = "\n".join(hardware_definition(job)["run"]["steps"])
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


# ------------------------------------------------------------ the hardware steps

def test_hardware_steps_are_shell_valid():
    """LAVA writes the steps one after the other into run.sh, after the
    params as NAME='value' lines and "set -e"; the device's shell may be
    dash, so both shells must read them."""
    for kw in ({}, {"provider_base": ""}, {"provider_url": "https://x/m.ko",
                                           "upload_url": "https://x/u/"}):
        definition = hardware_definition(lava_jobs.hardware_job(hardware_args(**kw)))
        script = "\n".join(definition["run"]["steps"]) + "\n"
        for shell in ("bash", "dash"):
            p = subprocess.run([shell, "-n"], input=script.encode(), stderr=subprocess.PIPE,
                               check=False)
            assert p.returncode == 0, (shell, p.stderr.decode())


def test_hardware_template_has_provider_and_upload_params():
    definition = hardware_definition(lava_jobs.hardware_job(hardware_args(
        provider_url="https://x/test_pfnmap.ko", upload_url="https://x/u/")))
    params = definition["params"]
    assert params["PROVIDER_URL"] == "https://x/test_pfnmap.ko"
    assert params["UPLOAD_URL"] == "https://x/u/"
    parser_help = subprocess.run([os.path.join(RIG, "lava_jobs.py"), "hardware", "--help"],
                                 stdout=subprocess.PIPE, check=True).stdout.decode()
    assert "--provider-url" in parser_help and "--upload-url" in parser_help


FAKE_REPORT = '''\
import json, os, sys
if sys.argv[1] == "hardware":
    out = sys.argv[sys.argv.index("--out") + 1]
    os.makedirs(out)
    with open(os.path.join(out, "summary.json"), "w") as f:
        f.write("{}")
    sys.exit(int(os.environ.get("FAKE_REPORT_RC", "0")))
print(json.dumps({"files": [{"cases": [
    {"binary": "kvm:pfnmap_memslot_test", "name": "memslot.cacheable.create", "result": "pass"}]}]}))
'''
STUB = '#!/bin/sh\necho "$(basename "$0") $*" >>"$CALLS"\n'
# insmod and modprobe fail with MODULE_RC.
MODULE_STUB = STUB + 'exit "${MODULE_RC:-0}"\n'


def run_hardware_steps(tmp_path, env=None, real_report=False, **kw):
    """Run the template's steps as LAVA's run.sh would, in a folder of
    tmp_path, with stand-ins for the device's commands (a file for
    /dev/kmsg, logging stubs for insmod, modprobe, mount, dmesg and LAVA's
    helpers) and real curl for file:// URLs. @real_report: the tarball is
    scripts/package-kselftest.sh's, with the rig's reporter; else a stand-in
    reporter exits with FAKE_REPORT_RC. Returns (exit status, output, the
    stubs' calls, the work folder)."""
    import tarfile
    kst = tmp_path / "pkg" / "kselftest_install"
    kst.mkdir(parents=True)
    (kst / "run_kselftest.sh").write_text(
        "#!/bin/sh\necho 'TAP version 13'\necho '1..1'\n"
        "echo 'ok 1 selftests: kvm: pfnmap_memslot_test'\n")
    (kst / "run_kselftest.sh").chmod(0o755)
    tarball = tmp_path / "kselftest-pfnmap.tar.gz"
    if real_report:
        subprocess.run([os.path.join(TOP, "scripts", "package-kselftest.sh"),
                        str(tmp_path / "pkg"), str(tarball)], stdout=subprocess.PIPE, check=True)
    else:
        (kst / "pfnmap-report").mkdir()
        (kst / "pfnmap-report" / "report.py").write_text(FAKE_REPORT)
        with tarfile.open(tarball, "w:gz") as t:
            t.add(kst, arcname="kselftest_install")
    (tmp_path / "test_pfnmap.ko").write_text("not really a module")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in ("insmod", "modprobe", "mount", "lava-test-case", "lava-test-reference"):
        (stubs / name).write_text(MODULE_STUB if name in ("insmod", "modprobe") else STUB)
        (stubs / name).chmod(0o755)
    (stubs / "dmesg").write_text(
        "#!/bin/sh\necho 'pfnmap-suite: begin'\necho 'pfnmap-suite: end'\n")
    (stubs / "dmesg").chmod(0o755)
    definition = hardware_definition(lava_jobs.hardware_job(hardware_args(
        kselftest_url=f"file://{tarball}", **kw)))
    steps = "\n".join(definition["run"]["steps"]) + "\n"
    # The steps run where LAVA runs them, the test definition's folder.
    assert "/tmp" not in steps
    assert "/dev/kmsg" in steps
    params = "".join(f"{k}='{v}'\n" for k, v in definition["params"].items())
    work = tmp_path / "work"
    work.mkdir()
    (work / "run.sh").write_text(params + "set -e\n"
                                 + steps.replace("/dev/kmsg", str(tmp_path / "kmsg")))
    calls = tmp_path / "calls"
    calls.write_text("")
    p = subprocess.run(["dash", "run.sh"], cwd=work, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, check=False,
                       env={"PATH": f"{stubs}:/usr/bin:/bin", "CALLS": str(calls)} | (env or {}))
    return p.returncode, p.stdout.decode(), calls.read_text().splitlines(), work


def test_hardware_deploys_the_provider_module_it_is_given(tmp_path):
    ko = f"file://{tmp_path}/test_pfnmap.ko"
    rc, out, calls, work = run_hardware_steps(tmp_path, provider_url=ko)
    assert rc == 0, out
    insmod = [c for c in calls if c.startswith("insmod ")]
    assert len(insmod) == 1 and insmod[0].endswith("test_pfnmap.ko base=0x880000000 size=0x40000000")
    assert not any(c.startswith("modprobe ") for c in calls)
    assert "lava-test-case test-pfnmap-provider --result pass" in calls
    # The reporter sees the provider as the rig's init reports it.
    tap = (work / "kselftest_install" / "results.tap").read_text()
    assert "# ENV: provider=test_pfnmap base=0x880000000 size=0x40000000" in tap


def test_hardware_falls_back_to_modprobe(tmp_path):
    rc, out, calls, _ = run_hardware_steps(tmp_path)
    assert rc == 0, out
    assert "modprobe test_pfnmap base=0x880000000 size=0x40000000" in calls
    assert not any(c.startswith("insmod ") for c in calls)
    assert "lava-test-case test-pfnmap-provider --result pass" in calls


@pytest.mark.parametrize("how", ["no such module file", "insmod fails", "modprobe fails"])
def test_hardware_provider_that_does_not_load_fails_its_case(tmp_path, how):
    kw = {"no such module file": {"provider_url": "file:///nonexistent/test_pfnmap.ko"},
          "insmod fails": {"provider_url": f"file://{tmp_path}/test_pfnmap.ko"},
          "modprobe fails": {}}[how]
    rc, out, calls, work = run_hardware_steps(tmp_path, env={"MODULE_RC": "1"}, **kw)
    assert rc == 0, out
    assert "lava-test-case test-pfnmap-provider --result fail" in calls
    assert "lava-test-case test-pfnmap-provider --result pass" not in calls
    tap = (work / "kselftest_install" / "results.tap").read_text()
    assert "# ENV: provider=failed-to-load" in tap
    # The run goes on: the rest of the suite still gets judged.
    assert any(c.startswith("lava-test-case report-expectations ") for c in calls)


def test_hardware_without_a_provider_base_fails_a_case_and_says_why(tmp_path):
    rc, out, calls, _ = run_hardware_steps(tmp_path, provider_base="", provider_size="",
                                           provider_url=f"file://{tmp_path}/test_pfnmap.ko")
    assert rc == 0, out
    assert "lava-test-case test-pfnmap-provider --result fail" in calls
    assert not any(c.startswith(("insmod ", "modprobe ")) for c in calls)
    assert "PROVIDER_BASE" in out and "carve-out" in out and "cannot be judged" in out
    assert any(c.startswith("lava-test-case report-expectations ") for c in calls)


def test_hardware_uploads_the_report(tmp_path):
    import tarfile
    (tmp_path / "uploads").mkdir()
    url = f"file://{tmp_path}/uploads/"
    rc, out, calls, _ = run_hardware_steps(tmp_path, upload_url=url)
    assert rc == 0, out
    uploaded = tmp_path / "uploads" / "pfnmap-report.tar.gz"
    with tarfile.open(uploaded) as t:
        assert "report/summary.json" in t.getnames()
    assert (f"lava-test-reference report-upload --result pass "
            f"--reference {url}pfnmap-report.tar.gz") in calls


def test_hardware_upload_that_fails_fails_its_case(tmp_path):
    rc, out, calls, _ = run_hardware_steps(tmp_path, upload_url=f"file://{tmp_path}/no/such/x.tgz")
    assert rc == 0, out
    assert "lava-test-case report-upload --result fail" in calls
    assert not any(c.startswith("lava-test-reference ") for c in calls)


def test_hardware_without_an_upload_url_says_so(tmp_path):
    rc, out, calls, _ = run_hardware_steps(tmp_path)
    assert rc == 0, out
    assert "UPLOAD_URL" in out and "not uploaded" in out
    assert "lava-test-case report-upload --result skip" in calls


@pytest.mark.parametrize("report_rc, result", [("0", "pass"), ("1", "fail"), ("2", "fail"),
                                               ("3", "fail")])
def test_hardware_report_exit_status_is_the_expectations_case(tmp_path, report_rc, result):
    rc, out, calls, _ = run_hardware_steps(tmp_path, env={"FAKE_REPORT_RC": report_rc})
    assert rc == 0, out
    assert [c for c in calls if c.startswith("lava-test-case report-expectations ")] == [
        f"lava-test-case report-expectations --result {result}"]
    assert f"exit {report_rc}" in out
    # Every case of the reporter's parse still reaches LAVA.
    assert ("lava-test-case kvm_pfnmap_memslot_test.memslot.cacheable.create --result pass"
            in calls)


def test_hardware_refuses_a_param_lava_cannot_quote(tmp_path, capsys):
    # LAVA writes params as NAME='value' lines: a quote would end the value.
    with pytest.raises(lava_jobs.InputError, match="WHERE"):
        lava_jobs.hardware_job(hardware_args(where="hardware: Grace's box"))
    assert lava_jobs.main(["hardware", "--out", str(tmp_path / "j.yaml"),
                           "--where", "it's"]) == 2
    assert not (tmp_path / "j.yaml").exists()


def test_hardware_provider_failure_reaches_the_report(tmp_path):
    """The ENV line the steps write is the one the rig's init writes, so
    the real reporter names the provider as why the kernel is incomplete."""
    import json
    rc, out, calls, work = run_hardware_steps(tmp_path, env={"MODULE_RC": "1"}, real_report=True)
    assert rc == 0, out
    assert "lava-test-case report-expectations --result fail" in calls
    assert "exit 3" in out
    summary = json.loads((work / "kselftest_install" / "report" / "summary.json").read_text())
    verdict = summary["verdict"]["patched"]
    assert verdict["verdict"] == "incomplete"
    assert any("provider module failed to load" in i for i in verdict["incomplete"])
