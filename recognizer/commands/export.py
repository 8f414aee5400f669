"""Export the collected drawings as a data set: `python -m recognizer.commands.export --out DIR`.

DIR/dataset.npz holds x (N x 28 x 28 uint8, preprocessed like MNIST: white digit on black), y (the labels)
and sample_ids (oldest first); DIR/png/<digit>/<sample_id>.png are the drawings as they were sent;
DIR/strokes.ndjson holds the strokes of those stored with theirs, one drawing a line in the Quick, Draw! raw
layout (https://github.com/googlecreativelab/quickdraw-dataset#the-raw-moderated-dataset).
"""

import argparse
import datetime
import hashlib
import json
from pathlib import Path

import numpy as np

from recognizer.nets import weights
from recognizer.reading.images import ink_from_bytes
from recognizer.reading.preprocess import to_mnist
from recognizer.state.drawings import stored_drawings
from recognizer.state.store import open_store, url_from_environment


def export(store, out):
    """Write the data set under `out`; return how many drawings it holds, and how many of them have strokes."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x, y, ids, lines = [], [], [], []
    for drawing in stored_drawings(store):
        meta = drawing.meta(store) or {}
        if meta.get("strokes"):
            lines.append(json.dumps(quickdraw_line(drawing, meta)) + "\n")
        png = drawing.png(store)
        path = out / "png" / str(drawing.digit) / f"{drawing.sample_id}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        x.append(weights.to_uint8(to_mnist(ink_from_bytes(png, "PNG"))))
        y.append(drawing.digit)
        ids.append(drawing.sample_id)
    weights.save(
        out / "dataset.npz",
        {
            "x": np.array(x, dtype=np.uint8).reshape(-1, 28, 28),
            "y": np.array(y, dtype=np.int64),
            "sample_ids": np.array(ids, dtype=str),
        },
    )
    (out / "strokes.ndjson").write_text("".join(lines))
    return len(ids), len(lines)


def quickdraw_line(drawing, meta):
    """A stored drawing's strokes as a line of Quick, Draw!'s raw ndjson: each stroke as [xs, ys] or [xs, ys, ts]
    in the stored PNG's pixels; `word` is the digit, `recognized` whether the answer shown named it."""
    return {
        "key_id": str(int(hashlib.sha256(drawing.sample_id.encode()).hexdigest()[:16], 16)),
        "word": str(drawing.digit),
        "countrycode": "ZZ",  # unknown: the region code CLDR keeps for it
        "timestamp": datetime.datetime.fromtimestamp(meta["time"], datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC"),
        "recognized": meta.get("answer") == drawing.digit,
        "drawing": [[list(axis) for axis in zip(*stroke)] for stroke in meta["strokes"]],
        "sample_id": drawing.sample_id,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the directory to write dataset.npz, png/ and strokes.ndjson into")
    args = parser.parse_args()
    url = url_from_environment()
    count, with_strokes = export(open_store(url), args.out)
    print(f"exported {count} drawings ({with_strokes} with their strokes) from {url} to {args.out}")


if __name__ == "__main__":
    main()
