"""Numba kernels for T.4 (MH, MR) and T.6 (MMR) page decoding; nothing else lives here.

Invariant: kernels never read past ``nbits`` (callers pad ``data`` with 4 zero octets so a 32-bit
window is always addressable), never write outside ``out``, and always make progress, so any byte
string decodes in time linear in its length and rows bounded by ``out.shape[0]``.
Bit order: first bit on the line = most significant bit of each octet (T.38 and TIFF FillOrder 1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Statuses returned by _decode_page_kernel (mirrored in t4.py).
END_OF_PAGE = 0  # RTC (T.4 §4.1.4) or EOFB (T.6 §2.4.1.1)
END_OF_DATA = 1  # data ran out before RTC/EOFB
ROW_LIMIT = 2  # the caller's row budget was reached (endless page)
MMR_BROKEN = 3  # T.6 has no resync point: the rest of the page is lost
NO_EOL = 4  # T.4 data without any EOL

_LINE_OK = 0
_LINE_BAD = 1
_LINE_EOD = 2


@njit(cache=True, nogil=True)
def _peek_kernel(data, pos, n):  # type: ignore[no-untyped-def]
    b = pos >> 3
    w = (np.int64(data[b]) << 24) | (np.int64(data[b + 1]) << 16) | (np.int64(data[b + 2]) << 8) | data[b + 3]
    return (w >> (32 - (pos & 7) - n)) & ((1 << n) - 1)


@njit(cache=True, nogil=True)
def _eol_here_kernel(data, pos, nbits):  # type: ignore[no-untyped-def]
    """Position after an EOL (>= 11 zeros then 1; T.4 §4.1.2 fill allowed) starting at pos, else -1."""
    zeros = 0
    while pos < nbits:
        if _peek_kernel(data, pos, 1):
            return pos + 1 if zeros >= 11 else -1
        zeros += 1
        pos += 1
    return -1


@njit(cache=True, nogil=True)
def _sync_eol_kernel(data, pos, nbits):  # type: ignore[no-untyped-def]
    """Resynchronise after a corrupt line: position after the next EOL, or -1 (T.4 §4.1.2)."""
    zeros = 0
    while pos < nbits:
        if _peek_kernel(data, pos, 1):
            if zeros >= 11:
                return pos + 1
            zeros = 0
        else:
            zeros += 1
        pos += 1
    return -1


@njit(cache=True, nogil=True)
def _only_zeros_left_kernel(data, pos, nbits):  # type: ignore[no-untyped-def]
    """True when only padding remains (a strip or frame that ends without a final EOL)."""
    while pos < nbits:
        if _peek_kernel(data, pos, 1):
            return False
        pos += 1
    return True


@njit(cache=True, nogil=True)
def _run_kernel(data, pos, nbits, table):  # type: ignore[no-untyped-def]
    """One run length: make-up codes then a terminating code (T.4 §4.1.1). Returns (run|-1, pos)."""
    total = 0
    while pos < nbits:
        e = table[_peek_kernel(data, pos, 13)]
        run = e >> 8
        if run < 0:
            return -1, pos
        pos += e & 0xFF
        total += run
        if run < 64:
            return total, pos
        if total > 65536:
            return -1, pos
    return -1, pos


@njit(cache=True, nogil=True)
def _line_1d_kernel(data, pos, nbits, width, wt, bt, row, cur):  # type: ignore[no-untyped-def]
    """One MH line (T.4 §4.1.1) into row; changing elements into cur. Returns (status, pos, n)."""
    a0 = 0
    colour = 0
    n = 0
    while a0 < width:
        if pos >= nbits:
            return _LINE_EOD, pos, n
        run, pos = _run_kernel(data, pos, nbits, wt if colour == 0 else bt)
        if run < 0 or a0 + run > width or n > width:
            return _LINE_BAD, pos, n
        if colour:
            row[a0 : a0 + run] = 1
        a0 += run
        if a0 < width:
            cur[n] = a0
            n += 1
        colour ^= 1
    return _LINE_OK, pos, n


@njit(cache=True, nogil=True)
def _line_2d_kernel(data, pos, nbits, width, wt, bt, mt, ref, row, cur):  # type: ignore[no-untyped-def]
    """One 2D line against reference line ref (T.4 §4.2.1.3, T.6 §2.2). Returns (status, pos, n)."""
    a0 = -1  # "imaginary" element before the first pel (T.4 §4.2.1.3.4)
    colour = 0
    n = 0
    k = 0
    while a0 < width:
        if pos >= nbits:
            return _LINE_EOD, pos, n
        e = mt[_peek_kernel(data, pos, 7)]
        mode = e >> 8
        pos += e & 0xFF
        start = a0 if a0 > 0 else 0
        while ref[k] <= a0:
            k += 1
        i = k + ((k ^ colour) & 1)  # b1 has the colour opposite to a0's: alternate changes
        b1 = ref[i]
        b2 = ref[i + 1]
        if n > width:
            return _LINE_BAD, pos, n
        if mode == 0:  # pass
            if colour:
                row[start:b2] = 1
            a0 = b2
        elif mode == 1:  # horizontal: two MH runs
            r1, pos = _run_kernel(data, pos, nbits, wt if colour == 0 else bt)
            if r1 < 0:
                return _LINE_BAD, pos, n
            r2, pos = _run_kernel(data, pos, nbits, bt if colour == 0 else wt)
            a1 = start + r1
            a2 = a1 + r2
            if r2 < 0 or a2 > width:
                return _LINE_BAD, pos, n
            if colour:
                row[start:a1] = 1
            else:
                row[a1:a2] = 1
            cur[n] = a1
            cur[n + 1] = a2
            n += 2
            a0 = a2
        elif mode <= 8:  # vertical: a1 = b1 + offset
            d = 0
            if mode == 3:
                d = 1
            elif mode == 4:
                d = 2
            elif mode == 5:
                d = 3
            elif mode == 6:
                d = -1
            elif mode == 7:
                d = -2
            elif mode == 8:
                d = -3
            a1 = b1 + d
            if a1 < start or a1 > width:
                return _LINE_BAD, pos, n
            if colour:
                row[start:a1] = 1
            cur[n] = a1
            n += 1
            a0 = a1
            colour ^= 1
        else:  # extension (uncompressed mode, unsupported) or an EOL inside a line
            return _LINE_BAD, pos, n
    return _LINE_OK, pos, n


@njit(cache=True, nogil=True)
def _decode_t6_kernel(data, nbits, width, wt, bt, mt, out):  # type: ignore[no-untyped-def]
    """T.6 page (every line 2D, no EOLs) into out (rows x width, 1 = black).

    Returns (rows, bad_rows, status, pos). A coding error ends the page: T.6 §2.2 has no resync point.
    """
    ref = np.full(width + 8, width, dtype=np.int32)  # imaginary all-white line above the first (T.6 §2.2.1)
    cur = np.full(width + 8, width, dtype=np.int32)
    rows = 0
    pos = 0
    while rows < out.shape[0]:
        zeros = 0
        while pos + zeros < nbits and _peek_kernel(data, pos + zeros, 1) == 0:
            zeros += 1
        if pos + zeros >= nbits:  # nothing but zero padding left: no EOFB, but no lost line either
            return rows, 0, END_OF_DATA, nbits
        if zeros >= 11:  # EOFB = EOL EOL (T.6 §2.4.1.1); one EOL is enough to know the page is over
            return rows, 0, END_OF_PAGE, pos + zeros + 1
        status, pos, n = _line_2d_kernel(data, pos, nbits, width, wt, bt, mt, ref, out[rows], cur)
        if status != _LINE_OK:
            out[rows, :] = 0
            return rows, 0, MMR_BROKEN if status == _LINE_BAD else END_OF_DATA, pos
        cur[n : n + 4] = width
        ref, cur = cur, ref
        rows += 1
    return rows, 0, ROW_LIMIT, pos


@njit(cache=True, nogil=True)
def _decode_t4_kernel(data, nbits, width, two_d, wt, bt, mt, out):  # type: ignore[no-untyped-def]
    """T.4 MH (two_d=False) or MR page into out (rows x width, 1 = black).

    Returns (rows, bad_rows, status, pos). A corrupt line is replaced by the line above it and decoding
    resumes at the next EOL (T.4 §4.1.2 / Appendix I practice), so one error costs one line.
    """
    ref = np.full(width + 8, width, dtype=np.int32)
    cur = np.full(width + 8, width, dtype=np.int32)
    rows = 0
    bad = 0
    pos = _sync_eol_kernel(data, 0, nbits)
    if pos < 0:
        return 0, 0, NO_EOL, nbits
    eols = 1
    while True:
        if rows >= out.shape[0]:
            return rows, bad, ROW_LIMIT, pos
        one_d = True
        if two_d:  # tag bit after each EOL: 1 = next line 1D, 0 = 2D (T.4 §4.2.1.3.5)
            if pos >= nbits:
                return rows, bad, END_OF_DATA, pos
            one_d = _peek_kernel(data, pos, 1) == 1
            pos += 1
        p2 = _eol_here_kernel(data, pos, nbits)
        if p2 >= 0:
            eols += 1
            pos = p2
            if eols >= 2:  # RTC: six EOLs, but no line can be empty, so the second one settles it
                return rows, bad, END_OF_PAGE, pos
            continue
        if pos >= nbits:
            return rows, bad, END_OF_DATA, pos
        row = out[rows]
        if one_d:
            status, pos, n = _line_1d_kernel(data, pos, nbits, width, wt, bt, row, cur)
        else:
            status, pos, n = _line_2d_kernel(data, pos, nbits, width, wt, bt, mt, ref, row, cur)
        if status == _LINE_OK:
            p2 = _eol_here_kernel(data, pos, nbits)
            if p2 >= 0 or _only_zeros_left_kernel(data, pos, nbits):
                cur[n : n + 4] = width
                ref, cur = cur, ref
                rows += 1
                eols = 1
                if p2 < 0:
                    return rows, bad, END_OF_DATA, pos
                pos = p2
                continue
        elif status == _LINE_EOD:
            row[:] = 0
            return rows, bad, END_OF_DATA, pos
        # corrupt line: repeat the previous one, keep the old reference line, resync on the next EOL
        if rows > 0:
            row[:] = out[rows - 1]
        else:
            row[:] = 0
        rows += 1
        bad += 1
        pos = _sync_eol_kernel(data, pos, nbits)
        if pos < 0:
            return rows, bad, END_OF_DATA, nbits
        eols = 1
