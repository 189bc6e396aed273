#!/usr/bin/env python3
"""LAVA job definitions for the rig's cells, and the check that LAVA reads
the same results the rig does.

  jobs --out DIR        one job per kernel and cell of rig/matrix.tsv, plus
                        the device YAML each cell's job needs for lava-run
  hardware --out FILE   a template job for a real arm64 host: the kselftest
                        tarball, run_kselftest.sh and report.py hardware
  device JOB            the device YAML lava-server renders for JOB from
                        rig/lava/devices/qemu-rig.jinja2 (for offline lava-run)
  dtb --cell C ...      cell C's nvgrace-gpu device tree (scripts/nvgrace-dtb.sh)
  compare LOG           LAVA's results in a lava-run log against the rig's own
                        parse of the console TAP in the same log

The QEMU side of every job comes from `scripts/boot-cell.sh --print-qemu`,
the command line the rig itself boots, so the two cannot drift. Exit status:
0 done / results match, 1 mismatch or failure, 2 bad input.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rig_stream  # noqa: E402
import atomic_write  # noqa: E402
import timeouts  # noqa: E402
import variants  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXIT_OK, EXIT_FAIL, EXIT_INPUT = 0, 1, 2

# Stand-ins handed to boot-cell.sh --print-qemu; LAVA substitutes the
# downloaded files for {kernel}, {initrd} and {dtb}.
IMAGE, INITRD, OUT = "@IMAGE@", "@INITRD@", "@OUT@"

SUITE = "pfnmap-conformance"
# Why a monitors test and not an interactive one: the cell's init runs the
# suite by itself and powers off; there is no shell and nothing to type.
# LAVA's interactive test sends commands and waits for prompts, so it needs
# a shell. A monitors test only watches the console from a start string to
# an end string and records one result per line its pattern matches, which
# is exactly a TAP stream on a console.
#
# The pattern matches a TAP/KTAP result line at any depth ("# " per level,
# as run_kselftest.sh nests, or KTAP indentation), and the rig's "# SPLAT:"
# lines. LAVA takes the result from the group "result" through fixupdict,
# so a SKIP/TODO directive has to be captured in that one group: a
# lookahead looks past the name for the directive (TODO only after "ok")
# and falls back to the ok/not ok word (a bare "SKIP" is the harness's diagnostic, not a result). pexpect compiles it with re.DOTALL and no MULTILINE, so a
# line start is the preceding "\n"; the lookahead for the line end makes
# it wait for the whole line, which ends in "\r\r\n" (the guest's tty and
# then the host pty between QEMU and LAVA each turn "\n" into "\r\n").
MONITOR_PATTERN = (
    r"\n[# ]*"
    r"(?=(?P<directive>(?:not )?ok \d+ [^#\r\n]*#[ \t]*(?=SKIP|Skip|skip|XFAIL|xfail)"
    r"|ok \d+ [^#\r\n]*#[ \t]*(?=TODO|todo))?"
    r"(?P<result>(?(directive)(?:SKIPPED|Skipped|SKIP|Skip|skip|TODO|todo|XFAIL|xfail)"
    r"|(?:not ok(?= \d)|ok(?= \d)|SPLAT(?=: ))))\b)"
    r"(?:(?:not )?ok \d+ )?"
    r"(?P<test_case_id>(?P<splat>SPLAT: )?[^#\r\n]*?)"
    r"(?(splat): [^\r\n]*|[ \t]*(?:#[^\r\n]*)?)"
    r"(?=\r*\n)"
)
# "not ok # TODO" is a failure and "ok # XFAIL" one too (ktap_parser.py
# says why); only "ok # TODO" is LAVA's "unknown".
FIXUPDICT = {"ok": "pass", "not ok": "fail", "SKIP": "skip", "skip": "skip", "SKIPPED": "skip",
             "Skipped": "skip", "Skip": "skip", "TODO": "unknown", "todo": "unknown", "XFAIL": "fail",
             "xfail": "fail", "SPLAT": "fail"}
# The rig's results as LAVA spells them (LAVA has no "todo").
RIG_TO_LAVA = {"pass": "pass", "fail": "fail", "skip": "skip", "todo": "unknown"}

# QEMU options without a value (everything else boot-cell.sh passes has one).
_FLAGS = {"-no-reboot", "-no-shutdown", "-nographic", "-enable-kvm", "-snapshot",
          "-nodefaults", "-S", "-s"}
_SELFTEST = re.compile(r"^selftests:\s*(\S+):\s*(\S+)")


class InputError(Exception):
    pass


# ---------------------------------------------------------------- the cells

# LAVA's qemu device runs the worker's qemu-system-aarch64, i.e. the
# host's QEMU: jobs are made for the cells of that emulator only.
HOST_EMULATOR = "qemu-7.2"


def read_matrix(top=TOP):
    """rig/matrix.tsv as run-matrix.sh reads it: [(cell, cpu, mode, mte)],
    the cells of the host's emulator only (see HOST_EMULATOR)."""
    cells = []
    with open(os.path.join(top, "rig", "matrix.tsv"), encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if len(words) < 4:
                raise InputError(f"rig/matrix.tsv: a cell needs cpu, mode and mte: {line.strip()}")
            if (words[4] if len(words) > 4 else HOST_EMULATOR) == HOST_EMULATOR:
                cells.append(tuple(words[:4]))
    return cells


def timeout_scale(variant):
    """run-matrix.sh's timeout scale for a variant."""
    return variants.timeout_scale(variant)


def boot_cell_argv(cell, cpu, mode, mte, kernel, variant="release", tests="*",
                   nvgrace=True, top=TOP):
    """The QEMU command line boot-cell.sh would run for this cell, with
    placeholders for the kernel, the initramfs and the output folder."""
    cmd = [os.path.join(top, "scripts", "boot-cell.sh"), "--print-qemu",
           "--image", IMAGE, "--initrd", INITRD, "--cpu", cpu, "--mode", mode,
           "--mte", mte, "--kernel", kernel, "--cell", cell, "--out", OUT,
           "--tests", tests, "--timeout-scale", str(timeout_scale(variant))]
    if nvgrace:
        cmd.append("--nvgrace")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        raise InputError(f"boot-cell.sh --print-qemu failed: {p.stderr.decode().strip()}")
    return [w.decode() for w in p.stdout.split(b"\0") if w]


def _word(value):
    return value if re.fullmatch(r"[\w@%+=:,./-]+", value) else shlex.quote(value)


def lava_parts(argv):
    """Split boot-cell.sh's QEMU command line into what a LAVA qemu job says.

    Returns (context, images, append). The job context carries what
    qemu.jinja2 (and rig/lava/devices/qemu-rig.jinja2) turn into the
    command: arch, cpu, machine, memory and extra_options, i.e. every option
    the rig passes that is not listed here as LAVA's business. Dropped:
    -display/-monitor (the device says -nographic -monitor none), -serial
    (LAVA reads the serial console on QEMU's stdio) and the virtio results
    channel, a file on the host: without /dev/hvc0 the cell's init writes
    the same stream to the console (rig/guest/init), where LAVA reads it."""
    if not argv or not argv[0].endswith("qemu-system-aarch64"):
        raise InputError(f"not a qemu-system-aarch64 command line: {argv[:1]}")
    ctx = {"arch": "arm64"}
    images, append, extra = {}, None, []
    results_ids = set()
    args = argv[1:]
    i = 0
    while i < len(args):
        opt = args[i]
        if opt in _FLAGS:
            extra.append(opt)
            i += 1
            continue
        if i + 1 >= len(args):
            raise InputError(f"QEMU option {opt} without a value")
        val = args[i + 1]
        i += 2
        if opt in ("-M", "-machine"):
            ctx["machine"] = val
        elif opt == "-cpu":
            ctx["cpu"] = val
        elif opt == "-m":
            ctx["memory"] = val
        elif opt in ("-kernel", "-initrd", "-dtb"):
            images[opt[1:]] = val
        elif opt == "-append":
            append = val
        elif opt in ("-display", "-monitor", "-serial"):
            continue
        elif opt == "-chardev" and OUT in val:
            results_ids.add(dict(kv.split("=", 1) for kv in val.split(",")[1:] if "=" in kv).get("id"))
        elif opt == "-device" and (val == "virtio-serial-device" or any(
                f"chardev={c}" in val.split(",") for c in results_ids)):
            continue
        else:
            extra.append(f"{opt} {_word(val)}")
    for e in extra:
        if OUT in e or IMAGE in e or INITRD in e:
            raise InputError(f"boot-cell.sh passes an option lava_jobs.py does not know "
                             f"how to give LAVA: {e}")
    missing = [k for k in ("machine", "cpu", "memory") if k not in ctx]
    if missing or images.get("kernel") != IMAGE or images.get("initrd") != INITRD or append is None:
        raise InputError(f"boot-cell.sh's command line lacks {missing or 'kernel/initrd/append'}")
    if '"' in append:
        raise InputError("the kernel command line contains a double quote")
    if extra:
        ctx["extra_options"] = extra
    return ctx, images, append


# ---------------------------------------------------------------- the jobs

def _t(seconds):
    return {"seconds": int(seconds)}


def cell_timeout_for(build, variant="release", tests="*"):
    """The cell timeout run-matrix.sh uses, before scaling: RIG_CELL_TIMEOUT
    (2400 s), raised to what the selected tests' timeouts add up to (the
    real run raised it to 4680 s) when the build's kselftest list is there."""
    base = int(os.environ.get("RIG_CELL_TIMEOUT", "2400"))
    scale = timeout_scale(variant)
    install = os.path.join(build, "selftests", "kselftest_install")
    try:
        entries = timeouts.read_list(os.path.join(install, "kselftest-list.txt"))
        rules = timeouts.read_rig_timeouts()
    except OSError:
        return base
    need, _ = timeouts.required_seconds(entries, install, scale, tests, rules)
    need += int(os.environ.get("RIG_BOOT_TIMEOUT", "180"))
    return max(base, need // scale)


# How a job's name spells variants.page_size().
PAGE_WORDS = {"4k": "4 KiB pages", "64k": "64 KiB pages"}


def qemu_job(cell, cpu, mode, mte, kernel, argv, urls, variant="release", cell_timeout=None):
    """One LAVA job (a dict) for one kernel in one cell. @cell_timeout is
    cell_timeout_for()'s, unscaled (default RIG_CELL_TIMEOUT or 2400)."""
    ctx, images, append = lava_parts(argv)
    scale = timeout_scale(variant)
    pages = variants.page_size(variant)
    boot_timeout = int(os.environ.get("RIG_BOOT_TIMEOUT", "180"))
    if cell_timeout is None:
        cell_timeout = int(os.environ.get("RIG_CELL_TIMEOUT", "2400"))
    cell_timeout *= scale
    test_timeout = int(re.search(r"\brig\.timeout=(\d+)", append).group(1)) * scale
    # LAVA's monitor waits on QEMU's pexpect session, whose timeout is the
    # boot action's: that is the longest silence between two result lines,
    # i.e. the init's hard stop per test binary (rig.timeout) plus margin.
    silence = test_timeout + 300
    deploy_timeout = 600
    name = f"{kernel}-{cell}"
    lava_images = OrderedDict()
    lava_images["kernel"] = {"image_arg": f'-kernel {{kernel}} -append "{append}"',
                             "url": urls["kernel"]}
    lava_images["initrd"] = {"image_arg": "-initrd {initrd}", "url": urls["initrd"]}
    if "dtb" in images:
        lava_images["dtb"] = {"image_arg": "-dtb {dtb}", "url": urls["dtb"]}
    return OrderedDict([
        ("device_type", "qemu"),
        # The page size is in the name too: a 4K and a 64K run of one
        # kernel in one cell must not look alike in a lab's job list.
        ("job_name", f"pfnmap conformance: {kernel} in {cell} "
                     f"(cpu {cpu}, {mode}, mte {mte}, {PAGE_WORDS[pages]})"),
        ("timeouts", {"job": _t(deploy_timeout + silence + cell_timeout + 300),
                      "connections": {"lava-test-monitor": _t(boot_timeout)}}),
        ("visibility", "public"),
        ("priority", "medium"),
        ("context", ctx),
        ("metadata", {"rig.kernel": kernel, "rig.cell": cell, "rig.cpu": cpu,
                      "rig.mode": mode, "rig.mte": mte, "rig.variant": variant,
                      "rig.page_size": pages, "rig.job": name}),
        ("actions", [
            {"deploy": OrderedDict([("to", "tmpfs"), ("timeout", _t(deploy_timeout)),
                                    ("images", lava_images)])},
            {"boot": OrderedDict([("method", "qemu"), ("media", "tmpfs"),
                                  ("timeout", _t(silence))])},
            {"test": OrderedDict([
                ("timeout", _t(cell_timeout)),
                ("monitors", [OrderedDict([
                    ("name", SUITE), ("start", "# rig-begin"), ("end", "# rig-end"),
                    ("pattern", MONITOR_PATTERN), ("fixupdict", dict(FIXUPDICT))])])])},
        ]),
    ])


JOB_HEADER = """\
# LAVA job generated by rig/lava_jobs.py from scripts/boot-cell.sh --print-qemu
# ({what}). Do not edit: regenerate.
# The test is a "monitors" test: the cell's init runs the suite unattended
# and powers off, so there is no shell for an interactive test; the monitor
# records one result per TAP line between "# rig-begin" and "# rig-end".
"""


def dump_yaml(data, header=""):
    import yaml

    class Dumper(yaml.SafeDumper):
        pass
    Dumper.add_representer(OrderedDict, lambda d, v: d.represent_dict(v.items()))
    # A multi-line shell step reads as the script it is, not as one
    # quoted line of "\n"s (PyYAML picks another style where it must).
    Dumper.add_representer(str, lambda d, v: d.represent_scalar(
        "tag:yaml.org,2002:str", v, style="|" if "\n" in v else None))
    return header + yaml.dump(data, Dumper=Dumper, sort_keys=False,
                              default_flow_style=False, width=4096)


def _write(path, text):
    atomic_write.write_text(path, text)


def cmd_jobs(args):
    cells = read_matrix()
    names = [c[0] for c in cells]
    want = args.cells.split() if args.cells else names
    for c in want:
        if c not in names:
            print(f"jobs: unknown cell '{c}' (see rig/matrix.tsv: {' '.join(names)})",
                  file=sys.stderr)
            return EXIT_INPUT
    build = os.path.abspath(args.build)
    suffix = variants.suffix(args.variant)
    pages = variants.page_size(args.variant)
    os.makedirs(args.out, exist_ok=True)
    nvgrace = os.environ.get("RIG_NVGRACE", "1") == "1"
    for cell, cpu, mode, mte in cells:
        if cell not in want:
            continue
        for k in args.kernels.split():
            kernel = k + suffix
            fields = {"build": build, "kernel": kernel, "cell": cell}
            urls = {key: getattr(args, f"{key}_url").format(**fields)
                    for key in ("kernel", "initrd", "dtb")}
            try:
                argv = boot_cell_argv(cell, cpu, mode, mte, k, args.variant, args.tests, nvgrace)
                job = qemu_job(cell, cpu, mode, mte, kernel, argv, urls, args.variant,
                               cell_timeout_for(build, args.variant, args.tests))
            except InputError as e:
                print(f"jobs: {e}", file=sys.stderr)
                return EXIT_INPUT
            path = os.path.join(args.out, f"{kernel}-{cell}.yaml")
            _write(path, dump_yaml(job, JOB_HEADER.format(what=f"{kernel} in {cell}")))
            _write(os.path.join(args.out, device_file(cell, pages)),
                   dump_yaml(render_device(job["context"], pages), DEVICE_HEADER))
            print(f"jobs: {path}")
    return EXIT_OK


# ---------------------------------------------------------------- the device

DEVICE_HEADER = """\
# Device for offline lava-run, rendered by rig/lava_jobs.py the way lava-server
# renders rig/lava/devices/qemu-rig.jinja2 (extends qemu.jinja2) with the
# job's context. Debian's lava-dispatcher ships no device-type templates.
"""


def device_options(ctx):
    """The qemu boot method's options and extra, as qemu-rig.jinja2's
    qemu_options block renders them for a job context."""
    opts = [f"-cpu {ctx.get('cpu', 'max')}", f"-machine {ctx.get('machine', 'virt')}",
            f"-m {ctx.get('memory', '8G')}", "-nographic", "-monitor none"]
    return opts, list(ctx.get("extra_options") or [])


def device_file(cell, pages):
    """The file name of a cell's device: the 4K one keeps the plain name
    (lava-smoke.sh and the README use it)."""
    return f"device-{cell}.yaml" if pages == "4k" else f"device-{cell}-{pages}.yaml"


def render_device(ctx, pages="4k"):
    """The device YAML (a dict) lava-run needs: what base.jinja2, qemu.jinja2
    and qemu-rig.jinja2 render for arch arm64 and this job context, and
    the page size of the kernels it is for (variants.page_size())."""
    if ctx.get("arch") not in ("arm64", "aarch64"):
        raise InputError(f"the rig's device is arm64 only, not {ctx.get('arch')}")
    options, extra = device_options(ctx)
    qemu = OrderedDict([("command", "qemu-system-aarch64"),
                        ("boot_options", {"root": "/dev/ram0", "console": "ttyAMA0 115200"}),
                        ("options", options)])
    if extra:
        qemu["extra"] = extra
    return OrderedDict([
        ("device_type", "qemu"),
        ("constants", {
            "posix": {"lava_test_sh_cmd": "/bin/sh", "lava_test_results_dir": "/lava-%s",
                      "lava_test_shell_file": "~/.bashrc"},
            "shutdown-message": "The system is going down for reboot NOW",
            "kernel-start-message": "Linux version [0-9]",
            "default-shell-prompt": "lava-test: # ",
            "spawn_maxread": "4092",
            # One attempt: a retried boot would be a second, different run.
            "failure_retry": 1, "boot_retry": 1}),
        ("parameters", {"pass": None}),
        ("available_architectures", ["arm64", "aarch64"]),
        # QEMU's command is the same for both page sizes; static_info is
        # LAVA's free-form description of a device (exported to test
        # shells as LAVA_STATIC_INFO_*), so the file says which kernels it
        # was written for. A shell variable's name: no dot.
        ("static_info", [{"rig_page_size": pages}]),
        ("actions", {
            "deploy": {"connections": {"serial": None},
                       "methods": {"image": {"parameters": {"guest": {
                           "size": 512, "interface": "ide", "driveid": "lavatest"}}}}},
            "boot": {"connections": {"serial": None}, "methods": {"qemu": {"parameters": qemu}}},
        }),
        ("timeouts", {
            "actions": {"boot-qemu-image": {"minutes": 2}, "boot-image-retry": {"minutes": 2},
                        "download-retry": {"minutes": 5}, "http-download": {"minutes": 5},
                        "lava-test-shell": {"minutes": 3}},
            "connections": {"lava-test-shell": {"seconds": 10}}}),
    ])


def cmd_device(args):
    import yaml
    try:
        with open(args.job, encoding="utf-8") as f:
            job = yaml.safe_load(f)
        pages = (job.get("metadata") or {}).get("rig.page_size", "4k")
        text = dump_yaml(render_device(job.get("context") or {}, pages), DEVICE_HEADER)
    except (OSError, yaml.YAMLError, InputError, AttributeError) as e:
        print(f"device: {args.job}: {e}", file=sys.stderr)
        return EXIT_INPUT
    if args.out:
        _write(args.out, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_dtb(args):
    cells = {c[0]: c for c in read_matrix()}
    if args.cell not in cells:
        print(f"dtb: unknown cell '{args.cell}'", file=sys.stderr)
        return EXIT_INPUT
    cell, cpu, mode, mte = cells[args.cell]
    argv = boot_cell_argv(cell, cpu, mode, mte, "kernel", nvgrace=True)
    # The machine boot-cell.sh would boot, with the files it would load (QEMU
    # loads them before it dumps the tree, as the rig's own run does);
    # nvgrace-dtb.sh drops -dtb, -serial and -chardev.
    argv = [{IMAGE: args.image, INITRD: args.initrd}.get(w, w) for w in argv]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    p = subprocess.run([os.path.join(TOP, "scripts", "nvgrace-dtb.sh"), args.out] + argv,
                       check=False)
    return EXIT_OK if p.returncode == 0 else EXIT_FAIL


# ---------------------------------------------------------------- real hardware

HARDWARE_HEADER = """\
# LAVA job TEMPLATE for a real arm64 host, generated by rig/lava_jobs.py.
# Replace every CHANGE-ME: the device type of your lab, the kernel to
# certify and a Debian arm64 NFS root with python3, python3-jinja2, curl,
# tar and kmod (the deploy/boot pair is the usual tftp + grub one; use
# u-boot, or deploy to ssh for a host that already runs the kernel, as
# your lab does). The test downloads build/kselftest-pfnmap.tar.gz, loads
# the test PFNMAP provider (PROVIDER_URL: a test_pfnmap.ko built for this
# kernel, else the kernel's own module) on the carve-out
# PROVIDER_BASE/PROVIDER_SIZE, runs run_kselftest.sh, writes the report
# with report.py hardware, gives every case to LAVA and uploads report/ to
# UPLOAD_URL. Without a carve-out the test-pfnmap-provider case fails: the
# requirements the provider backs cannot be judged.
"""

# The provider, as the rig's init loads it (rig/guest/init), with its ENV
# line first in results.tap so that report.py knows. No carve-out is a
# failed case with the reason, not a silent skip: a certifier must see
# that the provider-backed requirements were not judged.
PROVIDER_STEP = """\
provider=failed-to-load
if [ -z "$PROVIDER_BASE" ] || [ -z "$PROVIDER_SIZE" ]; then
  provider=none
  echo "pfnmap: PROVIDER_BASE and PROVIDER_SIZE are not set: the test PFNMAP provider is not \
loaded, so the requirements it backs cannot be judged. Configure a carve-out (RAM the kernel \
does not use: boot with mem= below the RAM size, or a no-map reserved-memory node) and give \
its base and size."
elif [ -n "$PROVIDER_URL" ]; then
  if curl -fsSL -o test_pfnmap.ko "$PROVIDER_URL" &&
     insmod test_pfnmap.ko base="$PROVIDER_BASE" size="$PROVIDER_SIZE"; then
    provider=test_pfnmap
  else
    echo "pfnmap: the provider from PROVIDER_URL ($PROVIDER_URL) did not download or load"
  fi
else
  echo "pfnmap: no PROVIDER_URL: loading the kernel's own test_pfnmap module"
  if modprobe test_pfnmap base="$PROVIDER_BASE" size="$PROVIDER_SIZE"; then
    provider=test_pfnmap
  else
    echo "pfnmap: modprobe test_pfnmap failed"
  fi
fi
if [ "$provider" = test_pfnmap ]; then
  echo "# ENV: provider=test_pfnmap base=$PROVIDER_BASE size=$PROVIDER_SIZE" >results.tap
  lava-test-case test-pfnmap-provider --result pass
else
  echo "# ENV: provider=$provider" >results.tap
  lava-test-case test-pfnmap-provider --result fail
fi"""

# report.py's exit status is the verdict: only 0 passes (1 failed
# expectations, 2 unreadable input, 3 incomplete).
REPORT_STEP = """\
rc=0
python3 pfnmap-report/report.py hardware results.tap --out report --console dmesg.log \
--kernel "$KERNEL_NAME" --where "$WHERE" || rc=$?
echo "pfnmap: report.py hardware: exit $rc (0 expectations met, 1 an expectation failed, \
2 unreadable input, 3 incomplete)"
if [ "$rc" = 0 ]; then
  lava-test-case report-expectations --result pass
else
  lava-test-case report-expectations --result fail
fi"""

# Why curl -T: LAVA carries no file off a device (lava-test-reference
# only records a URL), so the tarball goes by HTTP PUT to a store the lab
# runs, and lava-test-reference puts its address in LAVA's results, where
# a certifier finds it from the job. A URL ending in "/" gets the file's
# name, as curl -T does.
UPLOAD_STEP = """\
if [ -z "$UPLOAD_URL" ]; then
  echo "pfnmap: UPLOAD_URL is not set: report/ is not uploaded and stays on the device only"
  lava-test-case report-upload --result skip
elif tar -czf pfnmap-report.tar.gz report && curl -fsS -T pfnmap-report.tar.gz "$UPLOAD_URL"; then
  case "$UPLOAD_URL" in */) ref="${UPLOAD_URL}pfnmap-report.tar.gz" ;; *) ref="$UPLOAD_URL" ;; esac
  lava-test-reference report-upload --result pass --reference "$ref"
else
  echo "pfnmap: report/ was not uploaded to $UPLOAD_URL"
  lava-test-case report-upload --result fail
fi"""


def hardware_params(args):
    params = OrderedDict([
        ("KSELFTEST_URL", args.kselftest_url), ("KERNEL_NAME", args.kernel_name),
        ("WHERE", args.where), ("PROVIDER_URL", args.provider_url),
        ("PROVIDER_BASE", args.provider_base), ("PROVIDER_SIZE", args.provider_size),
        ("VFIO_BDF", args.vfio_bdf), ("UPLOAD_URL", args.upload_url)])
    # LAVA writes each as NAME='value' into the test's shell script.
    for name, value in params.items():
        if "'" in value:
            raise InputError(f"{name} must not contain a single quote "
                             f"(LAVA writes it as {name}='...'): {value}")
    return params


def hardware_job(args):
    # The steps run in the test definition's own folder on the device.
    steps = [
        'curl -fsSL -o kselftest-pfnmap.tar.gz "$KSELFTEST_URL"',
        "tar -xzf kselftest-pfnmap.tar.gz",
        "cd kselftest_install",
        "mount -t debugfs none /sys/kernel/debug 2>/dev/null || true",
        PROVIDER_STEP,
        'if [ -n "$VFIO_BDF" ]; then export VFIO_SELFTESTS_BDF="$VFIO_BDF"; '
        'vfio/setup.sh -d nvgrace_gpu_vfio_pci "$VFIO_BDF" || true; fi',
        # The kernel log between the two markers is the suite's (splats).
        'echo "pfnmap-suite: begin" >/dev/kmsg',
        # BLK-1's every-page sweep too (longer than kvm/settings allows).
        "PFNMAP_LONG_SWEEPS=1 ./run_kselftest.sh --override-timeout 900 | tee -a results.tap",
        'echo "pfnmap-suite: end" >/dev/kmsg',
        # A splat report.py finds in the kernel log fails the run.
        "dmesg >dmesg.log 2>&1 || true",
        REPORT_STEP,
        # One LAVA result per case of the rig's own parse, so LAVA and the
        # report cannot disagree.
        "python3 pfnmap-report/report.py parse --json results.tap >parsed.json || true",
        "python3 -c 'import json, re, sys; "
        "m = {\"pass\": \"pass\", \"fail\": \"fail\", \"skip\": \"skip\", \"todo\": \"unknown\"}; "
        "[print(m[c[\"result\"]], re.sub(r\"[^A-Za-z0-9_.-]+\", \"_\", "
        "(c[\"binary\"] + \".\" if c[\"binary\"] and c[\"name\"] != c[\"binary\"] else \"\") + c[\"name\"])) "
        "for f in json.load(open(sys.argv[1]))[\"files\"] for c in f[\"cases\"]]' parsed.json "
        "| while read -r result name; do lava-test-case \"$name\" --result \"$result\"; done",
        UPLOAD_STEP,
    ]
    definition = OrderedDict([
        ("metadata", {"format": "Lava-Test Test Definition 1.0", "name": "kselftest-pfnmap",
                      "description": "KVM/arm64 cacheable PFNMAP conformance suite "
                                     "(kselftest tarball + report.py hardware)"}),
        ("params", hardware_params(args)),
        ("run", {"steps": steps}),
    ])
    return OrderedDict([
        ("device_type", args.device_type),
        ("job_name", "pfnmap conformance on hardware: CHANGE-ME machine"),
        ("timeouts", {"job": {"hours": 3}, "action": {"minutes": 20}}),
        ("visibility", "public"),
        ("priority", "medium"),
        ("metadata", {"rig.kernel": args.kernel_name, "rig.cell": "hardware"}),
        ("actions", [
            {"deploy": OrderedDict([
                ("to", "tftp"), ("timeout", {"minutes": 15}), ("os", "debian"),
                ("kernel", {"url": args.kernel_url, "type": "image"}),
                ("nfsrootfs", {"url": args.rootfs_url, "compression": "xz"})])},
            {"boot": OrderedDict([
                ("method", "grub"), ("commands", "nfs"), ("timeout", {"minutes": 15}),
                ("prompts", ["root@(.*):[/~]#"])])},
            {"test": OrderedDict([
                ("timeout", {"hours": 2}),
                ("definitions", [OrderedDict([
                    ("repository", definition), ("from", "inline"),
                    ("name", "kselftest-pfnmap"), ("path", "inline/kselftest-pfnmap.yaml")])])])},
        ]),
    ])


def cmd_hardware(args):
    text = dump_yaml(hardware_job(args), HARDWARE_HEADER)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        _write(args.out, text)
        print(f"hardware: {args.out}")
    return EXIT_OK


# ---------------------------------------------------------------- LAVA's results

def read_lava_log(lines):
    """lava-run's log (one YAML mapping a line) -> (results, console lines).
    results: the records LAVA logged at level "results"; console: the
    target's output as LAVA saw it."""
    import yaml
    results, console = [], []
    for raw in lines:
        raw = raw.strip()
        if raw.startswith("- {"):  # the YAML list form of the server's job log
            raw = raw[2:]
        if not raw.startswith("{"):
            continue
        try:
            entry = yaml.safe_load(raw)
        except yaml.YAMLError:
            continue
        if not isinstance(entry, dict):
            continue
        if entry.get("lvl") == "results" and isinstance(entry.get("msg"), dict):
            results.append(entry["msg"])
        elif entry.get("lvl") == "target" and isinstance(entry.get("msg"), str):
            # LAVA's shell logger escapes double quotes on the way in.
            console.append(entry["msg"].replace('\\"', '"') + "\n")
    return results, console


def _raw_name(record):
    name = str((record.get("extra") or {}).get("test_case_id") or record.get("case", ""))
    return name[2:] if name.startswith("- ") else name


def lava_view(records):
    """Group LAVA's monitor records by test binary, as the rig groups the
    TAP: a binary's own cases come before its "selftests: C: T" line, and
    a "SPLAT: C:T" record follows it."""
    view = OrderedDict()

    def entry(binary):
        return view.setdefault(binary, {"result": None, "cases": [], "splat": False})
    pending = []
    for rec in records:
        raw, result = _raw_name(rec), rec.get("result")
        if raw.startswith("SPLAT: "):
            entry(raw[len("SPLAT: "):].strip())["splat"] = True
            continue
        m = _SELFTEST.match(raw)
        if m:
            e = entry(f"{m.group(1)}:{m.group(2)}")
            e["result"] = result
            e["cases"] += pending
            pending = []
        else:
            pending.append((raw, result))
    if pending:
        entry("")["cases"] += pending
    return view


def compare(records, stream):
    """Compare LAVA's per-case results with the rig's parse of the same
    stream. Returns (number of cases that agree, [mismatch descriptions]).
    The rule the rig applies that LAVA's pattern cannot: a SPLAT line fails
    every case of its binary (LAVA records it as one failed case)."""
    view = lava_view(records)
    by_binary = OrderedDict()
    for c in stream.cases:
        by_binary.setdefault(c.binary, []).append(c)
    agree, problems = 0, []
    for binary in list(by_binary) + [b for b in view if b not in by_binary]:
        cases, e = by_binary.get(binary, []), view.get(binary)
        label = binary or "(no binary)"
        if e is None:
            problems.append(f"{label}: {len(cases)} case(s) in the rig's parse, none in LAVA's results")
            continue
        leaves = list(e["cases"])
        for c in cases:
            if c.name == binary and binary:
                got = e["result"]
            else:
                i = next((i for i, (raw, _) in enumerate(leaves)
                          if raw == c.name or c.name.endswith("." + raw)), None)
                if i is None:
                    problems.append(f"{label}: {c.name}: in the rig's parse, not in LAVA's results")
                    continue
                got = leaves.pop(i)[1]
            if e["splat"]:
                got = "fail"
            want = RIG_TO_LAVA[c.result]
            if got == want:
                agree += 1
            else:
                problems.append(f"{label}: {c.name}: rig {c.result}, LAVA {got}")
        names = [c.name for c in cases]
        for raw, result in leaves:
            # A KTAP parent's own line: the rig reports its children instead.
            if not any(n.startswith(raw + ".") or ("." + raw + ".") in n for n in names):
                problems.append(f"{label}: {raw}: in LAVA's results ({result}), not in the rig's parse")
        if not cases and e["result"] is not None:
            problems.append(f"{label}: in LAVA's results ({e['result']}), not in the rig's parse")
    return agree, problems


def totals(results):
    t = OrderedDict((k, 0) for k in ("pass", "fail", "skip", "unknown"))
    for r in results:
        t[r] = t.get(r, 0) + 1
    return ", ".join(f"{v} {k}" for k, v in t.items())


def cmd_compare(args):
    try:
        with open(args.log, encoding="utf-8", errors="replace") as f:
            results, console = read_lava_log(f)
    except OSError as e:
        print(f"compare: {e}", file=sys.stderr)
        return EXIT_INPUT
    suite = [r for r in results if r.get("definition") == SUITE]
    job = next((r for r in results if r.get("definition") == "lava" and r.get("case") == "job"), {})
    stream = rig_stream.read_stream(console)
    rc = EXIT_OK if job.get("result") == "pass" else EXIT_FAIL
    if args.results_yaml:
        _write(args.results_yaml, dump_yaml(results))
    print(f"LAVA job: {job.get('result', 'no result')}"
          + (f" ({job.get('error_type')}: {job.get('error_msg')})" if job.get("error_msg") else ""))
    print(f"LAVA ({SUITE}): {len(suite)} results: {totals(r.get('result') for r in suite)}")
    rig_lava = [RIG_TO_LAVA[c.result] for c in stream.cases]
    print(f"rig parse of LAVA's console: {len(stream.cases)} cases: {totals(rig_lava)}"
          + ("; stream truncated (no '# rig-end')" if stream.truncated else "")
          + ("" if stream.began else "; no '# rig-begin' on the console"))
    if not stream.began or stream.truncated or not stream.cases:
        rc = EXIT_FAIL
    agree, problems = compare(suite, stream)
    for p in problems:
        print(f"MISMATCH {p}")
    print(f"compare: {agree} case(s) agree, {len(problems)} mismatch(es)")
    if problems:
        rc = EXIT_FAIL
    if args.rig_tap:
        # The rig's own run of the same cell: a separate boot, so shown, not judged.
        try:
            own = rig_stream.read_stream_file(args.rig_tap)
        except OSError as e:
            print(f"compare: {e}", file=sys.stderr)
            return EXIT_INPUT
        mine = {(c.binary, c.name): c.result for c in own.cases}
        lava = {(c.binary, c.name): c.result for c in stream.cases}
        diff = sorted(k for k in set(mine) | set(lava) if mine.get(k) != lava.get(k))
        print(f"rig run {args.rig_tap}: {len(own.cases)} cases; "
              f"{len(diff)} differ from the LAVA run's")
        for b, n in diff:
            print(f"  {b} {n}: rig run {mine.get((b, n), '-')}, LAVA run {lava.get((b, n), '-')}")
    return rc


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(prog="lava_jobs.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("jobs", help="one LAVA job per kernel and cell, and their devices")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--build", default=os.path.join(TOP, "build"), metavar="DIR",
                   help="the rig's build folder, {build} in the URLs (default: %(default)s)")
    p.add_argument("--kernels", default="baseline patched", metavar='"K..."')
    p.add_argument("--cells", default="", metavar='"C..."', help="default: all of rig/matrix.tsv")
    p.add_argument("--variant", default="release", choices=variants.VARIANTS,
                   help="-64k: the 64 KiB page kernels (build/kernels/patched-64k ...)")
    p.add_argument("--tests", default="*", metavar="GLOB", help="kselftest-list entries")
    p.add_argument("--kernel-url", default="file://{build}/kernels/{kernel}/arch/arm64/boot/Image",
                   metavar="URL",
                   help="{build}, {kernel} (with the variant's suffix: -debug, -64k, "
                        "-debug-64k), {cell} are replaced")
    p.add_argument("--initrd-url", default="file://{build}/initramfs/{kernel}.cpio.gz",
                   metavar="URL")
    p.add_argument("--dtb-url", default="file://{build}/lava/dtb/{cell}.dtb", metavar="URL",
                   help="the cell's nvgrace device tree (make it with the dtb command)")
    p.set_defaults(func=cmd_jobs)

    p = sub.add_parser("hardware", help="a template job for a real arm64 host")
    p.add_argument("--out", required=True, metavar="FILE", help="'-' for stdout")
    p.add_argument("--device-type", default="CHANGE-ME-arm64-device-type")
    p.add_argument("--kernel-url", default="https://CHANGE-ME/Image")
    p.add_argument("--rootfs-url", default="https://CHANGE-ME/debian-bookworm-arm64-rootfs.tar.xz")
    p.add_argument("--kselftest-url", default="https://CHANGE-ME/kselftest-pfnmap.tar.gz")
    p.add_argument("--kernel-name", default="patched",
                   help="'baseline' gets the baseline expectations (report.py hardware)")
    p.add_argument("--where", default="hardware: CHANGE-ME vendor machine, firmware version")
    p.add_argument("--provider-base", default="",
                   help="test_pfnmap range outside the linear map ('' = no provider)")
    p.add_argument("--provider-size", default="")
    p.add_argument("--provider-url", default="", metavar="URL",
                   help="test_pfnmap.ko built for the kernel to certify "
                        "(scripts/build-provider-module.sh; the rig's are "
                        "build/provider/<kernel>/test_pfnmap.ko); '' = modprobe the kernel's own")
    p.add_argument("--upload-url", default="", metavar="URL",
                   help="where the test PUTs report/ as pfnmap-report.tar.gz (curl -T; a URL "
                        "ending in / gets the file name); '' = not uploaded, and the log says so")
    p.add_argument("--vfio-bdf", default="", help="the GPU for the VFIO tests ('' = skip them)")
    p.set_defaults(func=cmd_hardware)

    p = sub.add_parser("device", help="the device YAML lava-run needs for a job")
    p.add_argument("job", metavar="JOB")
    p.add_argument("--out", metavar="FILE", help="default: stdout")
    p.set_defaults(func=cmd_device)

    p = sub.add_parser("dtb", help="a cell's nvgrace-gpu device tree")
    p.add_argument("--cell", required=True)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--image", required=True, metavar="FILE", help="the kernel the job boots")
    p.add_argument("--initrd", required=True, metavar="FILE", help="the job's initramfs")
    p.set_defaults(func=cmd_dtb)

    p = sub.add_parser("compare", help="LAVA's results against the rig's parse of the same TAP")
    p.add_argument("log", metavar="LOG", help="lava-run's log (its stderr)")
    p.add_argument("--results-yaml", metavar="FILE", help="also write LAVA's results there")
    p.add_argument("--rig-tap", metavar="FILE",
                   help="a rig run's results.tap of the same cell, to show differences")
    p.set_defaults(func=cmd_compare)

    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print(f"{args.command}: {e}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
