"""kunit.py's JSON result becomes a rig cell whose cases all trace to KU-1."""
import json

import kunit_tap
import ktap_parser

RESULT = {"name": "KUnit Test Group", "test_cases": [], "sub_groups": [
    {"name": "kvm_arm64_pfnmap", "test_cases": [
        {"name": "icache_linear_ram_by_va", "status": "PASS"},
        {"name": "icache_below_ram_whole", "status": "SKIP"}],
     "sub_groups": [{"name": "s2_memtype", "sub_groups": [], "test_cases": [
         {"name": "linear_wb_nofwb", "status": "PASS"},
         {"name": "nonlinear_wb_nofwb", "status": "FAIL"}]}]}]}


def test_every_case_is_one_result_traced_to_ku1(tmp_path):
    src = tmp_path / "kunit.json"
    src.write_text(json.dumps(RESULT))
    assert kunit_tap.main([str(src), str(tmp_path / "cell"), "--kernel", "patched"]) == 0
    tap = (tmp_path / "cell" / "results.tap").read_text().splitlines()
    docs = ktap_parser.parse_lines(tap)
    got = {c.name: (c.result, c.requirements) for d in docs for c in d.cases}
    assert got == {
        "kvm_arm64_pfnmap.icache_linear_ram_by_va": ("pass", ["KU-1"]),
        "kvm_arm64_pfnmap.icache_below_ram_whole": ("skip", ["KU-1"]),
        "kvm_arm64_pfnmap.s2_memtype.linear_wb_nofwb": ("pass", ["KU-1"]),
        "kvm_arm64_pfnmap.s2_memtype.nonlinear_wb_nofwb": ("fail", ["KU-1"]),
    }
    cell = json.loads((tmp_path / "cell" / "cell.json").read_text())
    assert cell["status"] == "ok" and cell["cell"] == "kunit"


def test_no_result_is_a_cell_that_did_not_finish(tmp_path):
    kunit_tap.main([str(tmp_path / "missing.json"), str(tmp_path / "cell"), "--kernel", "patched",
                    "--status", "kunit.py did not finish"])
    cell = json.loads((tmp_path / "cell" / "cell.json").read_text())
    assert cell["status"] == "no-results" and "did not finish" in cell["status_detail"]


def test_the_cell_records_how_kunit_py_was_run(tmp_path):
    src = tmp_path / "kunit.json"
    src.write_text(json.dumps(RESULT))
    kunit_tap.main([str(src), str(tmp_path / "cell"), "--kernel", "patched",
                    "--cmdline", "kunit.sh --seed out-release"])
    cell = json.loads((tmp_path / "cell" / "cell.json").read_text())
    assert cell["qemu_cmdline"] == "kunit.sh --seed out-release"
