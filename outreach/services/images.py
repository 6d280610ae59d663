"""Uploaded pictures (logos, newsletter contributions): checked by content, re-encoded.

Nothing of an upload is kept as it came: the picture is decoded (only PNG,
JPEG and WebP, and only up to MAX_PIXELS, so a small file cannot unpack to
gigabytes), turned upright, scaled down and written anew, which drops EXIF
(places, cameras), ICC profiles, text chunks and anything hidden after the data.
"""

from __future__ import annotations

import io

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"PNG", "JPEG", "WEBP"}
MAX_PIXELS = 40_000_000


class NotAnImage(ValueError):
    """The upload is no picture we take; the message says why, for a person."""


def open_image(data: bytes) -> Image.Image:
    """Decode ``data``; raise NotAnImage unless it is a PNG, JPEG or WebP of sane size."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise NotAnImage(_("This file is not an image we can read.")) from None
    if image.format not in FORMATS:
        raise NotAnImage(_("Please upload a PNG, JPEG or WebP image."))
    if image.width * image.height > MAX_PIXELS:
        raise NotAnImage(_("The image has too many pixels. Please make it smaller."))
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise NotAnImage(_("This file is not an image we can read.")) from None
    return image


def reencode(data: bytes, max_size: tuple[int, int]) -> tuple[bytes, str]:
    """Return the picture in ``data`` written anew within ``max_size``, and its extension.

    PNG stays PNG (lossless, for drawings and logos); photos become WebP.
    Raises NotAnImage.
    """
    source = open_image(data)
    source_format = source.format
    # Turn the picture upright before the orientation tag is dropped with the rest.
    image = ImageOps.exif_transpose(source)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail(max_size, Image.Resampling.LANCZOS)
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    output = io.BytesIO()
    if source_format == "PNG":
        clean.save(output, format="PNG", optimize=True)
        return output.getvalue(), "png"
    clean.save(output, format="WEBP", quality=85, method=4)
    return output.getvalue(), "webp"
