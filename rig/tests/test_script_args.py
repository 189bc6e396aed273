"""The rig's scripts on bad command lines: a clear error, nothing created."""
import os
import pathlib
import subprocess

SCRIPTS = pathlib.Path(__file__).resolve().parents[2] / "scripts"


def run_script(tmp_path, *args):
    """Runs a script with a `make` that does nothing: a script that wrongly
    goes on must not start a real build from a test."""
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "make").write_text("#!/bin/sh\nexit 99\n")
    (stub / "make").chmod(0o755)
    env = dict(os.environ, PATH=f"{stub}:{os.environ['PATH']}")
    return subprocess.run(["bash", *map(str, args)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30)


def test_bench_rig_refuses_an_option_as_its_build_folder(tmp_path):
    r = run_script(tmp_path, SCRIPTS / "bench-rig.sh", "--cold")
    assert r.returncode == 2
    assert "unknown option '--cold'" in r.stderr
    assert not (tmp_path / "--cold").exists()


def test_bench_rig_refuses_extra_arguments(tmp_path):
    r = run_script(tmp_path, SCRIPTS / "bench-rig.sh", "b", "max-vhe", "extra")
    assert r.returncode == 2
    assert not (tmp_path / "b").exists()


def test_mutation_folders_are_unique_within_a_second():
    text = (SCRIPTS / "mutation.sh").read_text()
    # mktemp, not a bare timestamp: two runs in one second get two folders
    assert 'mktemp -d "$results/mutation-' in text


def test_boot_cell_passes_space_separated_globs_as_one_kernel_argument(tmp_path):
    # A space in rig.tests= splits the kernel command line: every glob after
    # the first would be dropped without a word (mutants' Tests: once were).
    for f in ("Image", "initrd"):
        (tmp_path / f).write_text("")
    r = run_script(tmp_path, SCRIPTS / "boot-cell.sh", "--image", tmp_path / "Image",
                   "--initrd", tmp_path / "initrd", "--cpu", "max", "--mode", "vhe",
                   "--mte", "on", "--kernel", "k", "--cell", "c", "--out", tmp_path / "out",
                   "--tests", "kvm:pfnmap_a_test  kvm:pfnmap_b_test,", "--print-qemu")
    assert r.returncode == 0, r.stderr
    args = r.stdout.replace("\0", " ").split()
    assert "rig.tests=kvm:pfnmap_a_test,kvm:pfnmap_b_test" in args
    assert "kvm:pfnmap_b_test" not in args


def test_mutants_name_their_tests_comma_separated():
    for m in sorted((SCRIPTS.parent / "mutants").glob("*.patch")):
        for line in m.read_text().splitlines()[:12]:
            if line.startswith("Tests:"):
                assert " " not in line[len("Tests:"):].strip(), f"{m.name}: {line}"
