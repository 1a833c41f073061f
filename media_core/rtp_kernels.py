"""Numba kernels for RTP legs held as rows of arrays: RTP parsing and ring jitter buffers.

Invariant: kernels never allocate and never validate; ``rtp_engine.py`` owns the arrays, checks
sizes and calls in here. Every leg is one row ``i`` of the engine's arrays; its integer state is
``state[i, <column>]`` with the column names below. The socket kernels are in ``udp_kernels``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# --- per-leg state columns ---------------------------------------------------------------------------

FD = 0  # socket fd, -1 when the leg has none (unit tests feed datagrams directly)
PT = 1  # the payload type this leg accepts and sends (0 PCMU, 8 PCMA)
SILENCE = 2  # G.711 silence byte of the leg's law
DEPTH = 3  # jitter prefetch, in frames
MAX_DEPTH = 4  # jitter delay bound, in frames
MAX_CONCEAL = 5  # frames of repetition before concealment turns to silence
REMOTE = 6  # 0 unknown (latch on the first packet), 1 address in ``addrs`` (sendto), 2 connected (send)
ADDRLEN = 7
REMOTE_SSRC = 8  # -1: none yet
HAS_HIGHEST = 9
HIGHEST = 10  # highest extended sequence number seen
HAS_NEXT = 11
NEXT = 12  # extended sequence number to play next
MISSING_RUN = 13
LATE_RUN = 14
WAITED = 15  # pops since the first packet, while prefetching
COUNT = 16  # frames held
ACCEPTED = 17  # frames accepted since the last reset (the prefetch's count)
LOWEST = 18  # lowest extended sequence number accepted since the last reset (where playout starts)
LAST_CONCEALED = 19
RECEIVED = 20
DUPLICATES = 21
LATE = 22
CONCEALED = 23
REORDERED = 24
RESYNCS = 25
REJECTED = 26
PACKETS_IN = 27
PACKETS_OUT = 28
SEND_ERRORS = 29
OUT_SEQ = 30
OUT_TS = 31
SSRC = 32
MARKER = 33  # 1 until the first packet went out (RFC 3551 section 4.1)
BACKLOG = 34  # 1 while extra reads keep finding packets queued in the kernel
GHOSTS_SEEN = 35  # ghosts recorded since the last trim (see GHOSTS)
COLUMNS = 36

RING = 16  # jitter slots per leg (a power of two above MAX_DEPTH)
GHOSTS = 8  # ``seqs[i, RING:]``: numbers the reference still holds that lost their ring slot to a frame RING
# or more newer. It keeps them until its next pop drops them as too old, so a duplicate of one arriving
# before that pop is a duplicate, not a new frame. Beyond GHOSTS between two pops the oldest is forgotten.
EMPTY = np.iinfo(np.int64).min  # ``seqs`` value of a free slot
FRAME = 160


@njit(cache=True, nogil=True)
def _jitter_reset(state: np.ndarray, seqs: np.ndarray, i: int) -> None:
    """JitterBuffer.reset, keeping the counters and the last good frame."""
    for r in range(seqs.shape[1]):
        seqs[i, r] = EMPTY
    state[i, GHOSTS_SEEN] = 0
    state[i, HAS_HIGHEST] = 0
    state[i, HAS_NEXT] = 0
    state[i, MISSING_RUN] = 0
    state[i, LATE_RUN] = 0
    state[i, WAITED] = 0
    state[i, COUNT] = 0
    state[i, ACCEPTED] = 0
    state[i, LAST_CONCEALED] = 1


@njit(cache=True, nogil=True)
def _jitter_low(state: np.ndarray, i: int) -> bool:
    """Fewer frames ahead of playout than the prefetch depth plus the one the next pop takes."""
    if not state[i, HAS_NEXT]:
        return bool(state[i, ACCEPTED] <= state[i, DEPTH])
    return bool(state[i, HIGHEST] - state[i, NEXT] < state[i, DEPTH])


@njit(cache=True, nogil=True)
def _jitter_push(
    state: np.ndarray,
    seqs: np.ndarray,
    data: np.ndarray,
    last_good: np.ndarray,
    i: int,
    seq: int,
    buf: np.ndarray,
    start: int,
    end: int,
) -> None:
    """``JitterBuffer.push`` on ring slots (sequence extension per RFC 3550 appendix A.1).

    A slot already holding another frame RING or more numbers away is resolved for the newer
    frame: the older one is past the delay bound and the next pop would trim it anyway.
    """
    ext = seq
    if state[i, HAS_HIGHEST]:
        base = state[i, HIGHEST]
        ext = (base & ~0xFFFF) | seq
        if ext - base > 0x8000:
            ext -= 0x10000
        elif base - ext > 0x8000:
            ext += 0x10000
    if state[i, HAS_NEXT] and ext < state[i, NEXT]:
        state[i, LATE] += 1
        state[i, LATE_RUN] += 1
        if state[i, LATE_RUN] < 2 * state[i, MAX_DEPTH]:
            return
        state[i, RESYNCS] += 1  # a long run of "old" numbers is a new sequence, not lateness
        _jitter_reset(state, seqs, i)
        ext = seq
    state[i, LATE_RUN] = 0
    r = ext & (RING - 1)
    if seqs[i, r] == ext or (state[i, GHOSTS_SEEN] and _is_ghost(state, seqs, i, ext)):
        state[i, DUPLICATES] += 1
        return
    if state[i, HAS_HIGHEST] and ext < state[i, HIGHEST]:
        state[i, REORDERED] += 1
    state[i, RECEIVED] += 1
    if state[i, ACCEPTED] == 0 or ext < state[i, LOWEST]:
        state[i, LOWEST] = ext
    state[i, ACCEPTED] += 1
    if not state[i, HAS_HIGHEST] or ext > state[i, HIGHEST]:
        state[i, HIGHEST] = ext
        state[i, HAS_HIGHEST] = 1
    held = seqs[i, r]
    if held != EMPTY and held > ext:
        _add_ghost(state, seqs, i, ext)
        return  # the newer frame keeps the slot
    if held == EMPTY:
        state[i, COUNT] += 1
    else:
        _add_ghost(state, seqs, i, held)
    seqs[i, r] = ext
    n = data.shape[2]
    size = min(end - start, n)
    for t in range(size):
        data[i, r, t] = buf[start + t]
    silence = state[i, SILENCE]
    for t in range(size, n):  # pad odd sizes so the mixer always sees whole frames
        data[i, r, t] = silence


@njit(cache=True, nogil=True)
def _is_ghost(state: np.ndarray, seqs: np.ndarray, i: int, ext: int) -> bool:
    for g in range(min(state[i, GHOSTS_SEEN], GHOSTS)):
        if seqs[i, RING + g] == ext:
            return True
    return False


@njit(cache=True, nogil=True)
def _add_ghost(state: np.ndarray, seqs: np.ndarray, i: int, ext: int) -> None:
    seqs[i, RING + state[i, GHOSTS_SEEN] % GHOSTS] = ext
    state[i, GHOSTS_SEEN] += 1


@njit(cache=True, nogil=True)
def _jitter_take(
    state: np.ndarray,
    seqs: np.ndarray,
    data: np.ndarray,
    last_good: np.ndarray,
    i: int,
    r: int,
    out: np.ndarray,
    row: int,
) -> None:
    seqs[i, r] = EMPTY
    state[i, COUNT] -= 1
    for t in range(data.shape[2]):
        v = data[i, r, t]
        last_good[i, t] = v
        out[row, t] = v
    state[i, MISSING_RUN] = 0
    state[i, LAST_CONCEALED] = 0


@njit(cache=True, nogil=True)
def _fill(out: np.ndarray, row: int, value: int) -> None:
    for t in range(out.shape[1]):
        out[row, t] = value


@njit(cache=True, nogil=True)
def _jitter_pop(
    state: np.ndarray,
    seqs: np.ndarray,
    data: np.ndarray,
    last_good: np.ndarray,
    i: int,
    out: np.ndarray,
    row: int,
) -> None:
    """``JitterBuffer.pop_payload`` into ``out[row]``: the next frame, else concealment (repeat, then silence)."""
    ring = RING
    if state[i, HAS_NEXT]:
        nxt = state[i, NEXT]
        r = nxt & (ring - 1)
        if seqs[i, r] == nxt and state[i, HIGHEST] - nxt < state[i, MAX_DEPTH]:
            state[i, NEXT] = nxt + 1  # the expected frame is here and the delay is in bounds
            _jitter_take(state, seqs, data, last_good, i, r, out, row)
            return
    state[i, LAST_CONCEALED] = 1
    if not state[i, HAS_NEXT]:
        if not state[i, HAS_HIGHEST]:
            _fill(out, row, state[i, SILENCE])
            return
        state[i, WAITED] += 1
        if state[i, ACCEPTED] <= state[i, DEPTH] and state[i, WAITED] <= state[i, DEPTH]:
            _fill(out, row, state[i, SILENCE])  # still filling (by count or by time): not a loss
            return
        state[i, NEXT] = state[i, LOWEST]
        state[i, HAS_NEXT] = 1
    highest = state[i, HIGHEST]
    if highest - state[i, NEXT] >= state[i, MAX_DEPTH]:
        floor = highest - state[i, DEPTH]  # sender ran ahead or a burst arrived: bound the delay
        for r in range(ring):
            if seqs[i, r] != EMPTY and seqs[i, r] < floor:
                seqs[i, r] = EMPTY
                state[i, COUNT] -= 1
        state[i, GHOSTS_SEEN] = 0  # every ghost is RING older than a frame held, so below the floor
        state[i, NEXT] = floor
    nxt = state[i, NEXT]
    state[i, NEXT] = nxt + 1
    r = nxt & (ring - 1)
    if seqs[i, r] == nxt:
        _jitter_take(state, seqs, data, last_good, i, r, out, row)
        return
    state[i, CONCEALED] += 1
    state[i, MISSING_RUN] += 1
    if state[i, MISSING_RUN] <= state[i, MAX_CONCEAL]:
        for t in range(out.shape[1]):
            out[row, t] = last_good[i, t]
    else:
        _fill(out, row, state[i, SILENCE])


@njit(cache=True, nogil=True)
def _rtp_ingest(
    state: np.ndarray,
    seqs: np.ndarray,
    data: np.ndarray,
    last_good: np.ndarray,
    i: int,
    buf: np.ndarray,
    n: int,
) -> None:
    """One datagram ``buf[:n]`` for leg ``i``: RFC 3550 section 5.1 header (CSRCs, 5.3.1 extension, padding).

    Malformed packets and other payload types (comfort noise, DTMF events) count as rejected.
    A new SSRC starts a fresh sequence space (e.g. after a re-INVITE).
    """
    if n < 12 or (buf[0] >> 6) != 2:
        state[i, REJECTED] += 1
        return
    b0 = np.int64(buf[0])
    pos = int(12 + 4 * (b0 & 0x0F))
    end = n
    if pos > end:
        state[i, REJECTED] += 1
        return
    if b0 & 0x10:
        if pos + 4 > end:
            state[i, REJECTED] += 1
            return
        pos += int(4 + 4 * ((np.int64(buf[pos + 2]) << 8) | np.int64(buf[pos + 3])))
        if pos > end:
            state[i, REJECTED] += 1
            return
    if b0 & 0x20:
        pad = np.int64(buf[n - 1])
        if pad == 0 or pos + pad > end:
            state[i, REJECTED] += 1
            return
        end -= int(pad)
    if (buf[1] & 0x7F) != state[i, PT]:
        state[i, REJECTED] += 1
        return
    # int64 throughout: uint8 widens to uint64, and uint64 mixed with int64 becomes float in numba
    seq = int((np.int64(buf[2]) << 8) | np.int64(buf[3]))
    ssrc = int(
        (np.int64(buf[8]) << 24) | (np.int64(buf[9]) << 16) | (np.int64(buf[10]) << 8) | np.int64(buf[11])
    )
    if state[i, REMOTE_SSRC] != ssrc:
        if state[i, REMOTE_SSRC] != -1:
            _jitter_reset(state, seqs, i)
            for t in range(last_good.shape[1]):
                last_good[i, t] = state[i, SILENCE]
        state[i, REMOTE_SSRC] = ssrc
    _jitter_push(state, seqs, data, last_good, i, seq, buf, pos, end)


@njit(cache=True, nogil=True)
def _rtp_ingest_kernel(
    state: np.ndarray,
    seqs: np.ndarray,
    data: np.ndarray,
    last_good: np.ndarray,
    i: int,
    buf: np.ndarray,
    n: int,
) -> None:
    """One datagram that did not come through a socket (tests, other transports)."""
    state[i, PACKETS_IN] += 1
    _rtp_ingest(state, seqs, data, last_good, i, buf, n)


@njit(cache=True, nogil=True)
def _jitter_pop_rows_kernel(
    slots: np.ndarray,
    rows: np.ndarray,
    state: np.ndarray,
    seqs: np.ndarray,
    data: np.ndarray,
    last_good: np.ndarray,
    out: np.ndarray,
) -> None:
    """One frame from each leg ``slots[k]`` into ``out[rows[k]]``."""
    for k in range(slots.size):
        _jitter_pop(state, seqs, data, last_good, slots[k], out, rows[k])
