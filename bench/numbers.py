"""Reading written numbers: whole numbers, digit counts and digits right, through Recognizer.predict as /predict does.

Run from the repository root: `python bench/numbers.py [--numbers 600]`. Numbers of 2-6 digits are written on
the page's wide pad (840x280, its pen) from real pen digits no model trained on: UJI's held-out writers (each
number from one writer's own digits) and the dev strokes. Each number's height, each digit's height (within 15%),
its baseline (within 6% of the height) and the blank between digits (10-60% of the height) vary. Touching pairs
are written with the blank below zero, and counted as touching only where their ink really meets.
Digits right counts positions, over the numbers whose digit count was found right; the time is Recognizer.predict's
(no HTTP: bench/latency.py). Single digits: the same real
digits drawn alone, read as a number, against today's answer for the whole drawing.
"""

import sys

if __name__ != "__main__":
    # Scripts in bench/ have this folder first on their path, so `import numbers` (numpy's) finds this file:
    # it puts the standard library's module in its place, and is otherwise only ever run as a script.
    import importlib.util
    import sysconfig
    from pathlib import Path

    _spec = importlib.util.spec_from_file_location("numbers", Path(sysconfig.get_path("stdlib")) / "numbers.py")
    sys.modules["numbers"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["numbers"])
else:
    import argparse
    import time

    import numpy as np

    from common import recognizer, table  # (importing common puts the repository on sys.path)
    from recognizer.training import data, render
    from recognizer.training.render import WIDE_PAD, compose_number, strokes_to_ink

APART = (0.1, 0.6)  # the blank between digits, as a share of the number's height
TOUCHING = (-0.12, 0.0)  # the blank between a touching pair: its ink overlaps a little or just meets


def meets(a, b):
    """Whether two ink masks touch: a pixel of `b` on or beside one of `a`."""
    near = np.pad(a, 1)
    return bool((a | near[:-2, 1:-1] | near[2:, 1:-1] | near[1:-1, :-2] | near[1:-1, 2:])[b].any())


def written(digits, rng, gaps):
    """(ink of the number on the wide pad, whether two neighbouring digits' ink meets); `gaps`: compose_number's."""
    strokes, pen, _ = compose_number(digits, rng, gaps=gaps)
    inks = [strokes_to_ink(s, pen, WIDE_PAD[1], WIDE_PAD[0]) > 0.05 for s in strokes]
    touch = any(meets(a, b) for a, b in zip(inks, inks[1:]))
    return strokes_to_ink([s for d in strokes for s in d], pen, WIDE_PAD[1], WIDE_PAD[0]), touch


def sources():
    """(name, list of digit groups to draw numbers from): UJI's held-out writers one by one, and the dev strokes."""
    _, held_out = data.pen_split("uji")
    writers = {}
    for pen in held_out:
        writers.setdefault(pen["writer"], []).append(pen)
    return [("UJI held-out writers", list(writers.values())), ("dev strokes", [data.load_strokes()])]


def score(rec, cases):
    """[numbers, whole numbers right, counts right, digits right, digits in the numbers counted right, ms each]."""
    totals = np.zeros(6)
    for ink, labels in cases:
        started = time.perf_counter()
        body = rec.predict(ink)
        totals[5] += (time.perf_counter() - started) * 1000
        read = [d["answer"] for d in body["digits"]]
        counted = len(read) == len(labels)
        totals[:5] += (
            1,
            body["number"] == "".join(map(str, labels)),
            counted,
            counted and sum(r == label for r, label in zip(read, labels)),
            counted and len(labels),
        )
    return totals


def shares(totals):
    """A score as the table's cells."""
    n, whole, count, right, seen, ms = totals
    return [str(int(n)), f"{whole / n:.1%}", f"{count / n:.1%}", f"{right / max(seen, 1):.1%}", f"{ms / n:.1f}"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=600, help="numbers per source and kind")
    args = parser.parse_args()
    rec = recognizer()
    rng = np.random.default_rng(2026)
    rows, singles, kinds = [], [], {"apart": np.zeros(6), "one touching pair": np.zeros(6)}
    for name, groups in sources():
        apart, touching = [], []
        while len(apart) < args.numbers or len(touching) < args.numbers // 4:
            group = groups[int(rng.integers(len(groups)))]
            picks = [group[i] for i in rng.choice(len(group), int(rng.integers(2, 7)), replace=False)]
            labels = [p["label"] for p in picks]
            if len(apart) < args.numbers:
                ink, touch = written([p["strokes"] for p in picks], rng, APART)
                assert not touch  # a positive blank never lets the ink meet
                apart.append((ink, labels))
            pair = int(rng.integers(len(picks) - 1))  # one pair touches, the rest are apart
            gaps = [TOUCHING if k == pair else APART for k in range(len(picks) - 1)]
            ink, touch = written([p["strokes"] for p in picks], rng, gaps)
            if touch and len(touching) < args.numbers // 4:
                touching.append((ink, labels))
        for kind, cases in (("apart", apart), ("one touching pair", touching)):
            totals = score(rec, cases)
            kinds[kind] += totals
            rows.append([name, kind] + shares(totals))
        pens = [p for group in groups for p in group]
        singles += [(render.pen_to_canvas(p["strokes"], rng), p["label"]) for p in pens]
    rows += [["both", kind] + shares(totals) for kind, totals in kinds.items()]
    table(
        ["digits from", "numbers", "how many", "whole number right", "digit count right", "digits right", "mean ms"],
        rows,
    )
    print()
    read = [rec.predict(ink) for ink, _ in singles]
    old = sum(body["answer"] == label for body, (_, label) in zip(read, singles))
    as_number = sum(body["number"] == str(label) for body, (_, label) in zip(read, singles))
    split = sum(len(body["digits"]) != 1 for body in read)
    table(
        ["single digits (UJI held-out + dev)", "drawings", "right", "found as more than one digit"],
        [
            ["answer for the whole drawing (today's)", str(len(singles)), f"{old / len(singles):.2%}", ""],
            ["number", str(len(singles)), f"{as_number / len(singles):.2%}", str(split)],
        ],
    )


if __name__ == "__main__":
    main()
