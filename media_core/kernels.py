"""Numba kernels for media_core, and nothing else.

Invariant: kernels never allocate and never validate; the public functions beside them
(``g711.py``, ``mixer.py``) check shapes/dtypes, allocate outputs and then call in here.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_ULAW_BIAS = 33  # G.711 Table 2a: bias of 33 on the 14-bit magnitude (0x84 on a 16-bit scale)
_ULAW_CLIP = 0x1FFF
_INT16_MIN = -32768
_INT16_MAX = 32767


@njit(cache=True, nogil=True)
def _ulaw_encode_kernel(x: np.ndarray, out: np.ndarray) -> None:
    """ITU-T G.711 clause 3 / Table 2a (mu-law), as in the ITU-T G.191 STL ``ulaw_compress``.

    Negative inputs take the one's complement before the 2-bit shift so that the quantiser
    is symmetric (x and -x-1 share a magnitude); the Sun/audioop code negates after the shift.
    """
    for k in range(x.size):
        v = int(x.flat[k])
        mag = ((~v) >> 2) + _ULAW_BIAS if v < 0 else (v >> 2) + _ULAW_BIAS
        if mag > _ULAW_CLIP:
            mag = _ULAW_CLIP
        i = mag >> 6
        seg = 1
        while i != 0:
            seg += 1
            i >>= 1
        code = ((8 - seg) << 4) | (0x0F - ((mag >> seg) & 0x0F))
        if v >= 0:
            code |= 0x80
        out.flat[k] = code


@njit(cache=True, nogil=True)
def _ulaw_decode_kernel(codes: np.ndarray, out: np.ndarray) -> None:
    """ITU-T G.711 clause 3 / Table 2a (mu-law) decoder: the mid-point of each decision interval."""
    for k in range(codes.size):
        c = np.int32(~np.int32(codes.flat[k]) & 0xFF)
        seg = (c >> 4) & 0x07
        mag = (((c & 0x0F) << 3) + 0x84) << seg
        out.flat[k] = (0x84 - mag) if (c & 0x80) else (mag - 0x84)


@njit(cache=True, nogil=True)
def _alaw_encode_kernel(x: np.ndarray, out: np.ndarray) -> None:
    """ITU-T G.711 clause 2 / Table 1a (A-law), as in the ITU-T G.191 STL ``alaw_compress``.

    12-bit magnitude (one's complement for negatives), segment 0 and 1 share a step (the 2:1
    compression at low level), sign bit 1 for positive, then even bits inverted (XOR 0x55).
    """
    for k in range(x.size):
        v = int(x.flat[k])
        ix = ((~v) >> 4) if v < 0 else (v >> 4)
        if ix > 15:
            exp = 1
            while ix > 31:
                ix >>= 1
                exp += 1
            ix = ix - 16 + (exp << 4)
        if v >= 0:
            ix |= 0x80
        out.flat[k] = ix ^ 0x55


@njit(cache=True, nogil=True)
def _alaw_decode_kernel(codes: np.ndarray, out: np.ndarray) -> None:
    """ITU-T G.711 clause 2 / Table 1a (A-law) decoder: the mid-point of each decision interval."""
    for k in range(codes.size):
        c = np.int32(codes.flat[k]) ^ 0x55
        seg = (c & 0x70) >> 4
        mant = c & 0x0F
        if seg == 0:
            mag = (mant << 4) + 8
        else:
            mag = ((mant << 4) + 0x108) << (seg - 1)
        out.flat[k] = mag if (c & 0x80) else -mag


@njit(cache=True, nogil=True)
def _mix_minus_kernel(frames: np.ndarray, talkers: np.ndarray, total: np.ndarray, out: np.ndarray) -> None:
    """Mix-minus: out[i] = sat16(sum_j frames[j] - frames[i]); O(P*N) via one int32 total.

    Talker detection: rows that are all zero (silent or muted legs) are left out of the sum;
    finding that costs a scan up to the first non-zero sample, so a talker costs one compare.
    The talkers are summed four rows at a time (one load/store of ``total`` per four rows).

    Every intermediate is pinned to int32: numba widens ``int32 - int16`` to int64, and the
    64-bit lanes halve the SIMD width of the subtract-and-saturate pass.
    """
    p, n = frames.shape
    k = 0
    for j in range(p):
        for t in range(n):
            if frames[j, t] != 0:
                talkers[k] = j
                k += 1
                break
    for t in range(n):
        total[t] = 0
    m = 0
    while m + 4 <= k:
        a = frames[talkers[m]]
        b = frames[talkers[m + 1]]
        c = frames[talkers[m + 2]]
        d = frames[talkers[m + 3]]
        for t in range(n):
            total[t] += (np.int32(a[t]) + np.int32(b[t])) + (np.int32(c[t]) + np.int32(d[t]))
        m += 4
    while m < k:
        a = frames[talkers[m]]
        for t in range(n):
            total[t] += np.int32(a[t])
        m += 1
    lo = np.int32(_INT16_MIN)
    hi = np.int32(_INT16_MAX)
    for i in range(p):
        for t in range(n):
            s = np.int32(total[t] - np.int32(frames[i, t]))
            out[i, t] = np.int16(min(max(s, lo), hi))


@njit(cache=True, nogil=True)
def _mix_sparse_kernel(
    frames: np.ndarray,
    weights: np.ndarray,
    row_ptr: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    acc: np.ndarray,
    total: np.ndarray,
    out: np.ndarray,
) -> None:
    """General mix with hears = 1 w^T + C, C sparse (CSR): out[i] = sat16(w.frames + C[i].frames).

    Cost O(P*N + nnz(C)*N). Accumulator dtype follows ``weights`` (int32 exact, or float32).
    """
    p, n = frames.shape
    for t in range(n):
        total[t] = 0
    for j in range(p):
        w = weights[j]
        if w == 0:
            continue
        for t in range(n):
            total[t] += w * frames[j, t]
    for i in range(p):
        for t in range(n):
            acc[t] = total[t]
        for k in range(row_ptr[i], row_ptr[i + 1]):
            j = cols[k]
            c = vals[k]
            for t in range(n):
                acc[t] += c * frames[j, t]
        for t in range(n):
            s = np.round(acc[t])
            if s > _INT16_MAX:
                s = _INT16_MAX
            elif s < _INT16_MIN:
                s = _INT16_MIN
            out[i, t] = np.int16(s)


@njit(cache=True, nogil=True)
def _mix_sparse_int_kernel(
    frames: np.ndarray,
    weights: np.ndarray,
    row_ptr: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    acc: np.ndarray,
    total: np.ndarray,
    out: np.ndarray,
) -> None:
    """``_mix_sparse_kernel`` for integer gains, every intermediate pinned to int32.

    The caller guarantees max|gain| * P * 32768 < 2**31, so no sum can overflow.
    """
    p, n = frames.shape
    lo = np.int32(_INT16_MIN)
    hi = np.int32(_INT16_MAX)
    for t in range(n):
        total[t] = 0
    for j in range(p):
        w = np.int32(weights[j])
        if w == 0:
            continue
        for t in range(n):
            total[t] += np.int32(w * np.int32(frames[j, t]))
    for i in range(p):
        a = row_ptr[i]
        b = row_ptr[i + 1]
        if a == b:
            for t in range(n):
                out[i, t] = np.int16(min(max(np.int32(total[t]), lo), hi))
            continue
        if b - a == 1:  # the usual case (mix-minus: -1 on oneself), fused into one pass
            j = cols[a]
            c = np.int32(vals[a])
            for t in range(n):
                s = np.int32(total[t] + np.int32(c * np.int32(frames[j, t])))
                out[i, t] = np.int16(min(max(s, lo), hi))
            continue
        for t in range(n):
            acc[t] = total[t]
        for k in range(a, b):
            j = cols[k]
            c = np.int32(vals[k])
            for t in range(n):
                acc[t] += np.int32(c * np.int32(frames[j, t]))
        for t in range(n):
            out[i, t] = np.int16(min(max(np.int32(acc[t]), lo), hi))


@njit(cache=True, nogil=True)
def _split_hears_kernel(hears: np.ndarray, weights: np.ndarray, counts: np.ndarray) -> None:
    """Pick per column j a base weight w_j (majority of three off-diagonal samples) and count exceptions per row."""
    p = hears.shape[0]
    for j in range(p):
        if p == 1:
            weights[j] = 0
            continue
        a = hears[(j + 1) % p, j]
        if p <= 2:
            weights[j] = a
            continue
        b = hears[(j + 2) % p, j]
        if p > 3:
            c = hears[(j + 3) % p, j]
            weights[j] = a if (a == b or a == c) else b
        else:
            weights[j] = a if a == b else b
    for i in range(p):
        c = 0
        for j in range(p):
            if hears[i, j] != weights[j]:
                c += 1
        counts[i] = c


@njit(cache=True, nogil=True)
def _fill_exceptions_kernel(
    hears: np.ndarray, weights: np.ndarray, row_ptr: np.ndarray, cols: np.ndarray, vals: np.ndarray
) -> None:
    """Fill CSR (row_ptr already cumulative) with C[i, j] = hears[i, j] - w_j where non-zero."""
    p = hears.shape[0]
    for i in range(p):
        k = row_ptr[i]
        for j in range(p):
            if hears[i, j] != weights[j]:
                cols[k] = j
                vals[k] = hears[i, j] - weights[j]
                k += 1


@njit(cache=True, nogil=True)
def _lut_kernel(x: np.ndarray, lut: np.ndarray, out: np.ndarray, offset: int) -> None:
    """Table look-up out[k] = lut[x[k] + offset] (G.711 encode via a 64 K table, decode via 256)."""
    for k in range(x.size):
        out.flat[k] = lut[np.int32(x.flat[k]) + offset]


@njit(cache=True, nogil=True)
def _decode_rows_kernel(
    codes: np.ndarray, alaw: np.ndarray, ulaw_table: np.ndarray, alaw_table: np.ndarray, out: np.ndarray
) -> None:
    """G.711 decode of a (P, N) block where row i is A-law (clause 2) if alaw[i] else mu-law (clause 3)."""
    p, n = codes.shape
    for i in range(p):
        table = alaw_table if alaw[i] else ulaw_table
        for t in range(n):
            out[i, t] = table[codes[i, t]]


@njit(cache=True, nogil=True)
def _encode_rows_kernel(
    pcm: np.ndarray, alaw: np.ndarray, ulaw_table: np.ndarray, alaw_table: np.ndarray, out: np.ndarray
) -> None:
    """G.711 encode of a (P, N) block via 64 K tables indexed by sample + 32768, law chosen per row."""
    p, n = pcm.shape
    for i in range(p):
        table = alaw_table if alaw[i] else ulaw_table
        for t in range(n):
            out[i, t] = table[np.int32(pcm[i, t]) + 32768]


@njit(cache=True, nogil=True)
def _g711_mix_minus_rooms_kernel(
    codes: np.ndarray,
    alaw: np.ndarray,
    starts: np.ndarray,
    ulaw_dec: np.ndarray,
    alaw_dec: np.ndarray,
    ulaw_enc: np.ndarray,
    alaw_enc: np.ndarray,
    total: np.ndarray,
    out: np.ndarray,
) -> None:
    """Many mix-minus rooms in one call: rows starts[r]..starts[r+1]-1 are room r.

    Per row: G.711 decode (clause 2 A-law / clause 3 mu-law tables), room total minus own in
    int32, saturate to int16, G.711 encode with the row's law. O(rows * N).
    """
    n = codes.shape[1]
    lo = np.int32(_INT16_MIN)
    hi = np.int32(_INT16_MAX)
    for r in range(starts.size - 1):
        a = starts[r]
        b = starts[r + 1]
        for t in range(n):
            total[t] = 0
        for i in range(a, b):
            dec = alaw_dec if alaw[i] else ulaw_dec
            for t in range(n):
                total[t] += dec[codes[i, t]]
        for i in range(a, b):
            dec = alaw_dec if alaw[i] else ulaw_dec
            enc = alaw_enc if alaw[i] else ulaw_enc
            for t in range(n):
                s = np.int32(total[t] - np.int32(dec[codes[i, t]]))
                out[i, t] = enc[min(max(s, lo), hi) + 32768]
