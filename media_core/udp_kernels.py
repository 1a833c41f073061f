"""Numba kernels for the UDP side of RTP legs: read every leg's socket, packetise and send.

Invariant: kernels never allocate and never validate (see ``rtp_kernels`` for the row layout);
they call libc directly (``libc_calls``), so one kernel call serves every leg of the server.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from media_core.libc_calls import MSG_DONTWAIT, connect, recvfrom, sendto
from media_core.rtp_kernels import (
    ADDRLEN,
    BACKLOG,
    FD,
    MARKER,
    OUT_SEQ,
    OUT_TS,
    PACKETS_IN,
    PACKETS_OUT,
    PT,
    REMOTE,
    SEND_ERRORS,
    SSRC,
    _jitter_low,
    _rtp_ingest,
)


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
    ``max_rounds`` packets per tick while its jitter buffer is below its level (a packet that
    came just after last tick's read waits in the kernel: fetch it now rather than conceal
    later), when ``drain`` is set (every few ticks), and while it is ``BACKLOG``-ged (an extra
    read found a packet), so a burst or a sender whose clock runs fast cannot build a queue in
    the kernel either. An unlatched leg takes the source of its first packet as its remote
    (symmetric RTP) and connects to it: from then on the kernel drops datagrams from anyone else.
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
            n = recvfrom(fd, buf.ctypes.data, buf.size, MSG_DONTWAIT, addr_ptr, len_ptr)
            if n < 0:
                pending[k] = 0  # empty (or an ICMP error, now consumed): done for this tick
                if rnd > 0:
                    state[i, BACKLOG] = 0
                continue
            more = True
            state[i, PACKETS_IN] += 1
            got += 1
            if latching:
                state[i, ADDRLEN] = addrlen[0]
                state[i, REMOTE] = 2 if connect(fd, addrs[i].ctypes.data, addrlen[0]) == 0 else 1
            _rtp_ingest(state, seqs, data, last_good, i, buf, n)
            if rnd > 0:
                state[i, BACKLOG] = 1
            elif not (drain or state[i, BACKLOG] or _jitter_low(state, i)):
                pending[k] = 0  # the usual case: one packet, buffer at its level
        if not more:
            break
    return got


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
            r = sendto(state[i, FD], packet.ctypes.data, 12 + n, MSG_DONTWAIT, 0, 0)
        else:
            r = sendto(
                state[i, FD],
                packet.ctypes.data,
                12 + n,
                MSG_DONTWAIT,
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
