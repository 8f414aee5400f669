"""Preprocessing on real rendered drawings: box, aspect ratio, centring, pens, blanks."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from conftest import scanned
from recognizer.reading import images, preprocess
from recognizer.reading.preprocess import BlankDrawing, to_mnist
from recognizer.training import render


def line(points, width=8):
    return render.strokes_to_ink([points], width)


def ink_extent(image):
    rows = np.flatnonzero((image > 0.2).any(axis=1))
    cols = np.flatnonzero((image > 0.2).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre_of_mass(image):
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def test_output_is_28x28_in_unit_range_with_ink_high():
    out = to_mnist(line([[100, 30], [100, 170]]))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() == pytest.approx(1.0)
    assert out[0].max() == 0 and out[:, 0].max() == 0  # a border of background, as in MNIST


def test_portrait_digit_gets_20_pixels_tall_keeping_aspect_ratio():
    ink = render.strokes_to_ink([[[80, 20], [120, 20], [120, 180], [80, 180], [80, 20]]], 6)  # 40 x 160 box
    height, width = ink_extent(to_mnist(ink))
    assert height in (20, 21)
    assert 4 <= width <= 8  # 46/166 of 20 is about 5.5 px, not stretched


def test_landscape_digit_gets_20_pixels_wide_not_inverted():
    ink = render.strokes_to_ink([[[20, 80], [180, 80], [180, 120], [20, 120], [20, 80]]], 6)  # 160 x 40 box
    height, width = ink_extent(to_mnist(ink))
    assert width in (20, 21)
    assert 4 <= height <= 8


@pytest.mark.parametrize("offset", [(-60, -60), (0, 0), (55, 40), (-50, 60)])
def test_off_centre_drawings_end_up_centred_by_mass(strokes, offset):
    sample = next(s for s in strokes if s["label"] == 7)
    moved = [[[x * 0.5 + 50 + offset[0], y * 0.5 + 50 + offset[1]] for x, y in stroke] for stroke in sample["strokes"]]
    out = to_mnist(render.strokes_to_ink(moved, sample["width"]))
    cy, cx = centre_of_mass(out)
    assert abs(cy - 13.5) <= 1.0 and abs(cx - 13.5) <= 1.0


def test_position_and_size_do_not_change_the_result_much(strokes):
    sample = strokes[0]
    big = to_mnist(render.strokes_to_ink(sample["strokes"], sample["width"]))
    small = [[[x * 0.4 + 10, y * 0.4 + 100] for x, y in stroke] for stroke in sample["strokes"]]
    small = to_mnist(render.strokes_to_ink(small, max(2, sample["width"] * 0.4)))
    assert np.abs(big - small).mean() < 0.08


@pytest.mark.parametrize("width", [2, 6, 14, 30])
def test_thin_and_thick_pens_both_give_full_strength_ink(width):
    out = to_mnist(line([[60, 40], [140, 40], [70, 170]], width))
    assert out.max() == pytest.approx(1.0)
    assert (out > 0.5).sum() >= 15


@pytest.mark.parametrize("width", [1, 1.5])
def test_a_hairline_comes_out_as_a_page_pen_would(width):
    """A 1 px line on a large digit is faint once shrunk to the working size: it must still be widened whole."""
    hairline = to_mnist(line([[60, 40], [140, 40], [70, 170]], width))
    page = to_mnist(line([[60, 40], [140, 40], [70, 170]], 8))
    assert np.abs(hairline - page).mean() < 0.03
    assert (hairline > 0.5).sum() >= 0.8 * (page > 0.5).sum()


def test_antialiased_resampling_not_nearest_neighbour():
    out = to_mnist(line([[40, 40], [160, 170]], 10))
    grey = ((out > 0.05) & (out < 0.95)).sum()
    assert grey >= 10  # nearest-neighbour would give only 0s and 1s


@pytest.mark.parametrize("ink", [np.zeros((200, 200)), np.full((200, 200), 0.05), np.pad(np.ones((1, 2)), 50)])
def test_blank_and_near_blank_canvases_are_detected(ink):
    with pytest.raises(BlankDrawing):
        to_mnist(ink.astype(np.float32))


def transparent_png_url(rgba):

    buffer = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("paper, pen", [(0.85, 0.0), (0.15, 0.9)], ids=["grey paper", "chalkboard"])
def test_grainy_paper_is_taken_off_and_leaves_the_strokes(strokes, paper, pen):
    """A scan's paper is grey and grainy, a chalkboard's dark under light strokes: what the models read must be
    the strokes, as on the canvas."""
    sample = strokes[5]
    ink = render.strokes_to_ink(sample["strokes"], sample["width"])
    grainy = scanned(ink, paper, pen=pen)
    assert preprocess.ink_box(grainy) == (0, 200, 0, 200)  # its paper and grain alone span the page as ink
    cleaned = images.without_paper(grainy)
    assert np.count_nonzero(cleaned[ink == 0]) < 10  # no grain left where nothing was drawn
    assert np.abs(to_mnist(cleaned) - to_mnist(ink)).mean() < 0.03


def test_light_strokes_on_black_read_as_dark_strokes_on_white(strokes):
    """A canvas in dark mode, or an MNIST digit as its files hold it: white ink on black is the same drawing."""
    ink = render.strokes_to_ink(strokes[5]["strokes"], strokes[5]["width"])
    light_on_black = Image.fromarray(np.round(ink * 255).astype(np.uint8))
    buffer = io.BytesIO()
    light_on_black.save(buffer, format="PNG")
    read = images.ink_from_bytes(buffer.getvalue(), "PNG")
    assert np.abs(read - ink).max() <= 0.5 / 255 + 1e-6  # the ink, to its 8-bit grey levels
    assert np.abs(to_mnist(read) - to_mnist(ink)).max() < 0.01


def test_a_canvas_on_white_paper_or_of_noise_is_left_as_it_is(strokes):
    ink = render.strokes_to_ink(strokes[5]["strokes"], strokes[5]["width"])
    assert images.without_paper(ink) is ink
    noise = np.random.default_rng(1).random(ink.shape, dtype=np.float32)  # nothing stands out from its "paper"
    assert images.without_paper(noise) is noise


def test_transparent_canvas_counts_as_white_paper():
    rgba = np.zeros((50, 50, 4), dtype=np.uint8)  # fully transparent black = nothing drawn
    rgba[10:40, 20:24] = (0, 0, 0, 255)  # one opaque black bar
    ink = images.decode_data_url(transparent_png_url(rgba))
    assert ink[0, 0] == 0.0 and ink[20, 21] == 1.0


def test_light_strokes_on_a_transparent_canvas_read_as_dark_ones(strokes):
    """A page in dark mode paints white strokes on a canvas it never filled: what is painted there is the ink."""
    ink = render.strokes_to_ink(strokes[5]["strokes"], strokes[5]["width"])
    alpha = np.round(ink * 255).astype(np.uint8)
    painted = {colour: np.dstack([np.full_like(alpha, colour)] * 3 + [alpha]) for colour in (0, 255)}
    black, white = (images.decode_data_url(transparent_png_url(rgba)) for rgba in painted.values())
    assert np.count_nonzero(black) > 1000 and np.array_equal(white, black)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_every_png_mode_decodes_to_its_luminance_composited_over_white(mode):
    """Each mode has its own decoding path (L as is, LA and RGBA split into L and A, the rest through LA): all
    give alpha * (255 - luminance) / 255^2, the gray levels' exact float32 value."""

    rng = np.random.default_rng(7)
    gray, alpha = rng.integers(0, 256, (2, 30, 40), dtype=np.uint8)
    alpha = alpha if "A" in mode else np.full_like(alpha, 255)
    channels = {"L": [gray], "LA": [gray, alpha], "RGB": [gray] * 3, "RGBA": [gray] * 3 + [alpha]}[mode]
    buffer = io.BytesIO()
    Image.fromarray(np.dstack(channels).squeeze(), mode=mode).save(buffer, format="PNG")
    ink = images.ink_from_bytes(buffer.getvalue(), "PNG")
    expected = alpha.astype(np.float32) * (255 - gray.astype(np.float32)) * np.float32(1 / 255**2)
    assert ink.dtype == np.float32 and np.array_equal(ink, expected)


def test_data_url_round_trip_keeps_the_drawing(strokes):
    ink = render.strokes_to_ink(strokes[3]["strokes"], strokes[3]["width"])
    decoded = images.decode_data_url(images.to_png_data_url(ink))
    assert decoded.shape == (200, 200)
    assert np.abs(decoded - ink).max() <= 1 / 255 + 1e-6


def test_centre_by_mass_keeps_every_pixel_of_a_20px_digit():
    digit = np.zeros((20, 20), dtype=np.float32)
    digit[:, :3] = 1.0  # all mass at the left edge: shift is clamped
    field = preprocess.centre_by_mass(digit)
    assert field.sum() == pytest.approx(digit.sum())


def test_a_slanted_one_comes_out_upright():
    out = to_mnist(line([[80, 30], [120, 170]]))  # leans 40 px over 140 rows
    assert abs(preprocess.slant(out)) < 0.03
    assert ink_extent(out)[1] <= 5  # a vertical bar, not a diagonal


def test_a_tilted_line_is_straightened_only_up_to_the_limit():
    box = preprocess.crop_ink(line([[40, 160], [160, 40]]))  # 45 degrees: a slash, not a slanted 1
    upright = preprocess.deslant(box)
    assert preprocess.slant(box) == pytest.approx(-1.0, abs=0.05)
    assert preprocess.slant(upright) == pytest.approx(-1.0 + preprocess.MAX_SLANT, abs=0.05)


def test_deslanting_keeps_the_ink_and_leaves_upright_drawings_alone():
    slanted = preprocess.crop_ink(line([[60, 40], [140, 40], [70, 170]]))
    assert preprocess.deslant(slanted).sum() == pytest.approx(slanted.sum(), rel=0.01)
    upright = preprocess.crop_ink(render.strokes_to_ink([[[80, 20], [120, 20], [120, 180], [80, 180], [80, 20]]], 6))
    same = preprocess.crop_ink(preprocess.deslant(upright))
    assert same.shape == upright.shape and np.abs(same - upright).max() < 0.1


def test_the_numpy_image_operations_equal_scipys_which_the_training_sets_were_made_with():
    """The web process has no scipy (its install stays small); these stand in for ndimage's, exactly."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    for _ in range(100):
        height, width = rng.integers(3, 70, 2)
        mask = rng.random((height, width)) < rng.uniform(0.05, 0.95)
        assert np.array_equal(preprocess.eroded(mask), ndimage.binary_erosion(mask))
        if mask.any():
            radius = rng.uniform(0.1, 4.0)
            expected = np.clip(radius + 0.5 - ndimage.distance_transform_edt(~mask), 0.0, 1.0)
            np.testing.assert_allclose(preprocess.pen_widened(mask, radius), expected, atol=1e-12)
        ink = (rng.random((height, width)) * (rng.random((height, width)) < 0.3)).astype(np.float32)
        shear = float(np.clip(preprocess.slant(ink + 1e-3), -0.5, 0.5))
        pad, centre = int(np.ceil(abs(shear) * height)) + 1, preprocess.centre_of_mass(ink + 1e-3)[0]
        expected = ndimage.affine_transform(
            ink,
            [[1.0, 0.0], [shear, 1.0]],
            offset=(0.0, -pad - shear * centre),
            output_shape=(height, width + 2 * pad),
            order=1,
            mode="grid-constant",
        )
        ours = preprocess.sheared(ink, shear, pad, centre)
        np.testing.assert_allclose(ours, expected, atol=1e-6)
