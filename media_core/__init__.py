"""vpbx media core: audio kernels (numba), conference mixing, recording, fax decoding.

``mix`` is imported lazily, so that light modules (``media_core.blobstore``) can be used by the
backend without loading numba (a Lambda cold start would pay for it).
"""

from __future__ import annotations

from typing import Any

__all__ = ["mix"]


def __getattr__(name: str) -> Any:
    if name == "mix":
        from media_core.mixer import mix

        return mix
    raise AttributeError(f"module 'media_core' has no attribute {name!r}")
