"""Test signals and measurements: tones, sweeps, Goertzel power."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RATE = 8000


def tone(freq: float, n: int, amplitude: float = 8000.0, rate: int = RATE) -> npt.NDArray[np.int16]:
    t = np.arange(n) / rate
    return np.round(amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def sweep(f0: float, f1: float, n: int, amplitude: float = 8000.0, rate: int = RATE) -> npt.NDArray[np.int16]:
    t = np.arange(n) / rate
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * t[-1]))
    return np.round(amplitude * np.sin(phase)).astype(np.int16)


def goertzel_amplitude(x: npt.NDArray[np.generic], freq: float, rate: int = RATE) -> float:
    """Amplitude of the ``freq`` component of ``x`` (a sine of amplitude A reads about A)."""
    s = np.asarray(x, np.float64)
    n = s.size
    w = 2 * np.pi * freq / rate
    coeff = 2 * np.cos(w)
    q1 = q2 = 0.0
    for v in s:
        q0 = coeff * q1 - q2 + v
        q2, q1 = q1, q0
    power = q1 * q1 + q2 * q2 - coeff * q1 * q2
    return float(2 * np.sqrt(max(power, 0.0)) / n)
