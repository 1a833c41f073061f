"""T.4 code tables (ITU-T T.4 §4.1.1 Tables 1-3, §4.2.1.3.1 Table 4) as lookup arrays for the kernels.

Invariant: built once at import; every 13-bit (run codes) or 7-bit (2D mode codes) prefix maps to
exactly one entry, so the kernels never branch on code length.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# Run codes (T.4 Tables 1 and 2), written as bit strings because that is how the recommendation prints them.
_WHITE_TERM = (
    "00110101 000111 0111 1000 1011 1100 1110 1111 10011 10100 00111 01000 001000 000011 110100 110101 "
    "101010 101011 0100111 0001100 0001000 0010111 0000011 0000100 0101000 0101011 0010011 0100100 0011000 "
    "00000010 00000011 00011010 00011011 00010010 00010011 00010100 00010101 00010110 00010111 00101000 "
    "00101001 00101010 00101011 00101100 00101101 00000100 00000101 00001010 00001011 01010010 01010011 "
    "01010100 01010101 00100100 00100101 01011000 01011001 01011010 01011011 01001010 01001011 00110010 "
    "00110011 00110100"
)
_WHITE_MAKEUP = (
    "11011 10010 010111 0110111 00110110 00110111 01100100 01100101 01101000 01100111 011001100 011001101 "
    "011010010 011010011 011010100 011010101 011010110 011010111 011011000 011011001 011011010 011011011 "
    "010011000 010011001 010011010 011000 010011011"
)
_BLACK_TERM = (
    "0000110111 010 11 10 011 0011 0010 00011 000101 000100 0000100 0000101 0000111 00000100 00000111 "
    "000011000 0000010111 0000011000 0000001000 00001100111 00001101000 00001101100 00000110111 00000101000 "
    "00000010111 00000011000 000011001010 000011001011 000011001100 000011001101 000001101000 000001101001 "
    "000001101010 000001101011 000011010010 000011010011 000011010100 000011010101 000011010110 000011010111 "
    "000001101100 000001101101 000011011010 000011011011 000001010100 000001010101 000001010110 000001010111 "
    "000001100100 000001100101 000001010010 000001010011 000000100100 000000110111 000000111000 000000100111 "
    "000000101000 000001011000 000001011001 000000101011 000000101100 000001011010 000001100110 000001100111"
)
_BLACK_MAKEUP = (
    "0000001111 000011001000 000011001001 000001011011 000000110011 000000110100 000000110101 0000001101100 "
    "0000001101101 0000001001010 0000001001011 0000001001100 0000001001101 0000001110010 0000001110011 "
    "0000001110100 0000001110101 0000001110110 0000001110111 0000001010010 0000001010011 0000001010100 "
    "0000001010101 0000001011010 0000001011011 0000001100100 0000001100101"
)
# Extended make-up codes 1792..2560 (T.4 Table 3), shared by both colours; needed for 2048/2432-pel lines.
_EXT_MAKEUP = (
    "00000001000 00000001100 00000001101 000000010010 000000010011 000000010100 000000010101 "
    "000000010110 000000010111 000000011100 000000011101 000000011110 000000011111"
)

RUN_BITS = 13  # longest run code (black make-up) is 13 bits
RUN_INVALID = -1
RUN_ZEROS = -2  # 11+ zeros: an EOL (or fill before one), never part of a run code

# 2D modes (T.4 Table 4); the kernels switch on these numbers.
MODE_P, MODE_H, MODE_V0 = 0, 1, 2
MODE_VR1, MODE_VR2, MODE_VR3, MODE_VL1, MODE_VL2, MODE_VL3 = 3, 4, 5, 6, 7, 8
MODE_EXT, MODE_ZEROS = 9, 10
MODE_BITS = 7
_MODES = {
    "1": MODE_V0,
    "011": MODE_VR1,
    "010": MODE_VL1,
    "001": MODE_H,
    "0001": MODE_P,
    "000011": MODE_VR2,
    "000010": MODE_VL2,
    "0000011": MODE_VR3,
    "0000010": MODE_VL3,
    "0000001": MODE_EXT,
    "0000000": MODE_ZEROS,
}


def _codes(terms: str, makeups: str) -> list[tuple[str, int]]:
    out = [(c, i) for i, c in enumerate(terms.split())]
    out += [(c, 64 * (i + 1)) for i, c in enumerate(makeups.split())]
    out += [(c, 1792 + 64 * i) for i, c in enumerate(_EXT_MAKEUP.split())]
    return out


def _run_table(codes: list[tuple[str, int]]) -> npt.NDArray[np.int32]:
    """Packed entries: run << 8 | code length; run < 0 marks invalid / EOL zeros."""
    size = 1 << RUN_BITS
    runs = np.full(size, RUN_INVALID, dtype=np.int32)
    lens = np.zeros(size, dtype=np.int32)
    runs[: 1 << (RUN_BITS - 11)] = RUN_ZEROS  # every index starting with 11 zeros
    lens[: 1 << (RUN_BITS - 11)] = 11
    for bits, run in codes:
        shift = RUN_BITS - len(bits)
        base = int(bits, 2) << shift
        if runs[base] != RUN_INVALID:
            raise ValueError(f"code table not prefix-free at {bits}")
        runs[base : base + (1 << shift)] = run
        lens[base : base + (1 << shift)] = len(bits)
    return (runs << 8) | lens


def _mode_table() -> npt.NDArray[np.int32]:
    table = np.full(1 << MODE_BITS, -1, dtype=np.int32)
    for bits, mode in _MODES.items():
        shift = MODE_BITS - len(bits)
        base = int(bits, 2) << shift
        table[base : base + (1 << shift)] = (mode << 8) | len(bits)
    if (table < 0).any():
        raise ValueError("2D mode table incomplete")
    return table


WHITE_TABLE = _run_table(_codes(_WHITE_TERM, _WHITE_MAKEUP))
BLACK_TABLE = _run_table(_codes(_BLACK_TERM, _BLACK_MAKEUP))
MODE_TABLE = _mode_table()
EOL_CODE = "000000000001"
EOL_ZEROS = 11
