"""Distorted copies of 28x28 training digits: affine plus elastic warps and pens of other widths."""

import numpy as np
from scipy import ndimage


def distort(digits, rng, rotate=12.0, shear=0.25, scale=0.12, elastic=(2.0, 4.0)):
    """Random affine plus elastic distortion of 28x28 float digits (Simard et al. 2003), re-centred after."""
    out = np.empty_like(digits, dtype=np.float32)
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float32)
    for i, digit in enumerate(digits):
        angle = np.deg2rad(rng.uniform(-rotate, rotate))
        s = 1.0 + rng.uniform(-scale, scale, size=2)
        k = rng.uniform(-shear, shear)
        matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        matrix = matrix @ np.array([[1, k], [0, 1]]) @ np.diag(1 / s)
        centre = np.array([13.5, 13.5])
        coords = np.tensordot(matrix, np.stack([rows, cols]) - centre[:, None, None], axes=1) + centre[:, None, None]
        alpha, sigma = elastic
        for axis in range(2):
            field = ndimage.gaussian_filter(rng.uniform(-1, 1, (28, 28)), sigma) * alpha * sigma
            coords[axis] += field
        warped = ndimage.map_coordinates(digit.astype(np.float32), coords, order=1, mode="constant")
        out[i] = _thickness(warped, rng)
    return out


def _thickness(digit, rng):
    """Thin or thicken strokes a little, as different pens do."""
    choice = rng.integers(4)
    if choice == 0:
        return np.clip(ndimage.grey_dilation(digit, size=(2, 2)), 0, 1)
    if choice == 1:
        eroded = ndimage.grey_erosion(digit, size=(2, 2))
        return eroded if eroded.sum() > 0.4 * digit.sum() else digit
    return np.clip(digit, 0, 1)
