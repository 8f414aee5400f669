"""End-to-end tests of the pages in a real browser (Debian Chromium driven by Playwright) against gunicorn.

One gunicorn server on a temporary local store and one browser are shared by the module. Drawings are replayed
from the dev pen strokes: first screened through the server's /predict (rendered in Python the way the page
renders them), then drawn in the browser with the mouse, or with touch events in a phone-sized viewport.
Numbers are composed from two such drawings side by side on the wide pad, screened the same way. Every page is
checked with axe-core (npm's, pinned in package.json) for WCAG 2.1 A and AA violations. Screenshots of the main
states are saved under tests/artifacts/ (git-ignored).
"""

import json
import os
import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image
from playwright import sync_api as playwright_sync

from conftest import ROOT, gunicorn, page_url
from recognizer.training import render

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PAD = 280  # the page's export size; its pen is PAD / 14 wide
WIDE = render.WIDE_PAD  # number mode's export, 840x280, with the same pen
SOURCE = 200  # the dev strokes' canvas
WANTED = (0, 1, 7, 3)  # digits drawn with the mouse
NUMBER = "42"  # the number written on the wide pad
TIMEOUT_MS = 15_000
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# A run without a browser must say so: it fails, unless the browser tests are left out on purpose.
if not Path(CHROMIUM).exists():
    if os.environ.get("BROWSER_TESTS") == "0":
        pytest.skip("BROWSER_TESTS=0: the browser tests did not run", allow_module_level=True)
    pytest.fail(
        f"no Chromium at {CHROMIUM}: install it (sudo apt-get install chromium), or run with BROWSER_TESTS=0 "
        "to leave the browser tests out",
        pytrace=False,
    )

pytestmark = pytest.mark.timeout(120)


# ---- fixtures -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("browser") / "store"


@pytest.fixture(scope="module")
def server(store_dir):
    env = {"STORE_URL": f"file://{store_dir}", "TRAIN_RATE_LIMIT": "1000/minute", "MODEL_REFRESH_SECONDS": "0"}
    with gunicorn(env, workers=1) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def page_like_url(sample):
    """The 280x280 PNG the page sends for this drawing (its pen is 1/14 of the side, whatever the stroke width)."""
    scale = PAD / SOURCE
    strokes = [[[x * scale, y * scale] for x, y in stroke] for stroke in sample["strokes"]]
    return page_url(render.strokes_to_ink(strokes, PAD / 14, size=PAD))


@pytest.fixture(scope="module")
def clear_samples(server, strokes):
    """Per digit, dev drawings that the server names right with every model, most confident first.

    Screened at module start, so the tests keep working when better model weights replace the current ones.
    """
    labels = set(WANTED) | {0, 1, 3, 7}
    found = {}
    for sample in strokes:
        label = sample["label"]
        if label not in labels or len(found.get(label, [])) >= 2:
            continue
        response = requests.post(server + "/predict", json={"image": page_like_url(sample)}, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        tops = {name: ranked[0] for name, ranked in body["predictions"].items()}
        if body["answer"] == label and all(top["digit"] == label for top in tops.values()):
            margin = min(top["probability"] for top in tops.values())
            if margin >= 0.6:
                found.setdefault(label, []).append((margin, sample))
        if all(len(found.get(d, [])) >= 2 for d in labels):
            break
    for label in found:
        found[label] = [sample for _, sample in sorted(found[label], key=lambda item: -item[0])]
    missing = [d for d in sorted(labels) if not found.get(d)]
    assert not missing, f"no dev drawing of {missing} is recognized confidently by all four models"
    return found


def number_sample(samples, seed, gaps=(0.4, 0.5), heights=(0.55, 0.6)):
    """The dev drawings written side by side as a number on the wide pad, with a clear gap (or `gaps`, one range
    per neighbouring pair) and `heights` of the pad tall, the page's pen (recognizer/training/render.py's
    compose_number, the server's own model of how people write there): a sample in the wide pad's pixels, with
    each digit's strokes."""
    rng = np.random.default_rng(seed)
    laid, pen, boxes = render.compose_number(
        [s["strokes"] for s in samples], rng, gaps=gaps, heights=heights, wave=0.02
    )
    assert pen == WIDE[1] / 14, pen  # not shrunk: the page's pen
    return {"strokes": [stroke for digit in laid for stroke in digit], "size": WIDE, "digits": laid, "boxes": boxes}


def number_url(sample):
    """The 840x280 PNG the page sends for a number drawn on its wide pad."""
    return page_url(render.strokes_to_ink(sample["strokes"], WIDE[1] / 14, size=WIDE[1], across=WIDE[0]))


@pytest.fixture(scope="module")
def number_42(server, strokes):
    """Dev drawings of 4 and 2 that, written side by side on the wide pad, the server reads as "42": two digits,
    each named right by all four models. Screened like clear_samples, so no test depends on model luck."""
    fours = [s for s in strokes if s["label"] == 4][:6]
    twos = [s for s in strokes if s["label"] == 2][:6]
    for seed, (four, two) in enumerate((f, t) for f in fours for t in twos):
        sample = number_sample([four, two], seed)
        body = requests.post(server + "/predict", json={"image": number_url(sample)}, timeout=10).json()
        if body.get("number") != NUMBER or len(body["digits"]) != 2:
            continue
        if all(
            ranked[0]["digit"] == int(label) and ranked[0]["probability"] >= 0.6
            for entry, label in zip(body["digits"], NUMBER)
            for ranked in entry["predictions"].values()
        ):
            return sample
    pytest.fail(f"no pair of dev drawings of 4 and 2 is read as {NUMBER} confidently by all four models")


def touching(sample, left, right):
    """Whether two digits' ink meets (some pixel inked by both) on the wide pad."""
    inks = [render.strokes_to_ink(sample["digits"][k], WIDE[1] / 14, WIDE[1], WIDE[0]) > 0.5 for k in (left, right)]
    return bool((inks[0] & inks[1]).any())


@pytest.fixture(scope="module")
def number_2026(server, clear_samples, strokes):
    """Dev drawings of 2, 0, 2 and 6 written as "2026" with the 0 and the second 2 touching, that the server
    reads as 2026 from the image and the strokes, every digit named by the updated CNN at 0.6 or more."""
    by_label = {d: [s for s in strokes if s["label"] == d][:8] for d in (0, 2, 6)}
    for seed in range(60):
        rng = np.random.default_rng(seed)
        digits = [by_label[d][rng.integers(len(by_label[d]))] for d in (2, 0, 2, 6)]
        sample = number_sample(digits, seed, gaps=[(0.3, 0.4), (-0.08, -0.04), (0.3, 0.4)], heights=(0.45, 0.5))
        if not touching(sample, 1, 2):
            continue
        body = requests.post(
            server + "/predict", json={"image": number_url(sample), "strokes": sample["strokes"]}, timeout=10
        ).json()
        if body.get("number") == "2026" and all(
            entry["predictions"]["cnn_updated"][0]["probability"] >= 0.6 for entry in body["digits"]
        ):
            return sample
    pytest.fail("no composition of dev drawings of 2, 0, 2, 6 with two digits touching is read as 2026")


class Console:
    """Console errors, CSP violations and uncaught exceptions seen by a page."""

    def __init__(self, page):
        self.messages = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))

    def _console(self, message):
        text = message.text
        if message.type == "error" and text.startswith("Failed to load resource"):
            return  # the browser's own line for a deliberate 4xx answer (e.g. a 422 on a blank drawing)
        if message.type in ("error", "warning") or "Content Security Policy" in text or "Refused to" in text:
            self.messages.append(f"{message.type}: {text}")


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, reduced_motion="reduce", base_url=server)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.console = Console(page)
    page.goto("/")
    wait_ready(page)
    yield page
    messages = page.console.messages
    context.close()
    assert not messages, messages


@pytest.fixture(scope="module", autouse=True)
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# ---- helpers --------------------------------------------------------------------------------------------------
def wait_ready(page):
    """The page has loaded its model version from /stats."""
    page.wait_for_function("() => /^\\d+$/.test(document.getElementById('model-version').textContent.trim())")


def pad_box(page, aspect=1):
    page.locator("#pad").scroll_into_view_if_needed()
    box = page.locator("#pad").bounding_box()
    assert box and box["width"] > 100 and abs(box["width"] - aspect * box["height"]) < 1.5, box
    return box


def to_screen(box, stroke, spacing=5.0, size=(SOURCE, SOURCE)):
    """A stroke's points (on a canvas of `size`) on the screen, thinned to about `spacing` CSS px apart (fewer
    round trips)."""
    points = [(box["x"] + x / size[0] * box["width"], box["y"] + y / size[1] * box["height"]) for x, y in stroke]
    kept = points[:1]
    for x, y in points[1:-1]:
        if (x - kept[-1][0]) ** 2 + (y - kept[-1][1]) ** 2 >= spacing**2:
            kept.append((x, y))
    if len(points) > 1:
        kept.append(points[-1])
    return kept


def draw_mouse(page, sample):
    size = sample.get("size", (SOURCE, SOURCE))
    box = pad_box(page, size[0] / size[1])
    for stroke in sample["strokes"]:
        points = to_screen(box, stroke, size=size)
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
    page.wait_for_function("() => !document.getElementById('undo').disabled")


def draw_touch(page, cdp, sample, spacing=5.0):
    size = sample.get("size", (SOURCE, SOURCE))
    box = pad_box(page, size[0] / size[1])
    for stroke in sample["strokes"]:
        points = to_screen(box, stroke, spacing, size)
        x, y = points[0]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        for x, y in points[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_function("() => !document.getElementById('undo').disabled")


def answer_of(page):
    """The answer shown once the result is in (the placeholder '?' replaced, no request in flight)."""
    page.wait_for_function("""() => {
        const a = document.getElementById('answer');
        const panel = document.getElementById('results-panel');
        return !a.classList.contains('is-empty') && !panel.classList.contains('is-loading');
    }""")
    return page.locator("#answer").inner_text().strip()


def version_of(page):
    return int(page.locator("#model-version").inner_text().strip())


def served_version(page):
    """The updated models' version as the server's /stats gives it."""
    return requests.get(page.url.rstrip("/") + "/stats", timeout=5).json()["model_versions"]["fnn_updated"]


def ink_pixels(page):
    """How many pixels of the pad's bitmap are not white (after the page's pending repaint)."""
    return page.evaluate("""async () => {
        await new Promise(resolve => requestAnimationFrame(() => resolve()));
        const c = document.getElementById('pad');
        const copy = document.createElement('canvas');
        copy.width = c.width;
        copy.height = c.height;
        const x = copy.getContext('2d', {willReadFrequently: true});
        x.drawImage(c, 0, 0);
        const d = x.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) { if (d[i] < 200) n++; }
        return n;
    }""")


def overflowing(page):
    """Boxes on the page whose content sticks out sideways (text wider than its card, a table past its edge)."""
    return page.evaluate("""() => {
        const out = [];
        for (const e of document.querySelectorAll('body *')) {
            if (e.closest('svg, .visually-hidden, [hidden]') || e.clientWidth === 0) continue;
            const style = getComputedStyle(e);
            if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) continue;
            if (e.scrollWidth > e.clientWidth + 1) {
                out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}: ` +
                         `${e.scrollWidth} > ${e.clientWidth} (${e.textContent.trim().slice(0, 30)})`);
            }
        }
        return out;
    }""")


def shot(page, name, full_page=True):
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def axe_violations(page):
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now, one line per rule and element."""
    if not AXE.exists():
        pytest.fail(
            f"axe-core is not installed ({AXE} is missing): run `npm ci` in the repository root (make test does)",
            pytrace=False,
        )
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations", WCAG
    )
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node['failureSummary']}" for v in found for node in v["nodes"]
    ]


def stored(store_dir, digit):
    return set((store_dir / "drawings" / str(digit)).glob("*.png"))


# ---- tests ----------------------------------------------------------------------------------------------------
def test_mouse_drawings_are_recognized(page, clear_samples):
    for digit in WANTED:
        sample = clear_samples[digit][0]
        page.click("#clear")
        assert ink_pixels(page) == 0
        draw_mouse(page, sample)
        assert ink_pixels(page) > 500
        page.click("#recognize")
        assert answer_of(page) == str(digit)
        expect = playwright_sync.expect
        expect(page.locator("#preview")).to_be_visible()
        assert page.locator("#preview").get_attribute("src").startswith("data:image/png;base64,")
        for model in ("fnn", "fnn_updated", "cnn", "cnn_updated"):
            expect(page.locator(f"#chart-{model}")).to_have_attribute("data-top", str(digit))
        expect(page.locator("#status")).to_contain_text(f"Is it a {digit}?")
        expect(page.locator("#correct")).to_be_enabled()
        expect(page.locator(f'#wrong-digits button[data-digit="{digit}"]')).to_be_enabled()
        if digit == WANTED[0]:
            shot(page, "draw-result.png")


@contextmanager
def phone(browser, server, width, height):
    """The drawing page in a touch phone's viewport, its console watched; (page, console)."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=2,
        has_touch=True,
        is_mobile=True,
        reduced_motion="reduce",
        base_url=server,
    )
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        console = Console(page)
        page.goto("/")
        wait_ready(page)
        yield page, console
    finally:
        context.close()


def test_touch_drawing_on_a_phone(browser, server, clear_samples):
    with phone(browser, server, 360, 740) as (page, console):
        # the pad sits below the header and mode switch; scroll a little so that a page scroll would show
        page.evaluate("window.scrollTo(0, 60)")
        page.wait_for_function("window.scrollY > 0")
        before = page.evaluate("window.scrollY")
        cdp = page.context.new_cdp_session(page)
        digit = 1 if 1 in clear_samples else WANTED[0]  # a long vertical stroke: the likeliest to scroll
        draw_touch(page, cdp, clear_samples[digit][0])
        assert page.evaluate("window.scrollY") == before, "drawing on the pad scrolled the page"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert ink_pixels(page) > 500
        page.locator("#recognize").tap()
        assert answer_of(page) == str(digit)
        expect = playwright_sync.expect
        expect(page.locator("#status")).to_contain_text(f"Is it a {digit}?")
        # the results sit below the pad on a phone: the page brings the answer and the buttons into view
        expect(page.locator("#answer")).to_be_in_viewport()
        expect(page.locator("#correct")).to_be_in_viewport()

        # a second digit drawn with touch on the same page, after Clear (tapped)
        page.evaluate("window.scrollTo(0, 0)")
        page.locator("#clear").tap()
        page.wait_for_function("document.getElementById('undo').disabled")
        before = page.evaluate("window.scrollY")
        second = 7 if 7 in clear_samples else WANTED[-1]
        draw_touch(page, cdp, clear_samples[second][0])
        assert page.evaluate("window.scrollY") == before
        page.locator("#recognize").tap()
        assert answer_of(page) == str(second)
        shot(page, "phone-touch.png", full_page=False)  # what the phone shows after Recognize
        shot(page, "phone-touch-full.png")
        assert not console.messages, console.messages


def test_blank_pad_says_nothing_is_drawn(page):
    playwright_sync.expect(page.locator("#pad-empty")).to_be_visible()
    page.click("#recognize")
    playwright_sync.expect(page.locator("#answer")).to_have_text(re.compile("nothing is drawn", re.I))
    playwright_sync.expect(page.locator("#status")).to_contain_text("Nothing is drawn")
    playwright_sync.expect(page.locator("#correct")).to_be_disabled()
    playwright_sync.expect(page.locator("#preview")).to_be_hidden()
    shot(page, "blank.png")


def test_corrections_bump_the_model_version(page, clear_samples, store_dir):
    expect = playwright_sync.expect
    version = version_of(page)
    expect(page.locator("#after-learning")).to_be_hidden()

    # Correct: confirm a right answer
    digit = WANTED[0]
    draw_mouse(page, clear_samples[digit][0])
    page.click("#recognize")
    assert answer_of(page) == str(digit)
    page.click("#correct")
    expect(page.locator("#model-version")).to_have_text(str(version + 1))
    expect(page.locator("#after-learning")).to_be_visible()
    expect(page.locator("#updated-answer")).to_have_text(str(digit))
    expect(page.locator("#status")).to_contain_text(f"now version {version + 1}")
    expect(page.locator("#correct")).to_be_disabled()  # one lesson per drawing

    # "Wrong, it was …": teach the true digit of another drawing
    page.click("#clear")
    expect(page.locator("#after-learning")).to_be_hidden()
    digit = WANTED[-1]
    draw_mouse(page, clear_samples[digit][-1])
    page.click("#recognize")
    answer_of(page)
    page.click(f'#wrong-digits button[data-digit="{digit}"]')
    expect(page.locator("#model-version")).to_have_text(str(version + 2))
    expect(page.locator("#after-learning")).to_be_visible()
    expect(page.locator("#updated-answer")).to_have_text(re.compile(r"^\d$"))
    expect(page.locator(f'#wrong-digits button[data-digit="{digit}"]')).to_be_disabled()
    shot(page, "after-correction.png")

    # both corrections were stored as labelled drawings, and the server agrees on the version
    assert served_version(page) == version + 2
    assert list((store_dir / "drawings" / str(digit)).glob("*.png"))


@pytest.mark.parametrize(
    "status, error",
    [
        (503, "the drawing was kept and will be learned later"),
        (422, "the update was refused; the drawing was kept but not learned"),
    ],
)
def test_a_kept_but_unlearned_drawing_is_not_sent_twice(page, clear_samples, status, error):
    """A /train error that carries a sample_id means the server stored the drawing: the page says the server's
    words (not "nothing was saved") and treats the drawing as taught, so a second press stores no copy."""
    expect = playwright_sync.expect
    posts = []

    def answer_train(route):
        posts.append(route.request.post_data_json["digit"])
        route.fulfill(
            status=status, content_type="application/json", body=json.dumps({"error": error, "sample_id": "x"})
        )

    page.route("**/train", answer_train)
    digit = WANTED[0]
    draw_mouse(page, clear_samples[digit][0])
    page.click("#recognize")
    assert answer_of(page) == str(digit)
    button = page.locator(f'#wrong-digits button[data-digit="{digit}"]')
    button.click()
    expect(page.locator("#status")).to_contain_text(error, ignore_case=True)
    expect(page.locator("#status")).not_to_contain_text("nothing was saved")
    expect(button).to_be_disabled()
    expect(page.locator("#correct")).to_be_disabled()
    assert posts == [digit]

    # the digit keys do not send the same drawing again
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press(str(digit))
    expect(page.locator("#status")).to_contain_text("already has this drawing")
    assert posts == [digit]

    # a new drawing can be taught again
    page.click("#clear")
    draw_mouse(page, clear_samples[digit][0])
    expect(button).to_be_enabled()


def test_collect_mode_stores_a_drawing(page, clear_samples, store_dir):
    expect = playwright_sync.expect
    page.check("#mode-collect")
    expect(page.locator("#collect-panel")).to_be_visible()
    expect(page.locator("#results-panel")).to_be_hidden()
    expect(page.locator("#recognize")).to_be_hidden()
    digit = 3 if 3 in clear_samples else WANTED[-1]
    cell = page.locator(f'#counts td[data-count-digit="{digit}"]')
    expect(cell).to_have_text(re.compile(r"^\d+$"))
    before = int(cell.inner_text())
    total = int(page.locator("#counts-total").inner_text())
    files = set((store_dir / "drawings" / str(digit)).glob("*.png"))
    button = page.locator(f'#collect-digits button[data-digit="{digit}"]')
    expect(button).to_be_disabled()  # nothing drawn yet

    draw_mouse(page, clear_samples[digit][0])
    expect(button).to_be_enabled()
    button.click()
    expect(cell).to_have_text(str(before + 1))
    expect(page.locator("#counts-total")).to_have_text(str(total + 1))
    expect(page.locator("#status")).to_contain_text(f"Saved as a {digit}")
    expect(button).to_be_disabled()  # the pad was cleared for the next one
    assert ink_pixels(page) == 0
    new = set((store_dir / "drawings" / str(digit)).glob("*.png")) - files
    assert len(new) == 1, new
    assert new.pop().stat().st_size > 100
    shot(page, "collect-mode.png")

    # back to recognizing: the results come back, collecting did not train the models
    version = version_of(page)
    page.check("#mode-recognize")
    expect(page.locator("#results-panel")).to_be_visible()
    expect(page.locator("#recognize")).to_be_visible()
    assert version_of(page) == version


def test_stats_page_plots_the_accuracy(page, server, clear_samples):
    for digit in (0, 1, 7):  # a few corrections, through the API
        sample = clear_samples[digit][-1]
        response = requests.post(server + "/train", json={"image": page_like_url(sample), "digit": digit}, timeout=30)
        assert response.status_code == 200, response.text
    stats = requests.get(server + "/stats", timeout=5).json()
    assert stats["corrections"] >= 3

    page.goto("/stats")
    expect = playwright_sync.expect
    plot = page.locator("#accuracy-plot")
    expect(plot).to_be_visible()
    expect(page.locator("#no-corrections")).to_be_hidden()
    expect(page.locator("#corrections")).to_have_text(str(stats["corrections"]))
    expect(page.locator("#total-drawings")).to_have_text(str(stats["total_drawings"]))
    for d in range(10):
        expect(page.locator(f'td[data-drawings-digit="{d}"]')).to_have_text(str(stats["drawings"][str(d)]))
    expect(plot).to_have_attribute("aria-label", re.compile(rf"over {stats['corrections']} corrections"))
    painted = page.evaluate("""() => {
        const c = document.getElementById('accuracy-plot');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0, fnn = 0, cnn = 0;
        for (let i = 0; i < d.length; i += 4) {
            const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
            if (a < 128) continue;
            if (r < 240 || g < 240 || b < 240) ink++;
            if (Math.abs(r - 0x1c) < 40 && Math.abs(g - 0x6f) < 40 && Math.abs(b - 0xc7) < 40) fnn++;
            if (Math.abs(r - 0xd9) < 40 && Math.abs(g - 0x48) < 40 && Math.abs(b - 0x0f) < 40) cnn++;
        }
        return {ink, fnn, cnn, width: c.width, height: c.height};
    }""")
    assert painted["ink"] > 1000, painted
    assert painted["fnn"] + painted["cnn"] > 200, painted  # the series' lines are drawn
    label = plot.get_attribute("aria-label")
    for name in ("FNN original", "FNN updated", "CNN original", "CNN updated"):
        assert re.search(name + r" \d+%", label), label
    shot(page, "stats.png")


def test_no_console_errors_or_csp_violations(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, base_url=server)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        console = Console(page)
        page.add_init_script("""
            window.__csp = [];
            document.addEventListener('securitypolicyviolation',
                e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
        """)
        for path in ("/", "/stats", "/about"):
            response = page.goto(path)
            assert response.status == 200
            assert "default-src 'self'" in response.headers["content-security-policy"]
            assert "text/html" in response.headers["content-type"]
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__csp") == [], path
            if path == "/":
                wait_ready(page)
                page.click("#recognize")  # the blank-pad path, client-side
            if path == "/about":
                shot(page, "about.png")
        assert not console.messages, console.messages
    finally:
        context.close()


def test_narrow_screens_do_not_overflow(browser, server):
    context = browser.new_context(
        viewport={"width": 320, "height": 640},
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
        reduced_motion="reduce",
        base_url=server,
    )
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        for path, name in (("/", "narrow-draw.png"), ("/stats", "narrow-stats.png"), ("/about", "narrow-about.png")):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow} px wider than a 320 px screen"
            assert overflowing(page) == [], path
            shot(page, name)
        page.goto("/")
        wait_ready(page)
        page.check("#mode-collect")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"collect mode is {overflow} px wider than a 320 px screen"
        assert overflowing(page) == [], "collect mode"
        shot(page, "narrow-collect.png")
    finally:
        context.close()


def test_keyboard_escape_clears_and_enter_recognizes(page, clear_samples):
    expect = playwright_sync.expect
    digit = 7 if 7 in clear_samples else WANTED[0]
    draw_mouse(page, clear_samples[digit][0])
    page.evaluate("document.activeElement && document.activeElement.blur()")
    assert page.evaluate("document.activeElement === document.body")
    page.keyboard.press("Escape")
    expect(page.locator("#undo")).to_be_disabled()
    expect(page.locator("#pad-empty")).to_be_visible()
    assert ink_pixels(page) == 0

    draw_mouse(page, clear_samples[digit][0])
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Enter")
    assert answer_of(page) == str(digit)
    expect(page.locator("#status")).to_contain_text(f"Is it a {digit}?")

    # Ctrl+Z undoes the strokes one by one
    strokes = len(clear_samples[digit][0]["strokes"])
    for _ in range(strokes):
        page.keyboard.press("Control+z")
    expect(page.locator("#undo")).to_be_disabled()
    expect(page.locator("#answer")).to_have_text("?")
    assert ink_pixels(page) == 0

    # Esc clears a recognized drawing and its result
    draw_mouse(page, clear_samples[digit][0])
    page.keyboard.press("Enter")
    assert answer_of(page) == str(digit)
    page.keyboard.press("Escape")
    expect(page.locator("#answer")).to_have_text("?")
    expect(page.locator("#correct")).to_be_disabled()
    assert ink_pixels(page) == 0


# ---- numbers --------------------------------------------------------------------------------------------------
def digit_button(page, index, name=None):
    """The per-digit button of a number result (1-based index), by its accessible name."""
    pattern = re.compile(rf"^Digit {index} of {len(NUMBER)}: read as {name if name is not None else '.*'}$")
    return page.get_by_role("button", name=pattern)


def test_a_number_is_read_and_one_digit_corrected(page, number_42, store_dir):
    expect = playwright_sync.expect
    page.check("#number-mode")
    expect(page.locator("#pad-heading")).to_have_text("Write a number")
    pad_box(page, aspect=3)  # the wide pad, 3:1 on the screen ...
    assert page.evaluate(
        "(() => { const p = document.getElementById('pad'); return Math.abs(p.width - 3 * p.height) <= 1; })()"
    )
    draw_mouse(page, number_42)
    expect(page.locator("#wrong-digits button").first).to_be_disabled()  # a number is taught by its digits' boxes
    with page.expect_response("**/predict") as answered:
        page.click("#recognize")
    predicted = answered.value.json()
    assert answer_of(page) == NUMBER
    boxes = [entry["box"] for entry in predicted["digits"]]
    assert len(boxes) == 2 and boxes[0][2] <= boxes[1][0] and boxes[1][2] <= WIDE[0], boxes  # left to right
    expect(page.locator("#status")).to_contain_text(f"Is it {NUMBER}?")
    expect(page.locator("#digit-list button")).to_have_count(2)
    for index, digit in enumerate(NUMBER, 1):
        expect(digit_button(page, index, digit)).to_have_attribute("aria-pressed", "false")
        expect(digit_button(page, index, digit).locator("img")).to_have_attribute("src", re.compile("^data:image/png"))
    expect(page.locator("#wrong-digits button").first).to_be_disabled()  # which digit is wrong? pick one first
    expect(page.locator("#correct")).to_be_enabled()
    shot(page, "number-result.png")

    # pick the second digit and teach it (its true digit, so the shared models stay sound) through the grid
    trains = []
    page.on("request", lambda r: trains.append(r.post_data_json) if r.url.endswith("/train") else None)
    version, before = version_of(page), stored(store_dir, 2)
    second = digit_button(page, 2, NUMBER[1])
    second.click()
    expect(second).to_have_attribute("aria-pressed", "true")
    expect(digit_button(page, 1)).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#wrong-label")).to_have_text("Wrong, digit 2 was …")
    expect(page.locator("#chart-cnn")).to_have_attribute("data-top", NUMBER[1])  # the charts are that digit's
    page.click(f'#wrong-digits button[data-digit="{NUMBER[1]}"]')
    expect(page.locator("#model-version")).to_have_text(str(version + 1))
    expect(page.locator("#after-label")).to_have_text("Digit 2 of 2 after learning")
    expect(page.locator("#after-learning")).to_be_visible()
    taught = re.compile(rf"^Digit 2 of 2: read as \d, taught {NUMBER[1]}$")
    expect(page.get_by_role("button", name=taught)).to_be_visible()
    assert len(trains) == 1 and trains[0]["box"] == boxes[1] and trains[0]["digit"] == int(NUMBER[1]), trains
    assert re.fullmatch(rf"[a-z0-9]+-[a-z0-9]+-\d+-1-{NUMBER[1]}", trains[0]["request_id"]), trains[0]["request_id"]
    new = stored(store_dir, 2) - before  # the digit alone was stored, not the whole pad
    assert len(new) == 1, new
    with Image.open(new.pop()) as image:
        assert image.size == (boxes[1][2] - boxes[1][0], boxes[1][3] - boxes[1][1]), image.size
    expect(page.locator(f'#wrong-digits button[data-digit="{NUMBER[1]}"]')).to_be_disabled()
    shot(page, "number-corrected.png")

    # the other digit can still be corrected; "All correct" confirms what was not taught yet: the first digit
    first = digit_button(page, 1, NUMBER[0])
    first.click()
    expect(first).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f'#wrong-digits button[data-digit="{NUMBER[0]}"]')).to_be_enabled()
    before = stored(store_dir, 4)
    page.click("#correct")
    expect(page.locator("#model-version")).to_have_text(str(version + 2))
    expect(page.locator("#correct")).to_be_disabled()
    assert len(trains) == 2 and trains[1]["box"] == boxes[0] and trains[1]["digit"] == int(NUMBER[0]), trains
    assert len(stored(store_dir, 4) - before) == 1
    assert served_version(page) == version + 2

    # the shape is remembered, like the live option
    page.reload()
    wait_ready(page)
    expect(page.locator("#number-mode")).to_be_checked()
    pad_box(page, aspect=3)
    page.uncheck("#number-mode")
    pad_box(page)


def test_collect_mode_stores_a_number_digit_by_digit(page, number_42, store_dir):
    expect = playwright_sync.expect
    page.check("#mode-collect")
    page.check("#number-mode")
    cells = {d: page.locator(f'#counts td[data-count-digit="{d}"]') for d in NUMBER}
    expect(cells[NUMBER[0]]).to_have_text(re.compile(r"^\d+$"))
    counts = {d: int(cell.inner_text()) for d, cell in cells.items()}
    before = {d: stored(store_dir, d) for d in NUMBER}
    save = page.locator("#save-number")
    expect(save).to_be_disabled()  # nothing drawn yet
    draw_mouse(page, number_42)

    # a typed number of another length saves nothing, and says why
    page.fill("#collect-number", NUMBER + "1")
    save.click()
    expect(page.locator("#status")).to_contain_text("Nothing was saved")
    expect(page.locator("#status")).to_contain_text(f"2 digits but {NUMBER}1 has 3")
    assert all(stored(store_dir, d) == before[d] for d in NUMBER)

    page.fill("#collect-number", NUMBER)
    page.press("#collect-number", "Enter")  # Enter in the field submits
    expect(page.locator("#status")).to_contain_text(f"Saved {NUMBER} as 2 digits")
    for d in NUMBER:
        expect(cells[d]).to_have_text(str(counts[d] + 1))
        new = stored(store_dir, d) - before[d]
        assert len(new) == 1, new
        with Image.open(new.pop()) as image:
            assert image.size[0] < WIDE[0] / 2, image.size  # one digit of the number
    expect(page.locator("#collect-number")).to_have_value("")
    assert ink_pixels(page) == 0
    shot(page, "collect-number.png")


def test_number_mode_by_touch_on_a_320px_phone(browser, server, number_42):
    with phone(browser, server, 320, 640) as (page, console):
        page.locator("#number-mode").tap()
        expect = playwright_sync.expect
        expect(page.locator("#number-mode")).to_be_checked()
        box = pad_box(page, aspect=3)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, box  # the wide pad scales to the width
        page.evaluate("window.scrollTo(0, 40)")
        before = page.evaluate("window.scrollY")
        cdp = page.context.new_cdp_session(page)
        draw_touch(page, cdp, number_42, spacing=2.0)  # a small pad: keep the strokes' curves
        assert page.evaluate("window.scrollY") == before, "drawing on the pad scrolled the page"
        page.locator("#recognize").tap()
        assert answer_of(page) == NUMBER
        expect(page.locator("#digit-list button")).to_have_count(2)
        digit_button(page, 1, NUMBER[0]).tap()
        expect(digit_button(page, 1, NUMBER[0])).to_have_attribute("aria-pressed", "true")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"number mode is {overflow} px wider than a 320 px screen"
        assert overflowing(page) == [], "number mode"
        shot(page, "number-phone.png")
        assert not console.messages, console.messages


# ---- accessibility --------------------------------------------------------------------------------------------
def test_every_page_passes_axe(browser, server, clear_samples, number_42):
    """axe-core on each page and the main states of the drawing page: no WCAG 2.1 A or AA violation. axe is
    injected by the test (the app's Content-Security-Policy forbids it, so this context bypasses the CSP)."""
    context = browser.new_context(
        viewport={"width": 1100, "height": 900}, reduced_motion="reduce", bypass_csp=True, base_url=server
    )
    found = {}
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        expect = playwright_sync.expect
        for path in ("/about", "/stats", "/"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            found[path] = axe_violations(page)
        wait_ready(page)

        digit = 7 if 7 in clear_samples else WANTED[0]
        draw_mouse(page, clear_samples[digit][0])
        page.click("#recognize")
        assert answer_of(page) == str(digit)
        found["digit result"] = axe_violations(page)
        page.click("#correct")
        expect(page.locator("#after-learning")).to_be_visible()
        found["after learning"] = axe_violations(page)

        page.check("#number-mode")
        draw_mouse(page, number_42)
        page.click("#recognize")
        assert answer_of(page) == NUMBER
        found["number result"] = axe_violations(page)
        digit_button(page, 2, NUMBER[1]).click()
        found["number, a digit picked"] = axe_violations(page)

        page.check("#mode-collect")  # the number stays on the pad
        page.fill("#collect-number", "1")
        page.click("#save-number")  # two digits, one typed: an error in the status
        expect(page.locator("#status")).to_have_class(re.compile("is-error"))
        found["collect mode, an error"] = axe_violations(page)
        page.uncheck("#number-mode")
        found["collect mode, square pad"] = axe_violations(page)

        page.set_viewport_size({"width": 320, "height": 640})
        for path in ("/", "/stats", "/about"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            found[f"{path} at 320 px"] = axe_violations(page)
    finally:
        context.close()
    found = {state: lines for state, lines in found.items() if lines}
    assert not found, json.dumps(found, indent=1)


def test_a_comma_between_two_digits_is_left_out_of_the_number(page, number_42):
    comma = render.punctuated(number_42["digits"], number_42["boxes"], WIDE[1] / 14, 0, "comma")
    page.check("#number-mode")
    draw_mouse(page, {**number_42, "strokes": comma})
    with page.expect_response("**/predict") as answered:
        page.click("#recognize")
    assert len(answered.value.request.post_data_json["strokes"]) == len(comma) == len(number_42["strokes"]) + 1
    assert answer_of(page) == NUMBER
    playwright_sync.expect(page.locator("#digit-list button")).to_have_count(2)
    mark = comma[len(number_42["digits"][0])]  # in no digit's box: not joined to the 4 or the 2
    assert not any(box[0] <= x < box[2] for box in (d["box"] for d in answered.value.json()["digits"]) for x, _ in mark)


def test_a_number_with_two_digits_touching_is_read_from_its_strokes(page, number_2026):
    page.check("#number-mode")
    draw_mouse(page, number_2026)
    with page.expect_request("**/predict") as asked:
        page.click("#recognize")
    sent = asked.value.post_data_json
    assert len(sent["strokes"]) == len(number_2026["strokes"])  # the page sends the ink as drawn ...
    assert all(0 <= x <= WIDE[0] and 0 <= y <= WIDE[1] and t >= 0 for s in sent["strokes"] for x, y, t in s)
    assert answer_of(page) == "2026"  # ... and the touching 0 and 2 come apart
    playwright_sync.expect(page.locator("#digit-list button")).to_have_count(4)
