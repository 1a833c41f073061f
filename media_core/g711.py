"""G.711 mu-law and A-law codecs on numpy arrays (int16 <-> uint8).

Invariant: results are those of the ITU-T G.191 reference implementation of G.711 for every
one of the 65,536 int16 inputs and 256 codes. The kernels compute the tables once at import;
the public functions are table look-ups.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from media_core.kernels import (
    _alaw_decode_kernel,
    _alaw_encode_kernel,
    _lut_kernel,
    _ulaw_decode_kernel,
    _ulaw_encode_kernel,
)

Int16Array = npt.NDArray[np.int16]
UInt8Array = npt.NDArray[np.uint8]

ULAW_SILENCE = 0xFF
ALAW_SILENCE = 0xD5


def _build_tables() -> tuple[UInt8Array, UInt8Array, Int16Array, Int16Array]:
    every_sample = np.arange(-32768, 32768, dtype=np.int16)
    every_code = np.arange(256, dtype=np.uint8)
    ulaw_enc = np.empty(65536, np.uint8)
    alaw_enc = np.empty(65536, np.uint8)
    ulaw_dec = np.empty(256, np.int16)
    alaw_dec = np.empty(256, np.int16)
    _ulaw_encode_kernel(every_sample, ulaw_enc)
    _alaw_encode_kernel(every_sample, alaw_enc)
    _ulaw_decode_kernel(every_code, ulaw_dec)
    _alaw_decode_kernel(every_code, alaw_dec)
    return ulaw_enc, alaw_enc, ulaw_dec, alaw_dec


# Index the encode tables with sample + 32768, the decode tables with the code.
ULAW_ENCODE_TABLE, ALAW_ENCODE_TABLE, ULAW_DECODE_TABLE, ALAW_DECODE_TABLE = _build_tables()


def _checked(x: Any, dtype: type[np.generic], name: str) -> npt.NDArray[Any]:
    arr = np.asarray(x)
    if arr.dtype != dtype:
        raise TypeError(f"{name} needs a {np.dtype(dtype).name} array, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr)


def _encode(x: Any, table: UInt8Array, name: str) -> UInt8Array:
    arr = _checked(x, np.int16, name)
    out = np.empty(arr.shape, np.uint8)
    _lut_kernel(arr, table, out, 32768)
    return out


def _decode(codes: Any, table: Int16Array, name: str) -> Int16Array:
    arr = _checked(codes, np.uint8, name)
    out = np.empty(arr.shape, np.int16)
    _lut_kernel(arr, table, out, 0)
    return out


def ulaw_encode(x: Int16Array) -> UInt8Array:
    """Encode linear PCM to G.711 mu-law.

    Parameters
    ----------
    x : ndarray of int16
        Linear samples, any shape.

    Returns
    -------
    ndarray of uint8
        Mu-law codes, same shape (silence is 0xFF).

    Raises
    ------
    TypeError
        If ``x`` is not int16.
    """
    return _encode(x, ULAW_ENCODE_TABLE, "ulaw_encode")


def ulaw_decode(codes: UInt8Array) -> Int16Array:
    """Decode G.711 mu-law codes to linear PCM.

    Parameters
    ----------
    codes : ndarray of uint8
        Mu-law codes, any shape.

    Returns
    -------
    ndarray of int16
        Linear samples, same shape.
    """
    return _decode(codes, ULAW_DECODE_TABLE, "ulaw_decode")


def alaw_encode(x: Int16Array) -> UInt8Array:
    """Encode linear PCM to G.711 A-law.

    Parameters
    ----------
    x : ndarray of int16
        Linear samples, any shape.

    Returns
    -------
    ndarray of uint8
        A-law codes, same shape (silence is 0xD5).
    """
    return _encode(x, ALAW_ENCODE_TABLE, "alaw_encode")


def alaw_decode(codes: UInt8Array) -> Int16Array:
    """Decode G.711 A-law codes to linear PCM.

    Parameters
    ----------
    codes : ndarray of uint8
        A-law codes, any shape.

    Returns
    -------
    ndarray of int16
        Linear samples, same shape.
    """
    return _decode(codes, ALAW_DECODE_TABLE, "alaw_decode")
