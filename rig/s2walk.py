"""Walk and decode an Armv8 stage-2 translation table from physical memory,
with no help from the kernel that built it (the stage-2 inspector's core).

Inputs are what the emulator gives: VTTBR_EL2, VTCR_EL2, HCR_EL2 (for
FWB) and a read(pa, size) -> bytes function. Output is one Leaf per valid
block or page descriptor, in the format of the kernel's stage-2 view
(docs/interfaces.md section 1), so that the selftests parse both alike.

Arm ARM references: VTCR_EL2 (T0SZ [5:0], SL0 [7:6], TG0 [15:14]),
VTTBR_EL2 (BADDR [47:1]), stage-2 descriptors (D8.3: bits [1:0] type,
MemAttr [5:2], S2AP [7:6], SH [9:8], AF [10], XN [54:53]) and the stage-2
memory attribute encodings with and without HCR_EL2.FWB (D8.6.6).
"""
import struct
from dataclasses import dataclass

HCR_FWB = 1 << 46
# VTCR_EL2.TG0 -> granule size
GRANULES = {0b00: 4096, 0b01: 65536, 0b10: 16384}
# (granule, VTCR_EL2.SL0) -> start level (SL2/DS, for 52-bit IPAs, not handled)
START_LEVEL = {(4096, 0): 2, (4096, 1): 1, (4096, 2): 0, (4096, 3): 3,
               (16384, 0): 3, (16384, 1): 2, (16384, 2): 1, (16384, 3): 0,
               (65536, 0): 3, (65536, 1): 2, (65536, 2): 1}
PA_MASK = (1 << 48) - 1
DEVICE = ("DEVICE_nGnRnE", "DEVICE_nGnRE", "DEVICE_nGRE", "DEVICE_GRE")
S2AP = ("-", "R", "W", "RW")


class WalkError(Exception):
    pass


@dataclass
class Geometry:
    granule: int
    page_shift: int
    bits_per_level: int
    ia_bits: int
    start_level: int

    def shift(self, level):
        return self.page_shift + (3 - level) * self.bits_per_level

    def index_bits(self, level):
        """Index width at @level: the start level takes the rest of the IA
        (up to 16 concatenated tables), the others a whole table."""
        if level == self.start_level:
            return self.ia_bits - self.shift(level)
        return self.bits_per_level


def geometry(vtcr):
    tg0 = (vtcr >> 14) & 3
    if tg0 not in GRANULES:
        raise WalkError(f"VTCR_EL2.TG0={tg0:#b} is reserved")
    granule = GRANULES[tg0]
    sl0 = (vtcr >> 6) & 3
    if (granule, sl0) not in START_LEVEL:
        raise WalkError(f"VTCR_EL2.SL0={sl0} is reserved with a {granule >> 10}K granule")
    page_shift = granule.bit_length() - 1
    return Geometry(granule, page_shift, page_shift - 3, 64 - (vtcr & 0x3F),
                    START_LEVEL[(granule, sl0)])


def memattr_type(memattr, fwb):
    """The memory type a stage-2 MemAttr[3:0] field means (D8.6.6)."""
    if fwb:
        if memattr & 0x8:
            return "OTHER"
        if not memattr & 0x4:
            return DEVICE[memattr & 3]
        return {1: "NORMAL_NC", 2: "NORMAL_WB"}.get(memattr & 3, "OTHER")
    if not memattr & 0xC:
        return DEVICE[memattr & 3]
    return {0x5: "NORMAL_NC", 0xA: "NORMAL_WT", 0xF: "NORMAL_WB"}.get(memattr, "OTHER")


def size_name(size):
    for unit, name in ((1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")):
        if size >= unit and size % unit == 0:
            return f"{size // unit}{name}"
    return str(size)


@dataclass
class Leaf:
    ipa: int
    size: int
    level: int
    pa: int
    memattr: int
    s2ap: int
    xn: int
    af: int
    fwb: bool

    @property
    def type(self):
        return memattr_type(self.memattr, self.fwb)

    def line(self):
        """The kernel view's leaf line (docs/interfaces.md section 1)."""
        return (f"ipa={self.ipa:#018x}-{self.ipa + self.size - 1:#018x} level={self.level} "
                f"size={size_name(self.size)} pa={self.pa:#018x} memattr={self.memattr:#x} "
                f"type={self.type} s2ap={S2AP[self.s2ap]} xn={self.xn}")


def _leaf(desc, ipa, level, geo, fwb):
    size = 1 << geo.shift(level)
    return Leaf(ipa=ipa, size=size, level=level, pa=desc & PA_MASK & ~(size - 1),
                memattr=(desc >> 2) & 0xF, s2ap=(desc >> 6) & 3, xn=(desc >> 53) & 3,
                af=(desc >> 10) & 1, fwb=fwb)


def walk(vttbr, vtcr, hcr, read, start=0, end=None):
    """Every valid leaf whose IPA range meets [start, end), in IPA order.
    read(pa, size) returns the bytes of physical memory at pa."""
    geo = geometry(vtcr)
    fwb = bool(hcr & HCR_FWB)
    limit = 1 << geo.ia_bits
    end = limit if end is None else min(end, limit)
    root = vttbr & PA_MASK & ~1

    def table(pa, level, base):
        n = 1 << geo.index_bits(level)
        shift = geo.shift(level)
        raw = read(pa, n * 8)
        if len(raw) != n * 8:
            raise WalkError(f"short read of the level-{level} table at {pa:#x}")
        for i, desc in enumerate(struct.unpack(f"<{n}Q", raw)):
            ipa = base + (i << shift)
            if ipa + (1 << shift) <= start or ipa >= end:
                continue
            if not desc & 1:
                continue
            if level == 3:
                if desc & 3 == 3:
                    yield _leaf(desc, ipa, level, geo, fwb)
            elif desc & 3 == 1:
                yield _leaf(desc, ipa, level, geo, fwb)
            else:
                yield from table(desc & PA_MASK & ~(geo.granule - 1), level + 1, ipa)

    yield from table(root, geo.start_level, 0)


def header(hcr, vtcr, source):
    geo = geometry(vtcr)
    return (f"# stage2 fwb={int(bool(hcr & HCR_FWB))} ipa_bits={geo.ia_bits} "
            f"start_level={geo.start_level} source={source}")
