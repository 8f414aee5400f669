"""Save and load named weight arrays as .npz, from files or bytes (the store keeps bytes)."""

import io
import os
from pathlib import Path

import numpy as np

# The original models ship here; the server reads them from MODELS_DIR when that is set.
SHIPPED = Path(__file__).resolve().parents[2] / "models"
MODELS_DIR = Path(os.environ.get("MODELS_DIR", SHIPPED))


def save(path, arrays):
    """Write arrays to `path` atomically enough for a training run (np.savez_compressed)."""
    np.savez_compressed(path, **arrays)


def load(source):
    """Read a dict of arrays from a path or from bytes."""
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    with np.load(source, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def load_models(directory):
    """The original FNN and CNN whose weights `directory` holds (models/, or a training run's --out)."""
    from recognizer.nets.cnn import ConvNet
    from recognizer.nets.fnn import FNN

    directory = Path(directory)
    return FNN(load(directory / "fnn.npz")), ConvNet(load(directory / "cnn.npz"))


def to_bytes(arrays):
    """Serialise arrays to .npz bytes, uncompressed: float weights barely compress and speed matters."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def to_uint8(images):
    """Quantise [0, 1] images for compact storage."""
    return np.clip(images * 255.0 + 0.5, 0, 255).astype(np.uint8)
