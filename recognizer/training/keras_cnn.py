"""The original CNN as a Keras model, and the conversions between it and the numpy `ConvNet` the server runs."""

import keras
import numpy as np

from recognizer.nets.cnn import KERNEL, ConvNet

DROPOUT = 0.4
LAYERS = ("conv1", "conv2", "dense1", "dense2")
EPSILON = 1e-3  # Keras BatchNormalization's
WIDTHS = (16, 32, 625)  # the shipped net's filters in each convolution and units in the hidden dense layer


def build(seed=0, batch_norm=False, widths=WIDTHS):
    """The Keras model of the architecture, outputting logits; with `batch_norm`, each convolution's output is
    normalised over the batch while it trains (folded into the convolution's weights for serving: `to_convnet`)."""
    keras.utils.set_random_seed(seed)
    layers = keras.layers

    def conv(filters, name):
        if not batch_norm:
            return [layers.Conv2D(filters, KERNEL, padding="same", activation="relu", name=name)]
        return [
            layers.Conv2D(filters, KERNEL, padding="same", name=name),
            layers.BatchNormalization(epsilon=EPSILON, name=f"{name}_norm"),
            layers.ReLU(),
        ]

    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            *conv(widths[0], "conv1"),
            layers.MaxPooling2D(2),
            *conv(widths[1], "conv2"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(widths[2], activation="relu", name="dense1"),
            layers.Dropout(DROPOUT),
            layers.Dense(10, name="dense2"),
        ]
    )


def folded(model, name):
    """A layer's (kernel, bias), with the batch normalisation after it (if any) folded in: the same outputs."""
    kernel, bias = model.get_layer(name).get_weights()
    try:
        gamma, beta, mean, variance = model.get_layer(f"{name}_norm").get_weights()
    except ValueError:  # no such layer
        return kernel, bias
    scale = gamma / np.sqrt(variance + EPSILON)
    return kernel * scale, (bias - mean) * scale + beta


def to_convnet(model):
    """The numpy runtime's copy of a Keras model's weights."""
    arrays = [array for layer in LAYERS for array in folded(model, layer)]
    return ConvNet(dict(zip(ConvNet.names, arrays)))


def from_convnet(net):
    """A Keras model holding a `ConvNet`'s weights (for fast batch inference in training, and the tests)."""
    model = build(widths=net.widths)
    for i, layer in enumerate(LAYERS):
        model.get_layer(layer).set_weights([net.params[ConvNet.names[2 * i]], net.params[ConvNet.names[2 * i + 1]]])
    return model
