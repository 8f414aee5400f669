"""The original CNN (conv 4x4x16, pool, conv 4x4x32, pool, dense 625, dropout, dense 10, as shipped; the widths are
read from the weights), in numpy.

Keras defines and trains it (recognizer/training/keras_cnn.py); `ConvNet` runs the same arithmetic in numpy,
so a web worker serves and updates the CNN in about a millisecond per image without importing TensorFlow
(550 MB a process). Online learning moves its output layer alone, so `features` (everything below it) are
computed once per image and shared by the original and updated CNN.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from recognizer.nets.fnn import softmax

KERNEL = 4
LEARNED = ("dense2_w", "dense2_b")  # the output layer: all that online learning moves
PAD_BEFORE, PAD_AFTER = (KERNEL - 1) // 2, KERNEL // 2  # Keras "same" padding for an even kernel


def _patches(x):
    """im2col for a 'same' 4x4 convolution: (N, H, W, C) -> (N*H*W, 4*4*C)."""
    n, h, w, c = x.shape
    padded = np.zeros((n, h + PAD_BEFORE + PAD_AFTER, w + PAD_BEFORE + PAD_AFTER, c), dtype=x.dtype)  # as np.pad
    padded[:, PAD_BEFORE : PAD_BEFORE + h, PAD_BEFORE : PAD_BEFORE + w] = x
    windows = sliding_window_view(padded, (KERNEL, KERNEL), axis=(1, 2))  # N, H, W, C, k, k
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * h * w, KERNEL * KERNEL * c)


def _pool(x):
    """2x2 max-pooling, stride 2: the larger of each window's four pixels, taken two by two (a max over the
    window's axes of a reshaped copy costs four times as much)."""
    return np.maximum(np.maximum(x[:, 0::2, 0::2], x[:, 0::2, 1::2]), np.maximum(x[:, 1::2, 0::2], x[:, 1::2, 1::2]))


class ConvNet:
    """Numpy inference for the Keras CNN's weights, and gradients for its output layer (dropout is training-only)."""

    names = ("conv1_w", "conv1_b", "conv2_w", "conv2_b", "dense1_w", "dense1_b", "dense2_w", "dense2_b")

    def __init__(self, params):
        self.params = {name: np.asarray(params[name], dtype=np.float32) for name in self.names}

    @property
    def widths(self):
        """Its filters in each convolution and units in the hidden layer, as its weights hold them."""
        return tuple(len(self.params[bias]) for bias in ("conv1_b", "conv2_b", "dense1_b"))

    def same_features(self, other):
        """Whether the two nets' layers below the output are the same, so that one's features serve the other's."""
        return all(
            self.params[name] is other.params[name] or np.array_equal(self.params[name], other.params[name])
            for name in self.names
            if name not in LEARNED
        )

    def copy(self):
        """A copy whose output layer can learn; the layers below it, which online learning never moves, are
        shared (so that same_features is an identity check)."""
        return ConvNet({name: value.copy() if name in LEARNED else value for name, value in self.params.items()})

    def features(self, images, batch=256):
        """The hidden dense layer's output: what the output layer (all that online updates change) reads."""
        out = [self._hidden(self._conv_features(images[i : i + batch])) for i in range(0, len(images), batch)]
        return np.concatenate(out) if out else np.zeros((0, self.widths[2]), dtype=np.float32)

    def _conv_features(self, images):
        p = self.params
        x = images.reshape(len(images), 28, 28, 1).astype(np.float32)
        one, two, _ = self.widths
        a1 = np.maximum((_patches(x) @ p["conv1_w"].reshape(-1, one) + p["conv1_b"]).reshape(len(x), 28, 28, one), 0)
        p1 = _pool(a1)
        a2 = np.maximum((_patches(p1) @ p["conv2_w"].reshape(-1, two) + p["conv2_b"]).reshape(len(x), 14, 14, two), 0)
        return _pool(a2).reshape(len(x), -1)

    def _hidden(self, flat):
        return np.maximum(flat @ self.params["dense1_w"] + self.params["dense1_b"], 0)

    def head_probabilities(self, hidden):
        """Class probabilities from precomputed features (the hidden layer's output)."""
        return softmax(hidden @ self.params["dense2_w"] + self.params["dense2_b"])

    def probabilities(self, images):
        """Class probabilities for a batch of 28x28 images in [0, 1]."""
        return self.head_probabilities(self.features(images))

    def head_loss_and_gradients(self, hidden, targets):
        """Cross-entropy loss of the output layer on the hidden layer's output, and its gradients."""
        probs = self.head_probabilities(hidden)
        loss = float(-(targets * np.log(probs + 1e-12)).sum(axis=1).mean())
        d_logits = ((probs - targets) / len(hidden)).astype(np.float32)
        return loss, {"dense2_w": hidden.T @ d_logits, "dense2_b": d_logits.sum(axis=0)}

    def apply(self, grads, learning_rate):
        """One SGD step in place on the weights `grads` names."""
        for name, grad in grads.items():
            self.params[name] -= learning_rate * grad.astype(np.float32)
