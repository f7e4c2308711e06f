"""The QR code a bank scans to open the public verify page: an SVG (segno), as a data URI the
template embeds. Vector, so it stays sharp in print and adds ~2 KB to the PDF."""

from __future__ import annotations

import segno


def qr_data_uri(url: str) -> str:
    """An SVG data URI of ``url`` with error correction M and no quiet-zone border (the page's
    margin is the quiet zone)."""
    return str(segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=0))
