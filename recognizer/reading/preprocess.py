"""Bring a drawing to MNIST's form: ink box (slant removed, thin pens widened), 20 px on its long side, centred by
mass in 28x28."""

import numpy as np
from PIL import Image

SIZE = 28
BOX = 20
INK_THRESHOLD = 0.2  # a pixel darker than this counts as ink when finding the drawing's box
MIN_INK_PIXELS = 4  # fewer inked pixels than this is a blank canvas (a stray click, JPEG noise)
MIN_STROKE = 0.09  # thinnest pen, as a share of the box's long side (MNIST's pens: about 0.13)
CORE = 0.9  # a pen's core: the ink this share of its inked pixels reach at most
WORKING = 64  # a large drawing is first shrunk to this long side: 20 px are kept in the end anyway
MAX_SLANT = 0.5  # the most shear removed (about 27 degrees): a tilted line stays a line and does not become a 1


class BlankDrawing(ValueError):
    """The canvas holds no drawing to recognize."""


def ink_box(ink):
    """Return (top, bottom, left, right) of the inked pixels, bottom/right exclusive; raise on a blank canvas."""
    mask = ink > INK_THRESHOLD
    if np.count_nonzero(mask) < MIN_INK_PIXELS:  # (ten times faster than a boolean array's sum)
        raise BlankDrawing("nothing is drawn")
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def crop_ink(ink):
    """Cut the drawing down to its ink box."""
    top, bottom, left, right = ink_box(ink)
    return ink[top:bottom, left:right]


def framed(image, width):
    """The image inside a frame of `width` zeros: what np.pad makes, without its plumbing (20 us a call, a few of
    them in every digit's preprocessing)."""
    out = np.zeros((image.shape[0] + 2 * width, image.shape[1] + 2 * width), dtype=image.dtype)
    out[width : width + image.shape[0], width : width + image.shape[1]] = image
    return out


def eroded(mask):
    """Binary erosion by the 4-neighbour cross, the outside counting as empty (scipy.ndimage.binary_erosion's)."""
    padded = framed(mask, 1)
    return padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]


def pen_widened(ink_mask, radius):
    """At each pixel, max over the inked pixels q of clip(radius + 0.5 - |p - q|, 0, 1): the ink grown by
    `radius` with a soft edge, as clip(radius + 0.5 - distance_transform_edt(~ink_mask), 0, 1) is."""
    reach = int(np.ceil(radius + 0.5))
    height, width = ink_mask.shape
    padded = framed(ink_mask, reach)
    within = {}  # weight -> the pixels some inked pixel reaches with that weight
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            weight = min(radius + 0.5 - np.sqrt(dy * dy + dx * dx), 1.0)
            if weight > 0:
                shifted = padded[reach + dy : reach + dy + height, reach + dx : reach + dx + width]
                within[weight] = within[weight] | shifted if weight in within else shifted.copy()
    grown = np.zeros(ink_mask.shape)
    for weight, reached in within.items():
        grown = np.maximum(grown, np.where(reached, weight, 0.0))
    return grown


def core(ink):
    """How dark a pen's strokes are at their middle: the ink 90% of the inked pixels reach at most, up to 1. A
    hairline shrunk to the working size is faint all along (a 1 px pen on a digit 170 px tall: about 0.4), so that
    half of full ink would find specks of it, not its strokes."""
    inked = ink[ink > INK_THRESHOLD]
    if not len(inked):
        return 1.0
    k = int(CORE * (len(inked) - 1))
    return min(float(np.partition(inked, k)[k]), 1.0)


def stroke_width(ink, level=0.5):
    """Estimate the pen width in pixels: the area inked above `level` over half its outline (a stroke is w x L)."""
    mask = ink > level
    outline = mask & ~eroded(mask)
    return 2.0 * np.count_nonzero(mask) / max(np.count_nonzero(outline), 1)


def thicken(ink, min_ratio=MIN_STROKE):
    """Widen strokes thinner than MNIST-like pens (a mouse's thin line, a hairline), leaving thick ones as they
    are; a stroke is the ink over half its core's."""
    level = core(ink) / 2.0
    width, target = stroke_width(ink, level), min_ratio * max(ink.shape)
    if width >= target:
        return ink
    radius = (target - width) / 2.0
    padded = framed(ink, int(np.ceil(radius)) + 1)
    return np.maximum(padded, pen_widened(padded >= level, radius)).astype(np.float32)


def centre_of_mass(ink):
    """(row, column) of the ink's centre of mass."""
    total = ink.sum()
    return ink.sum(axis=1) @ np.arange(ink.shape[0]) / total, ink.sum(axis=0) @ np.arange(ink.shape[1]) / total


def slant(ink, centre=None):
    """How far the drawing leans: horizontal drift per row of its ink's centre line, from second moments (about
    `centre`, its centre of mass, when the caller has it)."""
    cy, cx = centre_of_mass(ink) if centre is None else centre
    dy, dx = np.arange(ink.shape[0]) - cy, np.arange(ink.shape[1]) - cx
    total = ink.sum()
    var_y = (dy * dy) @ ink.sum(axis=1) / total
    return float(dy @ ink @ dx / total / var_y) if var_y > 0 else 0.0


def deslant(ink, limit=MAX_SLANT):
    """Shear the drawing upright (moment deskewing), so a writer's slant is not something the models must learn."""
    centre = centre_of_mass(ink)
    shear = min(max(slant(ink, centre), -limit), limit)
    height, width = ink.shape
    pad = int(np.ceil(abs(shear) * height)) + 1
    upright = sheared(ink, shear, pad, centre[0])
    cols = np.flatnonzero(upright.max(axis=0) > upright.max() / 255)  # the faint edge of a shifted column
    return upright[:, cols[0] : cols[-1] + 1]


def sheared(ink, shear, pad, centre):
    """Output (r, c) reads input (r, c - pad + shear * (r - centre)), linearly between the two nearest pixels
    and zero outside (scipy.ndimage.affine_transform's order 1, mode grid-constant): each row slides back."""
    height, width = ink.shape
    offset = shear * (np.arange(height) - centre) - pad  # per row: the same shift for all its pixels
    whole = np.floor(offset)
    step = (offset - whole)[:, None]
    margin = int(np.abs(whole).max()) + 2 * pad + 2  # zeros on both sides: outside reads zero
    padded = np.zeros((height, width + 2 * margin))
    padded[:, margin : margin + width] = ink
    flat = padded.ravel()  # the padded rows end to end
    row_at = np.arange(height) * padded.shape[1] + whole.astype(np.int64) + margin
    at = (row_at[:, None] + np.arange(width + 2 * pad)).ravel()
    left, right = flat.take(at).reshape(height, -1), flat.take(at + 1).reshape(height, -1)
    return (left * (1 - step) + right * step).astype(np.float32)


def fit_box(ink, box=BOX, resample=Image.Resampling.LANCZOS):
    """Scale so the longer side is `box` pixels, keeping the aspect ratio, with anti-aliased resampling."""
    height, width = ink.shape
    scale = box / max(height, width)
    new_w = max(1, int(round(width * scale)))
    new_h = max(1, int(round(height * scale)))
    image = Image.fromarray(ink.astype(np.float32), mode="F")
    return np.clip(np.asarray(image.resize((new_w, new_h), resample)), 0.0, 1.0)


def centre_by_mass(digit, size=SIZE):
    """Place the digit in a size x size field with its centre of mass at the centre, as MNIST did."""
    height, width = digit.shape
    cy, cx = centre_of_mass(digit)
    top = int(round(size / 2 - 0.5 - cy))
    left = int(round(size / 2 - 0.5 - cx))
    top = min(max(top, 0), size - height)
    left = min(max(left, 0), size - width)
    field = np.zeros((size, size), dtype=np.float32)
    field[top : top + height, left : left + width] = digit
    return field


def to_mnist(ink):
    """Preprocess a canvas ink array (any size, ink = 1) to the 28x28 float32 image the models read."""
    box = crop_ink(ink)
    if max(box.shape) > WORKING:
        box = fit_box(box, WORKING, Image.Resampling.BOX)
    digit = fit_box(thicken(deslant(box)))
    peak = digit.max()
    if peak <= 0:
        raise BlankDrawing("nothing is drawn")
    return centre_by_mass(digit / peak)
