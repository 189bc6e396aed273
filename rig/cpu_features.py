#!/usr/bin/env python3
"""The CPU features of a QEMU cell, read from the emulator itself.

boot-cell.sh starts QEMU with a gdbstub on a unix socket; this program
attaches Debian's gdb-multiarch for a moment, reads vCPU 0's
ID_AA64MMFR2_EL1, CTR_EL0 and ID_AA64PFR1_EL1 and detaches (the guest
resumes). The kernel under test plays no part, so CAP-1's "is there FWB?"
does not come from the code whose capability it judges.

  cpu_features.py --socket SOCK --out FILE    write FILE (JSON)
  cpu_features.py --parse GDB_OUTPUT          print what a saved output says

Why gdb-multiarch and not a remote-protocol client of our own: gdb knows
QEMU's system-register XML (register names to numbers), which differs
between QEMU versions; a client of our own would have to parse that XML
and the 'p'/'g' packets for the same three values.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import atomic_write  # noqa: E402

REGISTERS = ("ID_AA64MMFR2_EL1", "CTR_EL0", "ID_AA64PFR1_EL1")
SOURCE = "QEMU gdbstub: vCPU 0's " + ", ".join(REGISTERS)
_REG = re.compile(r"^(ID_AA64MMFR2_EL1|CTR_EL0|ID_AA64PFR1_EL1)\s+(0x[0-9a-fA-F]+)\b", re.M)


def _field(value, shift, width=4):
    return (value >> shift) & ((1 << width) - 1)


def decode(regs):
    """{register: value} -> the features the suite cares about, as 0/1."""
    mmfr2, ctr, pfr1 = (regs[r] for r in REGISTERS)
    return {"fwb": int(_field(mmfr2, 40) != 0),  # ID_AA64MMFR2_EL1.FWB
            "dic": _field(ctr, 29, 1),          # CTR_EL0.DIC
            "idc": _field(ctr, 28, 1),          # CTR_EL0.IDC
            "mte": int(_field(pfr1, 8) >= 2),   # ID_AA64PFR1_EL1.MTE: 2 = tags
            "raw": {r: f"{regs[r]:#x}" for r in REGISTERS},
            "source": SOURCE}


def parse(text):
    """gdb's 'info registers' output -> decode()d features; ValueError
    when a register is missing (an old QEMU without system registers)."""
    regs = {m.group(1): int(m.group(2), 16) for m in _REG.finditer(text)}
    missing = [r for r in REGISTERS if r not in regs]
    if missing:
        raise ValueError("the gdbstub did not give " + ", ".join(missing))
    return decode(regs)


def read(socket, gdb="gdb-multiarch", wait_s=10.0, timeout_s=30.0):
    """Attach, read, detach. The socket appears when QEMU has started."""
    deadline = time.monotonic() + wait_s
    while not os.path.exists(socket):
        if time.monotonic() > deadline:
            raise OSError(f"no gdbstub socket {socket} after {wait_s:.0f}s")
        time.sleep(0.2)
    cmd = [gdb, "-q", "-nx", "-batch", "-ex", "set architecture aarch64",
           "-ex", f"target remote {socket}",
           "-ex", "info registers " + " ".join(REGISTERS), "-ex", "detach"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout_s, check=False, text=True, errors="replace")
    return parse(p.stdout)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socket", help="QEMU's -gdb unix socket")
    ap.add_argument("--out", help="JSON file to write")
    ap.add_argument("--parse", metavar="FILE", help="decode a saved gdb output instead")
    ap.add_argument("--wait", type=float, default=10.0, metavar="S",
                    help="how long to wait for the socket (default: %(default)s)")
    a = ap.parse_args(argv)
    try:
        if a.parse:
            with open(a.parse, encoding="utf-8", errors="replace") as f:
                feats = parse(f.read())
        elif a.socket and a.out:
            feats = read(a.socket, wait_s=a.wait)
        else:
            ap.error("give --socket and --out, or --parse")
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        print(f"cpu_features: {e}", file=sys.stderr)
        return 1
    text = json.dumps(feats, indent=1) + "\n"
    if a.out:
        atomic_write.write_text(a.out, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
