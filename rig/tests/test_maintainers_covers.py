"""scripts/maintainers-covers.py: which new files an F: line already covers."""
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "maintainers-covers.py")

MAINTAINERS = """KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)
M:\tSomeone <a@b>
F:\tarch/arm64/kvm/
F:\ttools/testing/selftests/kvm/*/aarch64/
F:\ttools/testing/selftests/kvm/aarch64/

TEST PFNMAP
F:\tlib/test_pfnmap*
"""


def run(tmp_path, *files):
    m = tmp_path / "MAINTAINERS"
    m.write_text(MAINTAINERS)
    return subprocess.run([sys.executable, SCRIPT, str(m), *files],
                          capture_output=True, text=True, check=False)


def test_directory_and_glob_patterns_cover(tmp_path):
    p = run(tmp_path, "tools/testing/selftests/kvm/aarch64/pfnmap_cmo_test.c",
            "tools/testing/selftests/kvm/lib/aarch64/pfnmap_env.c",
            "tools/testing/selftests/kvm/include/aarch64/pfnmap_env.h",
            "lib/test_pfnmap_uapi.h", "arch/arm64/kvm/pfnmap_kunit.c")
    assert p.returncode == 0, p.stdout


def test_an_uncovered_file_is_named(tmp_path):
    p = run(tmp_path, "tools/testing/selftests/kvm/aarch64/x.c",
            "tools/testing/selftests/vfio/nvgrace_mmap_test.c")
    assert p.returncode == 1
    assert p.stdout.strip() == "tools/testing/selftests/vfio/nvgrace_mmap_test.c"


def test_a_glob_does_not_cover_a_sibling_directory(tmp_path):
    assert run(tmp_path, "tools/testing/selftests/kvm/x86/a.c").returncode == 1
