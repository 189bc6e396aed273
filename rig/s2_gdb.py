"""Run inside gdb-multiarch (gdb's Python API): find the vCPU that is in a
KVM guest, read its stage-2 registers and dump the stage-2 tables from
physical memory (rig/s2walk.py). Called by rig/s2_service.py:

  gdb-multiarch -q -nx -batch -ex 'python RIG_S2 = {...}' -x rig/s2_gdb.py

RIG_S2: {"socket": QEMU's gdbstub, "out": file to write, "rig": rig/,
         "start", "end": the IPA range to walk (end None: all)}.
Why gdb's Python and not a remote-protocol client of our own: gdb resolves
QEMU's system-register numbering (VTTBR_EL2, VTCR_EL2, HCR_EL2) from the
XML each QEMU version sends, and reads physical memory with QEMU's
PhyMemMode packet; the decoding stays in s2walk.py, tested on its own.
"""
import json
import os
import sys

import gdb  # noqa: E402  (only inside gdb)

ARGS = globals()["RIG_S2"]
sys.path.insert(0, ARGS["rig"])
import s2walk  # noqa: E402

MASK64 = (1 << 64) - 1
HCR_VM = 1 << 0


def reg(name):
    return int(gdb.parse_and_eval(f"${name}")) & MASK64


def guest_vcpu():
    """(thread number, hcr, vttbr, vtcr) of a vCPU at EL1 with stage 2 on."""
    for t in gdb.selected_inferior().threads():
        t.switch()
        el = (reg("cpsr") >> 2) & 3
        hcr = reg("HCR_EL2")
        if el == 1 and hcr & HCR_VM:
            return t.num, hcr, reg("VTTBR_EL2"), reg("VTCR_EL2")
    return None


def main():
    gdb.execute("set architecture aarch64", to_string=True)
    gdb.execute("set pagination off", to_string=True)
    gdb.execute(f"target remote {ARGS['socket']}", to_string=True)
    out = {"error": "no vCPU is in a KVM guest (EL1 with HCR_EL2.VM = 1) right now"}
    try:
        found = guest_vcpu()
        if found:
            num, hcr, vttbr, vtcr = found
            inf = gdb.selected_inferior()
            gdb.execute("maint packet Qqemu.PhyMemMode:1", to_string=True)
            try:
                lines = [l.line() for l in s2walk.walk(
                    vttbr, vtcr, hcr, lambda pa, n: bytes(inf.read_memory(pa, n)),
                    ARGS.get("start", 0), ARGS.get("end"))]
            finally:
                gdb.execute("maint packet Qqemu.PhyMemMode:0", to_string=True)
            out = {"header": s2walk.header(hcr, vtcr, f"emulator vcpu={num - 1} "
                                           f"vttbr={vttbr:#x} vtcr={vtcr:#x}"),
                   "leaves": lines}
    except (gdb.error, gdb.MemoryError, s2walk.WalkError) as e:
        out = {"error": f"{type(e).__name__}: {e}"}
    finally:
        gdb.execute("detach", to_string=True)
    with open(ARGS["out"], "w", encoding="utf-8") as f:
        json.dump(out, f)


main()
