"""Fax pages to files: one multi-page TIFF (Group 4), one PDF, one PNG per page (via Pillow).

Invariant: fax pels are not square (204 x 98 or 204 x 196 dpi), so every output either records both
resolutions (TIFF, PDF) or is resampled to square pels (PNG) so the page keeps its A4 aspect ratio.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from media_core.fax.document import FaxDocument, FaxPage


@dataclass(frozen=True)
class RenderedFax:
    tiff: bytes
    pdf: bytes
    pngs: tuple[bytes, ...]


def page_image(page: FaxPage) -> Image.Image:
    """Bilevel image with the fax's own pel grid (1 = black in the decoder, white = 1 in Pillow mode 1)."""
    bits = page.decoded.bits
    return Image.frombytes("1", (page.decoded.width, page.decoded.rows), np.invert(bits).tobytes())


def _stretched(page: FaxPage, y_dpi: int) -> Image.Image:
    """Repeat rows so a page sampled at a lower vertical resolution matches ``y_dpi``."""
    img = page_image(page)
    factor = max(1, round(y_dpi / page.dpi[1]))
    if factor == 1:
        return img
    return img.resize((img.width, img.height * factor), Image.Resampling.NEAREST)


def render(doc: FaxDocument) -> RenderedFax:
    """Encode the document; raises ValueError when it has no page."""
    if not doc.pages:
        raise ValueError("a fax without pages has nothing to render")
    x_dpi = doc.pages[0].dpi[0]
    y_dpi = max(p.dpi[1] for p in doc.pages)
    images = [_stretched(p, y_dpi) for p in doc.pages]
    tiff = io.BytesIO()
    images[0].save(
        tiff, format="TIFF", save_all=True, append_images=images[1:], compression="group4", dpi=(x_dpi, y_dpi)
    )
    pdf = io.BytesIO()
    images[0].save(pdf, format="PDF", save_all=True, append_images=images[1:], dpi=(x_dpi, y_dpi))
    pngs = []
    for img in images:
        # square pels for screens: scale rows by x_dpi / y_dpi (x1.04 for fine, x2.08 for standard)
        square = img.resize((img.width, round(img.height * x_dpi / y_dpi)), Image.Resampling.NEAREST)
        buf = io.BytesIO()
        square.save(buf, format="PNG", optimize=False, dpi=(x_dpi, x_dpi))
        pngs.append(buf.getvalue())
    return RenderedFax(tiff.getvalue(), pdf.getvalue(), tuple(pngs))


def write_files(rendered: RenderedFax, out_dir: Path) -> list[Path]:
    """DIR/fax.tiff, DIR/fax.pdf, DIR/page-N.png (N from 1)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "fax.tiff", out_dir / "fax.pdf"]
    paths[0].write_bytes(rendered.tiff)
    paths[1].write_bytes(rendered.pdf)
    for i, png in enumerate(rendered.pngs, start=1):
        p = out_dir / f"page-{i}.png"
        p.write_bytes(png)
        paths.append(p)
    return paths
