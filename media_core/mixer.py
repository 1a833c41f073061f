"""Conference mixing: who hears whom is a matrix ``hears[listener, talker]``.

Invariant: participant i receives sat16(sum_j hears[i, j] * frames[j]); the default matrix is
mix-minus. Any matrix is split as ``hears = 1 w^T + C`` with C sparse, so the cost is
O(P*N + nnz(C)*N): mix-minus, mute, gains and a few supervisors stay linear in P.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from media_core.kernels import (
    _fill_exceptions_kernel,
    _mix_minus_kernel,
    _mix_sparse_int_kernel,
    _mix_sparse_kernel,
    _split_hears_kernel,
)

Int16Array = npt.NDArray[np.int16]
Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class MixPlan:
    """A ``hears`` matrix split into base column weights plus sparse per-listener corrections (CSR)."""

    size: int
    weights: npt.NDArray[Any]
    row_ptr: npt.NDArray[np.int64]
    cols: npt.NDArray[np.int64]
    vals: npt.NDArray[Any]


def _checked_frames(frames: Any) -> Int16Array:
    arr = np.asarray(frames)
    if arr.dtype != np.int16 or arr.ndim != 2:
        raise TypeError(
            f"frames must be an int16 array of shape (P, N), got dtype {arr.dtype} shape {arr.shape}"
        )
    return np.ascontiguousarray(arr)


@njit(cache=True, nogil=True)
def _mix_minus(frames: Int16Array) -> Int16Array:
    """Allocate and run the mix-minus kernel in compiled code: three numpy allocations and a
    four-argument dispatch from Python cost more than the kernel itself in a room of five."""
    p, n = frames.shape
    out = np.empty((p, n), np.int16)
    _mix_minus_kernel(frames, np.empty(p, np.intp), np.empty(n, np.int32), out)
    return out


def plan_mix(hears: Any) -> MixPlan:
    """Split a ``hears`` matrix for :func:`mix` (cache the result while the matrix is unchanged).

    Parameters
    ----------
    hears : ndarray of float32, shape (P, P)
        ``hears[i, j]`` is the gain with which listener i hears talker j.

    Returns
    -------
    MixPlan
        Base weights and sparse corrections; integer matrices keep an exact int32 accumulator.
    """
    h = np.asarray(hears)
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        raise ValueError(f"hears must be square (P, P), got shape {h.shape}")
    if h.dtype != np.float32:
        raise TypeError(f"hears must be float32, got dtype {h.dtype}")
    if not np.all(np.isfinite(h)):
        bad = np.argwhere(~np.isfinite(h))[0]
        raise ValueError(f"hears[{bad[0]}, {bad[1]}] = {h[tuple(bad)]} is not finite")
    # Integer gains mix exactly in int32 while no sum can overflow: max|gain| * P * 32768 < 2**31.
    integral = (
        bool(np.all(h == np.round(h))) and float(np.abs(h).max(initial=0.0)) * max(h.shape[0], 1) < 65536
    )
    work = np.ascontiguousarray(h.astype(np.int32) if integral else h)
    p = work.shape[0]
    weights = np.empty(p, work.dtype)
    counts = np.empty(p, np.int64)
    _split_hears_kernel(work, weights, counts)
    row_ptr = np.zeros(p + 1, np.int64)
    np.cumsum(counts, out=row_ptr[1:])
    cols = np.empty(int(row_ptr[-1]), np.int64)
    vals = np.empty(int(row_ptr[-1]), work.dtype)
    _fill_exceptions_kernel(work, weights, row_ptr, cols, vals)
    return MixPlan(p, weights, row_ptr, cols, vals)


def mix(frames: Int16Array, hears: Float32Array | MixPlan | None = None) -> Int16Array:
    """Mix one frame of every participant into what each participant hears.

    Parameters
    ----------
    frames : ndarray of int16, shape (P, N)
        Row j is talker j's frame (N samples, e.g. 160 for 20 ms at 8 kHz).
    hears : ndarray of float32, shape (P, P), MixPlan, or None
        ``hears[i, j]`` is the gain of talker j in listener i's mix. None means mix-minus
        (everyone hears everyone but themselves), computed as total minus own in O(P*N).

    Returns
    -------
    ndarray of int16, shape (P, N)
        Row i is sat16(sum_j hears[i, j] * frames[j]); float gains round half to even.

    Raises
    ------
    TypeError
        If ``frames`` is not a 2-D int16 array or ``hears`` is not float32.
    ValueError
        If ``hears`` is not (P, P) or holds a non-finite gain.
    """
    f = _checked_frames(frames)
    if hears is None:
        return _mix_minus(f)
    p, n = f.shape
    plan = hears if isinstance(hears, MixPlan) else plan_mix(hears)
    if plan.size != p:
        raise ValueError(f"hears is for {plan.size} participants but frames has {p} rows")
    out = np.empty((p, n), np.int16)
    acc = np.empty(n, plan.weights.dtype)
    total = np.empty(n, plan.weights.dtype)
    kernel = _mix_sparse_int_kernel if plan.weights.dtype == np.int32 else _mix_sparse_kernel
    kernel(f, plan.weights, plan.row_ptr, plan.cols, plan.vals, acc, total, out)
    return out


# --- hears matrix builders: each returns a new matrix -------------------------------------


def mix_minus_hears(p: int) -> Float32Array:
    """Build the mix-minus matrix: everyone hears everyone but themselves.

    Parameters
    ----------
    p : int
        Number of participants.

    Returns
    -------
    ndarray of float32, shape (p, p)
        Ones with a zero diagonal.
    """
    if p < 0:
        raise ValueError(f"participant count must be >= 0, got {p}")
    h = np.ones((p, p), np.float32)
    np.fill_diagonal(h, 0.0)
    return h


def _copy_checked(hears: Float32Array, *who: int) -> Float32Array:
    p = hears.shape[0]
    for w in who:
        if not 0 <= w < p:
            raise IndexError(f"participant index {w} out of range for {p} participants")
    return hears.copy()


def listen_hears(hears: Float32Array, supervisor: int) -> Float32Array:
    """Put ``supervisor`` in listen mode: hears everyone, heard by nobody.

    Parameters
    ----------
    hears : ndarray of float32, shape (P, P)
        Current matrix (not modified).
    supervisor : int
        Row/column of the supervisor.

    Returns
    -------
    ndarray of float32, shape (P, P)
        A new matrix.
    """
    h = _copy_checked(hears, supervisor)
    h[supervisor, :] = 1.0
    h[:, supervisor] = 0.0
    return h


def whisper_hears(hears: Float32Array, supervisor: int, agent: int) -> Float32Array:
    """Put ``supervisor`` in whisper mode: hears everyone, heard only by ``agent``.

    Parameters
    ----------
    hears : ndarray of float32, shape (P, P)
        Current matrix (not modified).
    supervisor, agent : int
        Rows/columns of the supervisor and of the agent being coached.

    Returns
    -------
    ndarray of float32, shape (P, P)
        A new matrix.
    """
    h = listen_hears(_copy_checked(hears, supervisor, agent), supervisor)
    h[agent, supervisor] = 1.0
    return h


def barge_hears(hears: Float32Array, supervisor: int) -> Float32Array:
    """Put ``supervisor`` in barge mode: hears everyone, heard by everyone.

    Parameters
    ----------
    hears : ndarray of float32, shape (P, P)
        Current matrix (not modified).
    supervisor : int
        Row/column of the supervisor.

    Returns
    -------
    ndarray of float32, shape (P, P)
        A new matrix.
    """
    h = _copy_checked(hears, supervisor)
    h[supervisor, :] = 1.0
    h[:, supervisor] = 1.0
    h[supervisor, supervisor] = 0.0
    return h


def mute_hears(hears: Float32Array, muted: Iterable[int]) -> Float32Array:
    """Mute participants: nobody hears them, they still hear the room.

    Parameters
    ----------
    hears : ndarray of float32, shape (P, P)
        Current matrix (not modified).
    muted : iterable of int
        Columns to silence.

    Returns
    -------
    ndarray of float32, shape (P, P)
        A new matrix.
    """
    who = list(muted)
    h = _copy_checked(hears, *who)
    h[:, who] = 0.0
    return h


def gain_hears(hears: Float32Array, talker: int, gain: float) -> Float32Array:
    """Scale what everyone hears of ``talker`` by ``gain``.

    Parameters
    ----------
    hears : ndarray of float32, shape (P, P)
        Current matrix (not modified).
    talker : int
        Column to scale.
    gain : float
        Linear gain, e.g. 0.5 for -6 dB; must be finite.

    Returns
    -------
    ndarray of float32, shape (P, P)
        A new matrix.
    """
    if not np.isfinite(gain):
        raise ValueError(f"gain must be finite, got {gain}")
    h = _copy_checked(hears, talker)
    h[:, talker] *= np.float32(gain)
    return h
