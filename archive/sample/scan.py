"""Synthetic greyscale "scans" of paper pages as deterministic JPEG bytes (Pillow).

A page is A4 at the requested resolution: a paper-coloured background, dark bars standing in for
lines of text, a stamp circle near the foot, a page number, and seeded noise over everything. The
noise comes from :class:`random.Random` (``randbytes``), never from Pillow's ``effect_noise`` (which
uses the C library's global ``rand()`` and so differs between calls). More noise and a higher
quality give larger files, which is how benchmarks reach a byte target. Choosing what to scan and
writing files is left to :mod:`archive.sample.generator`.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFont

A4_INCHES = (8.27, 11.69)
PAPER = 238
INK = 60
STAMP = 120


@dataclass(frozen=True)
class ScanStyle:
    """How a scan looks and how large it gets: resolution (dpi), noise amplitude (0–255), JPEG quality."""

    dpi: int = 150
    noise: int = 24
    quality: int = 80

    def __post_init__(self) -> None:
        if not 30 <= self.dpi <= 1200:
            raise ValueError(f"dpi must be within 30..1200, got {self.dpi}")
        if not 0 <= self.noise <= 255:
            raise ValueError(f"noise must be within 0..255, got {self.noise}")
        if not 1 <= self.quality <= 95:
            raise ValueError(f"quality must be within 1..95, got {self.quality}")


def page_size(dpi: int) -> tuple[int, int]:
    """Pixel width and height of an A4 page at ``dpi``."""
    return round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi)


def _draw_text_bars(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, first: bool) -> None:
    margin = w // 8
    line_h = max(2, h // 150)
    y = h // 10
    if first:  # heading: one short centred bar
        hw = w // 3
        draw.rectangle((w // 2 - hw // 2, y, w // 2 + hw // 2, y + line_h * 2), fill=INK)
        y += line_h * 5
    while y < h * 0.78:
        start = margin + (line_h * 2 if rng.random() < 0.2 else 0)
        end = w - margin - (rng.randrange(w // 3) if rng.random() < 0.25 else rng.randrange(line_h * 3))
        draw.rectangle((start, y, max(start + line_h, end), y + line_h), fill=INK + rng.randrange(30))
        y += line_h * 3 + rng.randrange(line_h)


def _draw_stamp(draw: ImageDraw.ImageDraw, w: int, h: int) -> None:
    r = w // 9
    cx, cy = w - w // 4, int(h * 0.85)
    width = max(2, r // 12)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=STAMP, width=width)
    star = [
        (
            cx + r * 0.35 * math.cos(math.radians(-90 + i * 36)) * (1 if i % 2 == 0 else 0.4),
            cy + r * 0.35 * math.sin(math.radians(-90 + i * 36)) * (1 if i % 2 == 0 else 0.4),
        )
        for i in range(10)
    ]
    draw.polygon(star, fill=STAMP)


def _noise_layer(rng: random.Random, size: tuple[int, int], amplitude: int) -> Image.Image:
    raw = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    return raw.point([v * amplitude // 256 for v in range(256)])


def render_scan_page(seed: int, page: int, pages: int, style: ScanStyle) -> bytes:
    """JPEG bytes of one scanned A4 page (greyscale, ``style.dpi`` recorded in the JFIF header).

    The same ``seed``, ``page``, ``pages`` and ``style`` always give the same bytes.

    Raises:
        ValueError: ``page`` is not within 1..``pages``.
    """
    if not 1 <= page <= pages:
        raise ValueError(f"page must be within 1..{pages}, got {page}")
    rng = random.Random(f"scan:{seed}:{page}")  # noqa: S311 - deterministic sample data, not security
    w, h = page_size(style.dpi)
    img = Image.new("L", (w, h), PAPER)
    draw = ImageDraw.Draw(img)
    _draw_text_bars(draw, rng, w, h, first=page == 1)
    if page == pages:
        _draw_stamp(draw, w, h)
    font = ImageFont.load_default(size=max(8, style.dpi // 8))
    draw.text((w // 2, h - h // 25), f"- {page} -", fill=INK, font=font, anchor="mm")
    if style.noise:
        img = ImageChops.subtract(img, _noise_layer(rng, (w, h), style.noise))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=style.quality, dpi=(style.dpi, style.dpi))
    return out.getvalue()
