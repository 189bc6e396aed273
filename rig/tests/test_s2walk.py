"""The stage-2 inspector's walker on synthetic tables: every granule the
rig uses (4K, 64K), every leaf level, both MemAttr encodings."""
import struct

import pytest

import s2walk


class Memory:
    """Physical memory as a dict of 8-byte descriptors."""

    def __init__(self):
        self.words = {}

    def put(self, pa, desc):
        self.words[pa] = desc

    def read(self, pa, size):
        return b"".join(struct.pack("<Q", self.words.get(pa + o, 0)) for o in range(0, size, 8))


def vtcr(t0sz, sl0, tg0):
    return t0sz | (sl0 << 6) | (tg0 << 14)


TABLE, BLOCK, PAGE = 3, 1, 3
AF = 1 << 10


def desc(pa, kind, memattr=0, s2ap=3, xn=0):
    return pa | kind | (memattr << 2) | (s2ap << 6) | AF | (xn << 53)


def test_4k_levels_and_concatenated_start_table():
    m = Memory()
    vt = vtcr(24, 1, 0)  # 40-bit IPA, start at level 1: 1024 entries (two tables)
    root, l2, l3 = 0x10000, 0x20000, 0x30000
    m.put(root + 1 * 8, desc(0x40000000, BLOCK, 0xF))              # IPA 1G: a 1G block
    m.put(root + 1023 * 8, desc(l2, TABLE))                        # last entry: 2nd table
    m.put(l2 + 0 * 8, desc(0x80200000, BLOCK, 0x5))                # 2M block, NC
    m.put(l2 + 1 * 8, desc(l3, TABLE))
    m.put(l3 + 5 * 8, desc(0xC0005000, PAGE, 0x1, s2ap=1, xn=2))   # 4K page, Device
    leaves = list(s2walk.walk(root, vt, 0, m.read))
    got = [(hex(l.ipa), l.level, s2walk.size_name(l.size), hex(l.pa), l.type) for l in leaves]
    top = 1023 << 30
    assert got == [("0x40000000", 1, "1G", "0x40000000", "NORMAL_WB"),
                   (hex(top), 2, "2M", "0x80200000", "NORMAL_NC"),
                   (hex(top + (1 << 21) + 5 * 4096), 3, "4K", "0xc0005000", "DEVICE_nGnRE")]
    assert leaves[2].line().endswith("type=DEVICE_nGnRE s2ap=R xn=2")


def test_range_limits_the_walk():
    m = Memory()
    root = 0x10000
    vt = vtcr(24, 1, 0)
    for i in range(4):
        m.put(root + i * 8, desc(i << 30, BLOCK, 0xF))
    got = [l.ipa for l in s2walk.walk(root, vt, 0, m.read, start=(1 << 30) + 5, end=3 << 30)]
    assert got == [1 << 30, 2 << 30]


def test_64k_granule_page_and_512m_block():
    m = Memory()
    vt = vtcr(24, 1, 1)  # 64K, 40-bit IPA, start level 2 (shift 29: 2048 entries)
    root, l3 = 0x100000, 0x200000
    m.put(root + 3 * 8, desc(0x60000000, BLOCK, 0x6))
    m.put(root + 4 * 8, desc(l3, TABLE))
    m.put(l3 + 2 * 8, desc(0x9_0002_0000, PAGE, 0x6))
    leaves = list(s2walk.walk(root, vt, s2walk.HCR_FWB, m.read))
    assert [(l.level, s2walk.size_name(l.size), l.type) for l in leaves] == [
        (2, "512M", "NORMAL_WB"), (3, "64K", "NORMAL_WB")]
    assert leaves[1].ipa == (4 << 29) + 2 * 65536 and leaves[1].pa == 0x9_0002_0000


@pytest.mark.parametrize("memattr, fwb, want", [
    (0x0, False, "DEVICE_nGnRnE"), (0x1, False, "DEVICE_nGnRE"), (0x2, False, "DEVICE_nGRE"),
    (0x3, False, "DEVICE_GRE"), (0x5, False, "NORMAL_NC"), (0xA, False, "NORMAL_WT"),
    (0xF, False, "NORMAL_WB"), (0x6, False, "OTHER"),
    (0x0, True, "DEVICE_nGnRnE"), (0x1, True, "DEVICE_nGnRE"), (0x5, True, "NORMAL_NC"),
    (0x6, True, "NORMAL_WB"), (0x7, True, "OTHER"), (0xF, True, "OTHER")])
def test_every_memattr_encoding(memattr, fwb, want):
    assert s2walk.memattr_type(memattr, fwb) == want


def test_invalid_and_reserved():
    m = Memory()
    root = 0x10000
    m.put(root, 0x40000000 | 0)  # invalid: bit 0 clear
    assert list(s2walk.walk(root, vtcr(24, 1, 0), 0, m.read)) == []
    with pytest.raises(s2walk.WalkError):
        s2walk.geometry(vtcr(24, 1, 3))
    assert s2walk.header(s2walk.HCR_FWB, vtcr(24, 1, 0), "emulator") == \
        "# stage2 fwb=1 ipa_bits=40 start_level=1 source=emulator"


def test_service_reply_format():
    import s2_service
    ok = s2_service.reply({"header": "# stage2 fwb=1", "leaves": ["ipa=0x1-0x2 level=3"]})
    assert ok == "# stage2 fwb=1\nipa=0x1-0x2 level=3\n# end\n"
    assert s2_service.reply({"error": "no vCPU\nin guest"}) == "# error no vCPU in guest\n# end\n"


def test_service_request_ranges():
    import s2_service
    assert s2_service.parse_request("DUMP") == (0, None)
    assert s2_service.parse_request("DUMP 0x40000000 0x40001000") == (0x40000000, 0x40001000)
    assert s2_service.parse_request("DUMP 1000 2000") == (0x1000, 0x2000)
    for bad in ("", "DUMP 0x2000 0x1000", "DUMP 0x1 0x1", "DUMP x y", "DUMP 0x1",
                "dump", "DUMP 0x1 0x2 0x3", "DUMP -0x1 0x2", f"DUMP 0 {1 << 64:#x}"):
        assert s2_service.parse_request(bad) is None, bad
