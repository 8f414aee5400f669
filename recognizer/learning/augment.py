"""Make many plausible drawings from one: the variants of a correction that the online models learn from."""

import numpy as np
from PIL import Image

from recognizer.reading.preprocess import WORKING, BlankDrawing, crop_ink, fit_box, to_mnist

ANGLES = np.arange(-30, 30, 5)  # the original design's 12 angles, -30..25 degrees
SIZES = (0.75, 1.0)  # fractions of the fitted box, for width and for height


def correction_variants(ink, rng, angles_per_size=6):
    """The 24 variants of the original design (2 widths x 2 heights x 6 of 12 angles), preprocessed to 28x28.

    A variant that comes out blank is left out, so a faint speck may have few or none: (0, 28, 28) then.
    """
    box = crop_ink(ink)
    if max(box.shape) > WORKING:  # to_mnist shrinks each variant to this anyway: rotate the fewer pixels
        box = fit_box(box, WORKING, Image.Resampling.BOX)
    height, width = box.shape
    pad = max(height, width) // 2 + 2
    image = Image.fromarray(np.pad(box, pad).astype(np.float32), mode="F")
    out = []
    for fx in SIZES:
        for fy in SIZES:
            size = (max(2, int(image.width * fx)), max(2, int(image.height * fy)))
            resized = image.resize(size, Image.Resampling.BILINEAR)
            for angle in rng.choice(ANGLES, size=angles_per_size, replace=False):
                rotated = resized.rotate(float(angle), resample=Image.Resampling.BILINEAR)
                try:
                    out.append(to_mnist(np.asarray(rotated)))
                except BlankDrawing:
                    continue
    return np.stack(out) if out else np.zeros((0, 28, 28), dtype=np.float32)
