"""The original CNN (conv 4x4x16, pool, conv 4x4x32, pool, dense 625, dropout, dense 10).

Keras defines and trains it; `ConvNet` runs the same arithmetic in numpy, so a web worker serves and
updates the CNN in about a millisecond per image without importing TensorFlow (550 MB a process).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from recognizer.fnn import softmax

KERNEL = 4
PAD_BEFORE, PAD_AFTER = (KERNEL - 1) // 2, KERNEL // 2   # Keras "same" padding for an even kernel
DROPOUT = 0.4


def build_keras(seed=0):
    """The Keras model of the architecture, outputting logits."""
    import keras
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(16, KERNEL, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, KERNEL, padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(625, activation="relu", name="dense1"),
        layers.Dropout(DROPOUT),
        layers.Dense(10, name="dense2"),
    ])


def _patches(x):
    """im2col for a 'same' 4x4 convolution: (N, H, W, C) -> (N*H*W, 4*4*C)."""
    n, h, w, c = x.shape
    padded = np.pad(x, ((0, 0), (PAD_BEFORE, PAD_AFTER), (PAD_BEFORE, PAD_AFTER), (0, 0)))
    windows = sliding_window_view(padded, (KERNEL, KERNEL), axis=(1, 2))   # N, H, W, C, k, k
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * h * w, KERNEL * KERNEL * c)


def _patches_back(d_cols, shape):
    """Scatter im2col gradients back onto the (unpadded) input."""
    n, h, w, c = shape
    d_cols = d_cols.reshape(n, h, w, KERNEL, KERNEL, c)
    d_padded = np.zeros((n, h + KERNEL - 1, w + KERNEL - 1, c), dtype=np.float32)
    for i in range(KERNEL):
        for j in range(KERNEL):
            d_padded[:, i:i + h, j:j + w, :] += d_cols[:, :, :, i, j, :]
    return d_padded[:, PAD_BEFORE:PAD_BEFORE + h, PAD_BEFORE:PAD_BEFORE + w, :]


def _pool(x):
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // 2, 2, w // 2, 2, c)
    return blocks, blocks.max(axis=(2, 4))


def _pool_back(blocks, pooled, d_pooled):
    mask = blocks == pooled[:, :, None, :, None, :]
    d_blocks = mask * d_pooled[:, :, None, :, None, :]
    n, h2, _, w2, _, c = blocks.shape
    return d_blocks.reshape(n, h2 * 2, w2 * 2, c)


class ConvNet:
    """Numpy inference and backpropagation for the Keras CNN's weights (dropout is training-time only)."""

    names = ("conv1_w", "conv1_b", "conv2_w", "conv2_b", "dense1_w", "dense1_b", "dense2_w", "dense2_b")

    def __init__(self, params):
        self.params = {name: np.asarray(params[name], dtype=np.float32) for name in self.names}

    @classmethod
    def from_keras(cls, model):
        weights = []
        for layer in ("conv1", "conv2", "dense1", "dense2"):
            weights += [np.asarray(w) for w in model.get_layer(layer).get_weights()]
        return cls(dict(zip(cls.names, weights)))

    def to_keras(self):
        model = build_keras()
        for i, layer in enumerate(("conv1", "conv2", "dense1", "dense2")):
            model.get_layer(layer).set_weights([self.params[self.names[2 * i]], self.params[self.names[2 * i + 1]]])
        return model

    def copy(self):
        return ConvNet({name: value.copy() for name, value in self.params.items()})

    def _forward(self, images):
        p = self.params
        x = images.reshape(len(images), 28, 28, 1).astype(np.float32)
        cache = {"x": x}
        cache["cols1"] = _patches(x)
        z1 = (cache["cols1"] @ p["conv1_w"].reshape(-1, 16) + p["conv1_b"]).reshape(len(x), 28, 28, 16)
        cache["a1"] = np.maximum(z1, 0)
        cache["blocks1"], cache["p1"] = _pool(cache["a1"])
        cache["cols2"] = _patches(cache["p1"])
        z2 = (cache["cols2"] @ p["conv2_w"].reshape(-1, 32) + p["conv2_b"]).reshape(len(x), 14, 14, 32)
        cache["a2"] = np.maximum(z2, 0)
        cache["blocks2"], p2 = _pool(cache["a2"])
        cache["flat"] = p2.reshape(len(x), -1)
        cache["h"] = np.maximum(cache["flat"] @ p["dense1_w"] + p["dense1_b"], 0)
        return cache, cache["h"] @ p["dense2_w"] + p["dense2_b"]

    def probabilities(self, images, batch=256):
        """Class probabilities for a batch of 28x28 images in [0, 1]."""
        out = [softmax(self._forward(images[i:i + batch])[1]) for i in range(0, len(images), batch)]
        return np.concatenate(out) if out else np.zeros((0, 10), dtype=np.float32)

    def loss_and_gradients(self, images, labels, l2=0.0, targets=None):
        """Cross-entropy (+ optional L2) loss and its gradients; `targets` (soft labels) overrides `labels`."""
        p = self.params
        cache, logits = self._forward(images)
        n = len(logits)
        probs = softmax(logits)
        if targets is None:
            targets = np.eye(10, dtype=np.float32)[labels]
        loss = float(-(targets * np.log(probs + 1e-12)).sum(axis=1).mean())
        d_logits = ((probs - targets) / n).astype(np.float32)
        g = {"dense2_w": cache["h"].T @ d_logits, "dense2_b": d_logits.sum(axis=0)}
        d_h = (d_logits @ p["dense2_w"].T) * (cache["h"] > 0)
        g["dense1_w"] = cache["flat"].T @ d_h
        g["dense1_b"] = d_h.sum(axis=0)
        d_p2 = (d_h @ p["dense1_w"].T).reshape(n, 7, 7, 32)
        d_z2 = _pool_back(cache["blocks2"], cache["blocks2"].max(axis=(2, 4)), d_p2) * (cache["a2"] > 0)
        d_z2 = d_z2.reshape(-1, 32)
        g["conv2_w"] = (cache["cols2"].T @ d_z2).reshape(p["conv2_w"].shape)
        g["conv2_b"] = d_z2.sum(axis=0)
        d_p1 = _patches_back(d_z2 @ p["conv2_w"].reshape(-1, 32).T, cache["p1"].shape)
        d_z1 = (_pool_back(cache["blocks1"], cache["p1"], d_p1) * (cache["a1"] > 0)).reshape(-1, 16)
        g["conv1_w"] = (cache["cols1"].T @ d_z1).reshape(p["conv1_w"].shape)
        g["conv1_b"] = d_z1.sum(axis=0)
        if l2:
            for name in ("conv1_w", "conv2_w", "dense1_w", "dense2_w"):
                loss += 0.5 * l2 * float((p[name] ** 2).sum())
                g[name] = g[name] + l2 * p[name]
        return loss, g

    def apply(self, grads, learning_rate, velocity=None, momentum=0.0):
        """One (momentum) SGD step in place; returns the updated velocity."""
        velocity = velocity or {name: np.zeros_like(value) for name, value in self.params.items()}
        for name in self.names:
            velocity[name] = momentum * velocity[name] - learning_rate * grads[name].astype(np.float32)
            self.params[name] += velocity[name]
        return velocity
