"""Turn a canvas data URL into an ink array, refusing anything unsafe before it is decoded."""

import base64
import binascii
import io
import re
import struct
import warnings
import zlib

import numpy as np
from PIL import Image

MAX_SIDE = 1024
MIN_SIDE = 8
_DATA_URL = re.compile(r"^data:image/(png|jpeg|jpg);base64,(.*)$", re.DOTALL)
_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GRAIN = 8  # paper's grain reaches this many median deviations from its level (about 5.4 standard deviations)


class ImageError(ValueError):
    """The image in a request cannot be used; the message says why in words a person can act on."""


def decode_data_url(data_url):
    """Return the ink of a data-URL image as a float32 array in [0, 1] (ink = 1, background = 0)."""
    if not isinstance(data_url, str):
        raise ImageError("'image' must be a string holding a data URL")
    match = _DATA_URL.match(data_url.strip())
    if not match:
        raise ImageError("'image' must be a data URL like data:image/png;base64,...")
    try:
        raw = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("'image' holds invalid base64") from None
    return ink_from_bytes(raw, _FORMATS[match.group(1)])


def ink_from_bytes(raw, expected_format):
    """Decode PNG/JPEG bytes to ink, checking the header's size before any pixel is decoded."""
    try:
        with warnings.catch_warnings():  # PIL only warns from ~89 Mpixel: such a header is refused the same way
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=["PNG", "JPEG"])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # PIL's header check, before ours
        raise ImageError(f"image is far too large; the largest accepted is {MAX_SIDE}x{MAX_SIDE}") from None
    except Exception:
        raise ImageError("'image' is not a decodable PNG or JPEG image") from None
    if image.format != expected_format:
        raise ImageError(f"'image' says {expected_format} but holds {image.format}")
    width, height = image.size
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageError(f"image is {width}x{height}; the largest accepted is {MAX_SIDE}x{MAX_SIDE}")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageError(f"image is {width}x{height}; the smallest accepted is {MIN_SIDE}x{MIN_SIDE}")
    try:
        if image.mode == "L":  # grayscale without alpha (this app's own PNGs, scans): opaque, nothing to convert
            luminance, alpha = np.asarray(image), 255
        elif image.mode in ("RGBA", "LA"):  # the page's canvas: PIL makes L and takes A far faster than it makes LA
            luminance, alpha = np.asarray(image.convert("L")), np.asarray(image.getchannel("A"))
        else:
            luminance_alpha = np.asarray(image.convert("LA"))
            luminance, alpha = luminance_alpha[..., 0], luminance_alpha[..., 1]
    except Exception:
        raise ImageError("'image' is truncated or corrupt and cannot be decoded") from None
    if isinstance(alpha, np.ndarray) and np.count_nonzero(alpha) * 2 <= alpha.size:
        luminance = 0  # most of it transparent, no paper: what is painted is ink, in any colour (white in dark mode)
    return without_paper(ink_over_paper(luminance, alpha))


def ink_over_paper(luminance, alpha):
    """Composite 8-bit luminance and alpha over white (a transparent canvas is paper) and invert, so dark strokes
    become ink: alpha * (1 - luminance), in [0, 1]. The product is exact in 16 bits, scaled as float32."""
    return np.multiply(np.subtract(255, luminance, dtype=np.uint16) * alpha, np.float32(1 / 255**2), dtype=np.float32)


def without_paper(ink):
    """The strokes alone on paper that is not white (a scan, a photo, a chalkboard, a canvas in dark mode): the
    paper's own level and its grain taken off. Most of a drawing is paper, so where most of the pixels hold some
    ink, the paper's level is their median and its grain their median distance from it. Paper darker than mid-grey
    holds light strokes (ink and paper swap); on any paper, what is not clearly further from its level is paper. A
    canvas's white paper is no ink, and a drawing on it is returned as it is; so is one where paper and grain reach
    mid-grey (noise: nothing to tell strokes from paper by)."""
    if np.count_nonzero(ink) * 2 <= ink.size:
        return ink
    sample = ink[::4, ::4]  # a sixteenth of the pixels tells the paper as well as all of them
    paper = float(np.median(sample))
    stroke_ink = ink
    if paper > 0.5:  # light strokes on dark paper: the ink is how much lighter than the paper a pixel is
        stroke_ink, sample, paper = 1.0 - ink, 1.0 - sample, 1.0 - paper
    floor = paper + GRAIN * float(np.median(np.abs(sample - paper)))
    if floor > 0.5:
        return ink
    return np.clip((stroke_ink - floor) / (1.0 - floor), 0.0, 1.0)  # float32, as the ink


def paper_gray(ink):
    """A [0, 1] ink array as 8-bit gray levels, black ink on white paper: what ink_over_paper reads back."""
    return np.clip((1.0 - ink) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def ink_png(ink):
    """A [0, 1] ink array as a black-on-white 8-bit grayscale PNG, at its own size (how drawings are stored).

    Written here rather than by PIL, whose plumbing costs ten times the encoding for a 28x28 preview."""
    gray = paper_gray(ink)
    height, width = gray.shape
    rows = np.zeros((height, width + 1), dtype=np.uint8)  # each row starts with its filter type: 0, none
    rows[:, 1:] = gray
    return png_file(width, height, 8, 0, zlib.compress(rows.tobytes(), 6))


def png_file(width, height, bit_depth, colour_type, deflated):
    """A PNG of one image: its header's fields and its filtered rows, deflated (colour type 0: gray, 6: RGBA)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", deflated) + png_chunk(b"IEND", b"")


def png_chunk(kind, data):
    """One PNG chunk: length, type, data and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def to_png_data_url(ink):
    """The same PNG as a data URL, as the page and the preview show it."""
    return "data:image/png;base64," + base64.b64encode(ink_png(ink)).decode("ascii")
