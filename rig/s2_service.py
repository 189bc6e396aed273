#!/usr/bin/env python3
"""The stage-2 inspector's host side: answers the cell's selftests over a
virtio-serial port ("rig.s2") with the stage-2 tables of the VM they run,
read from the emulator (rig/s2_gdb.py), never from the kernel under test.

Protocol (one request at a time, lines):
  guest -> rig:  DUMP, or DUMP <start> <end> (hex IPAs: the leaves that
                 meet [start, end) only, so that a lookup in a large VM
                 reads the few tables on its way)
  rig -> guest:  "# stage2 fwb=N ipa_bits=B start_level=L source=emulator ..."
                 one leaf line per valid leaf (docs/interfaces.md section 1)
                 "# end"
             or  "# error <why>" then "# end"
The guest's vCPU must be parked in the VM (spinning at EL1) while it asks.

  s2_service.py --port SOCK --gdb GDBSOCK [--log FILE]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

RIG = os.path.dirname(os.path.abspath(__file__))
ATTEMPTS = 20  # the parked vCPU may be in the host for an interrupt when stopped


def parse_request(line):
    """(start, end) of a DUMP request, end None for all; None if malformed."""
    words = line.split()
    if words == ["DUMP"]:
        return 0, None
    if len(words) == 3 and words[0] == "DUMP":
        try:
            start, end = int(words[1], 16), int(words[2], 16)
        except ValueError:
            return None
        if 0 <= start < end < 1 << 64:
            return start, end
    return None


def dump(gdb_socket, gdb="gdb-multiarch", timeout_s=120, start=0, end=None):
    with tempfile.TemporaryDirectory(prefix="rig-s2-") as tmp:
        out = os.path.join(tmp, "dump.json")
        args = json.dumps({"socket": gdb_socket, "out": out, "rig": RIG,
                           "start": start, "end": end})
        result = {"error": "gdb did not run"}
        for _ in range(ATTEMPTS):
            p = subprocess.run([gdb, "-q", "-nx", "-batch", "-ex", f"python RIG_S2 = {args}",
                                "-x", os.path.join(RIG, "s2_gdb.py")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               errors="replace", timeout=timeout_s, check=False)
            try:
                with open(out, encoding="utf-8") as f:
                    result = json.load(f)
            except (OSError, ValueError):
                result = {"error": "gdb wrote no dump: " + (p.stdout.strip().splitlines() or
                                                           ["no output"])[-1]}
            if "leaves" in result:
                return result
            time.sleep(0.2)
        return result


def reply(result):
    if "leaves" in result:
        return "\n".join([result["header"]] + result["leaves"] + ["# end"]) + "\n"
    why = " ".join(str(result.get("error")).split())
    return f"# error {why}\n# end\n"


def connect(path, wait_s=60.0):
    deadline = time.monotonic() + wait_s
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def serve(port, gdb_socket, log):
    conn = connect(port)
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return 0  # QEMU went away: the cell is over
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            request = line.decode(errors="replace").strip()
            span = parse_request(request)
            if span is None:
                answer = f"# error unknown request '{request[:40]}'\n# end\n"
            else:
                t = time.monotonic()
                result = dump(gdb_socket, start=span[0], end=span[1])
                answer = reply(result)
                print(f"s2_service: DUMP -> {len(result.get('leaves', []))} leaves in "
                      f"{time.monotonic() - t:.1f}s {result.get('error', '')}", file=log,
                      flush=True)
            conn.sendall(answer.encode())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", required=True, help="QEMU's chardev socket for rig.s2")
    ap.add_argument("--gdb", required=True, help="QEMU's gdbstub socket")
    a = ap.parse_args(argv)
    try:
        return serve(a.port, a.gdb, sys.stderr)
    except OSError as e:
        print(f"s2_service: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
