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
