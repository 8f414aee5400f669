"""The original CNN as a Keras model, and the conversions between it and the numpy `ConvNet` the server runs."""

import keras

from recognizer.nets.cnn import KERNEL, ConvNet

DROPOUT = 0.4
LAYERS = ("conv1", "conv2", "dense1", "dense2")


def build(seed=0):
    """The Keras model of the architecture, outputting logits."""
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(16, KERNEL, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, KERNEL, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(625, activation="relu", name="dense1"),
            layers.Dropout(DROPOUT),
            layers.Dense(10, name="dense2"),
        ]
    )


def to_convnet(model):
    """The numpy runtime's copy of a Keras model's weights."""
    arrays = []
    for layer in LAYERS:
        arrays += list(model.get_layer(layer).get_weights())
    return ConvNet(dict(zip(ConvNet.names, arrays)))


def from_convnet(net):
    """A Keras model holding a `ConvNet`'s weights (for fast batch inference in training, and the tests)."""
    model = build()
    for i, layer in enumerate(LAYERS):
        model.get_layer(layer).set_weights([net.params[ConvNet.names[2 * i]], net.params[ConvNet.names[2 * i + 1]]])
    return model
