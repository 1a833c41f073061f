"""The shell around the pure projections: SQLite output store, runner, log follower, stream consumer."""

from __future__ import annotations

from domain.projections import ALL, by_name

__all__ = ["ALL", "by_name"]
