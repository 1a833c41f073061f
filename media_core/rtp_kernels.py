"""Numba kernels for the RTP legs of a media server: UDP I/O, RTP parsing and building, jitter buffers.

Invariant: kernels never allocate and never validate; ``rtp_engine.py`` owns the arrays, checks
sizes and calls in here. Every leg is one row ``i`` of the engine's arrays; its integer state is
``state[i, <column>]`` with the column names below. libc is reached through declared external
symbols (``recvfrom``, ``sendto`` ...) rather than ctypes pointers, so the kernels stay cacheable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# --- libc, as external symbols resolved by the JIT (Linux) ----------------------------------------

_I32, _I64, _PTR = ir.IntType(32), ir.IntType(64), ir.IntType(8).as_pointer()
_declare: Any = cgutils.get_or_insert_function  # declares the external symbol once per module


def _libc_codegen(name: str, c_args: list[Any], c_ret: Any, args: tuple[Any, ...]) -> Any:
    sig = types.int64(*args)

    def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
        fn = _declare(builder.module, ir.FunctionType(c_ret, c_args), name)
        vals = []
        for ty, val, cty in zip(signature.args, llargs, c_args, strict=True):
            v = context.cast(builder, val, ty, types.int64)
            vals.append(
                builder.inttoptr(v, _PTR) if cty == _PTR else builder.trunc(v, _I32) if cty == _I32 else v
            )
        result = builder.call(fn, vals)
        return builder.sext(result, _I64) if c_ret == _I32 else result

    return sig, codegen


def _recvfrom_typer(typingctx: Any, fd: Any, buf: Any, size: Any, flags: Any, addr: Any, addrlen: Any) -> Any:
    """ssize_t recvfrom(int, void *, size_t, int, struct sockaddr *, socklen_t *); pointers as int64."""
    return _libc_codegen(
        "recvfrom", [_I32, _PTR, _I64, _I32, _PTR, _PTR], _I64, (fd, buf, size, flags, addr, addrlen)
    )


def _sendto_typer(typingctx: Any, fd: Any, buf: Any, size: Any, flags: Any, addr: Any, addrlen: Any) -> Any:
    """ssize_t sendto(int, const void *, size_t, int, const struct sockaddr *, socklen_t); NULL addr = send."""
    return _libc_codegen(
        "sendto", [_I32, _PTR, _I64, _I32, _PTR, _I32], _I64, (fd, buf, size, flags, addr, addrlen)
    )


def _connect_typer(typingctx: Any, fd: Any, addr: Any, addrlen: Any) -> Any:
    """int connect(int, const struct sockaddr *, socklen_t)."""
    return _libc_codegen("connect", [_I32, _PTR, _I32], _I32, (fd, addr, addrlen))


_recvfrom: Any = intrinsic(_recvfrom_typer)
_sendto: Any = intrinsic(_sendto_typer)
_connect: Any = intrinsic(_connect_typer)
_MSG_DONTWAIT = 0x40

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
COLUMNS = 35

RING = 16  # jitter slots per leg (a power of two above MAX_DEPTH)
EMPTY = np.iinfo(np.int64).min  # ``seqs`` value of a free slot
FRAME = 160


@njit(cache=True, nogil=True)
def _jitter_reset(state: np.ndarray, seqs: np.ndarray, i: int) -> None:
    """JitterBuffer.reset, keeping the counters and the last good frame."""
    for r in range(seqs.shape[1]):
        seqs[i, r] = EMPTY
    state[i, HAS_HIGHEST] = 0
    state[i, HAS_NEXT] = 0
    state[i, MISSING_RUN] = 0
    state[i, LATE_RUN] = 0
    state[i, WAITED] = 0
    state[i, COUNT] = 0
    state[i, ACCEPTED] = 0
    state[i, LAST_CONCEALED] = 1


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
    ring = seqs.shape[1]
    r = ext & (ring - 1)
    if seqs[i, r] == ext:
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
        return  # the newer frame keeps the slot
    if held == EMPTY:
        state[i, COUNT] += 1
    seqs[i, r] = ext
    n = data.shape[2]
    size = min(end - start, n)
    for t in range(size):
        data[i, r, t] = buf[start + t]
    silence = state[i, SILENCE]
    for t in range(size, n):  # pad odd sizes so the mixer always sees whole frames
        data[i, r, t] = silence


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
    ring = seqs.shape[1]
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
def _rtp_receive_kernel(
    live: np.ndarray,
    pending: np.ndarray,
    drain: bool,
    state: np.ndarray,
    seqs: np.ndarray,
    data: np.ndarray,
    last_good: np.ndarray,
    addrs: np.ndarray,
    buf: np.ndarray,
    addrlen: np.ndarray,
    max_rounds: int,
) -> int:
    """Read the socket of every leg ``live[k]``: one ``recvfrom`` each, more only where a queue may be.

    Why not epoll: nearly every leg has a packet every tick, and ``epoll_wait`` costs about as
    much per ready socket as the failed ``recvfrom`` it would save. A leg reads up to
    ``max_rounds`` packets per tick when ``drain`` is set (every few ticks) or while it is
    ``BACKLOG``-ged (a drain found a second packet), so a burst or a sender whose clock runs
    fast cannot build a queue in the kernel. An unlatched leg takes the source of its first
    packet as its remote (symmetric RTP) and connects to it: from then on the kernel drops
    datagrams from anyone else.
    """
    got = 0
    for k in range(live.size):
        pending[k] = 1
    for rnd in range(max_rounds):
        more = False
        for k in range(live.size):
            if not pending[k]:
                continue
            i = live[k]
            fd = state[i, FD]
            latching = state[i, REMOTE] == 0
            addrlen[0] = addrs.shape[1]
            addr_ptr = addrs[i].ctypes.data if latching else 0
            len_ptr = addrlen.ctypes.data if latching else 0
            n = _recvfrom(fd, buf.ctypes.data, buf.size, _MSG_DONTWAIT, addr_ptr, len_ptr)
            if n < 0:
                pending[k] = 0  # empty (or an ICMP error, now consumed): done for this tick
                if rnd > 0:
                    state[i, BACKLOG] = 0
                continue
            if rnd > 0:
                state[i, BACKLOG] = 1
            elif not (drain or state[i, BACKLOG]):
                pending[k] = 0
            more = True
            state[i, PACKETS_IN] += 1
            got += 1
            if latching:
                state[i, ADDRLEN] = addrlen[0]
                state[i, REMOTE] = 2 if _connect(fd, addrs[i].ctypes.data, addrlen[0]) == 0 else 1
            _rtp_ingest(state, seqs, data, last_good, i, buf, n)
        if not more:
            break
    return got


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


@njit(cache=True, nogil=True)
def _rtp_send_rows_kernel(
    slots: np.ndarray,
    rows: np.ndarray,
    frames: np.ndarray,
    state: np.ndarray,
    addrs: np.ndarray,
    packet: np.ndarray,
) -> int:
    """Packetise ``frames[rows[k]]`` for leg ``slots[k]`` (RFC 3550 section 5.1, no CSRC) and send it.

    Legs without a remote yet send nothing. A send the kernel refuses (buffer full, ICMP error)
    loses that packet, as UDP would, and is counted; sequence and timestamp advance either way.
    """
    n = frames.shape[1]
    sent = 0
    for k in range(slots.size):
        i = slots[k]
        remote = state[i, REMOTE]
        if remote == 0 or state[i, FD] < 0:
            continue
        seq, ts, ssrc = state[i, OUT_SEQ], state[i, OUT_TS], state[i, SSRC]
        packet[0] = 0x80
        packet[1] = state[i, PT] | (0x80 if state[i, MARKER] else 0)
        packet[2] = (seq >> 8) & 0xFF
        packet[3] = seq & 0xFF
        packet[4] = (ts >> 24) & 0xFF
        packet[5] = (ts >> 16) & 0xFF
        packet[6] = (ts >> 8) & 0xFF
        packet[7] = ts & 0xFF
        packet[8] = (ssrc >> 24) & 0xFF
        packet[9] = (ssrc >> 16) & 0xFF
        packet[10] = (ssrc >> 8) & 0xFF
        packet[11] = ssrc & 0xFF
        row = rows[k]
        for t in range(n):
            packet[12 + t] = frames[row, t]
        if remote == 2:
            r = _sendto(state[i, FD], packet.ctypes.data, 12 + n, _MSG_DONTWAIT, 0, 0)
        else:
            r = _sendto(
                state[i, FD],
                packet.ctypes.data,
                12 + n,
                _MSG_DONTWAIT,
                addrs[i].ctypes.data,
                state[i, ADDRLEN],
            )
        state[i, MARKER] = 0
        state[i, OUT_SEQ] = (seq + 1) & 0xFFFF
        state[i, OUT_TS] = (ts + n) & 0xFFFFFFFF
        if r < 0:
            state[i, SEND_ERRORS] += 1
        else:
            state[i, PACKETS_OUT] += 1
            sent += 1
    return sent
