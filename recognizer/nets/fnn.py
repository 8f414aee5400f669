"""A 784-100-10 fully-connected net in plain numpy: ReLU hidden layer, softmax output, L2-regularised cross-entropy."""

import numpy as np

INPUTS, HIDDEN, CLASSES = 784, 100, 10


def softmax(logits):
    """Row-wise softmax, shifted for numerical safety."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class FNN:
    """The numpy network; `params` is a dict of float32 arrays so weights round-trip through .npz unchanged."""

    names = ("W1", "b1", "W2", "b2")

    def __init__(self, params):
        self.params = {name: np.asarray(params[name], dtype=np.float32) for name in self.names}

    @classmethod
    def initialise(cls, seed=0):
        """He-initialised weights, zero biases."""
        rng = np.random.default_rng(seed)
        return cls(
            {
                "W1": rng.normal(0, np.sqrt(2 / INPUTS), (INPUTS, HIDDEN)),
                "b1": np.zeros(HIDDEN),
                "W2": rng.normal(0, np.sqrt(2 / HIDDEN), (HIDDEN, CLASSES)),
                "b2": np.zeros(CLASSES),
            }
        )

    def copy(self):
        return FNN({name: value.copy() for name, value in self.params.items()})

    def probabilities(self, images):
        """Class probabilities for a batch of 28x28 images in [0, 1]."""
        return softmax(self._forward(images.reshape(len(images), -1))[1])

    # The online learner treats both networks as a trainable head over features; here the features are the pixels.
    def features(self, images):
        return images.reshape(len(images), INPUTS).astype(np.float32)

    head_probabilities = probabilities

    def same_features(self, other):
        """Always: the features are the pixels."""
        return True

    def head_loss_and_gradients(self, features, targets):
        return self.loss_and_gradients(features, None, l2=0.0, targets=targets)

    def _forward(self, x):
        p = self.params
        hidden = np.maximum(x @ p["W1"] + p["b1"], 0.0)
        return hidden, hidden @ p["W2"] + p["b2"]

    def loss_and_gradients(self, images, labels, l2=1e-4, targets=None):
        """Cross-entropy + L2 loss and its gradients; `targets` (soft labels) overrides `labels` when given."""
        p = self.params
        x = images.reshape(len(images), -1).astype(np.float32)
        hidden, logits = self._forward(x)
        probs = softmax(logits)
        if targets is None:
            targets = np.eye(CLASSES, dtype=np.float32)[labels]
        loss = float(-(targets * np.log(probs + 1e-12)).sum(axis=1).mean())
        loss += 0.5 * l2 * float((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
        d_logits = (probs - targets) / len(x)
        d_hidden = (d_logits @ p["W2"].T) * (hidden > 0)
        grads = {
            "W2": hidden.T @ d_logits + l2 * p["W2"],
            "b2": d_logits.sum(axis=0),
            "W1": x.T @ d_hidden + l2 * p["W1"],
            "b1": d_hidden.sum(axis=0),
        }
        return loss, grads

    def apply(self, grads, learning_rate, velocity=None, momentum=0.0):
        """One (momentum) SGD step in place; returns the updated velocity."""
        velocity = velocity or {name: np.zeros_like(value) for name, value in self.params.items()}
        for name in self.names:
            velocity[name] = momentum * velocity[name] - learning_rate * grads[name].astype(np.float32)
            self.params[name] += velocity[name]
        return velocity
