"""Export the collected drawings as a data set: `python -m recognizer.commands.export --out DIR`.

DIR/dataset.npz holds x (N x 28 x 28 uint8, preprocessed like MNIST: white digit on black), y (the labels)
and sample_ids (oldest first); DIR/png/<digit>/<sample_id>.png are the drawings as they were sent.
"""

import argparse
from pathlib import Path

import numpy as np

from recognizer.nets import weights
from recognizer.reading.images import ink_from_bytes
from recognizer.reading.preprocess import to_mnist
from recognizer.state.drawings import stored_drawings
from recognizer.state.store import open_store, url_from_environment


def export(store, out):
    """Write the data set under `out`; return how many drawings it holds."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x, y, ids = [], [], []
    for drawing in stored_drawings(store):
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
    return len(ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the directory to write dataset.npz and png/ into")
    args = parser.parse_args()
    url = url_from_environment()
    count = export(open_store(url), args.out)
    print(f"exported {count} drawings from {url} to {args.out}")


if __name__ == "__main__":
    main()
