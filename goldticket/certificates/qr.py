"""The QR code a bank scans to open the public verify page (segno), as a PNG data URI the
template embeds at 30 mm with ``image-rendering: pixelated``, so its modules stay sharp.

PNG, not SVG: WeasyPrint parses segno's SVG path segment by segment, ~35 ms of a ~130 ms
render here; the PNG (one pixel per module, ~0.4 KB) costs ~2 ms."""

from __future__ import annotations

import segno


def qr_data_uri(url: str) -> str:
    """A PNG data URI of ``url`` with error correction M and no quiet-zone border (the page's
    margin is the quiet zone)."""
    return str(segno.make(url, error="m", micro=False).png_data_uri(scale=1, border=0))
