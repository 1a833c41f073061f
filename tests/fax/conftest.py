from __future__ import annotations

from pathlib import Path

import pytest

from tests.fax import spandsp_sessions as ss


@pytest.fixture(scope="session")
def source_tiffs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two 3-page documents (fine and standard resolution) for spandsp to send."""
    d = tmp_path_factory.mktemp("fax-src")
    fine, std = d / "fine.tif", d / "standard.tif"
    ss.write_tiff(ss.make_pages(3, 1100, seed=1), fine, fine=True)
    ss.write_tiff(ss.make_pages(2, 1100, seed=2), std, fine=False)
    return {"fine": fine, "standard": std}
