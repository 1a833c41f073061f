"""vpbx media core: audio kernels (numba), conference mixing, recording, fax decoding."""

from media_core.mixer import mix

__all__ = ["mix"]
