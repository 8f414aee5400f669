"""The two networks: FNN gradients against numerical ones, the numpy CNN against Keras, save/load round trips."""

import numpy as np
import pytest

from recognizer.nets import weights
from recognizer.nets.cnn import ConvNet
from recognizer.nets.fnn import FNN
from recognizer.nets.weights import SHIPPED
from recognizer.reading.preprocess import to_mnist
from recognizer.training import keras_cnn, render
from recognizer.training.evaluate import answers


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    return rng.random((6, 28, 28)).astype(np.float32), rng.integers(0, 10, 6)


def test_fnn_gradients_match_numerical_gradients(batch):
    images, labels = batch
    net = FNN.initialise(seed=3)
    net.params = {k: v.astype(np.float64) for k, v in net.params.items()}  # float64 for a tight check
    _, grads = net.loss_and_gradients(images.astype(np.float64), labels, l2=1e-3)
    rng = np.random.default_rng(0)
    for name in FNN.names:
        for index in [tuple(rng.integers(0, s) for s in net.params[name].shape) for _ in range(6)]:
            original = net.params[name][index]
            net.params[name][index] = original + 1e-5
            plus, _ = net.loss_and_gradients(images.astype(np.float64), labels, l2=1e-3)
            net.params[name][index] = original - 1e-5
            minus, _ = net.loss_and_gradients(images.astype(np.float64), labels, l2=1e-3)
            net.params[name][index] = original
            numerical = (plus - minus) / 2e-5
            assert grads[name][index] == pytest.approx(numerical, rel=1e-4, abs=1e-7), name


def test_fnn_training_steps_reduce_the_loss(batch):
    images, labels = batch
    net = FNN.initialise(seed=0)
    first, _ = net.loss_and_gradients(images, labels)
    velocity = None
    for _ in range(30):
        _, grads = net.loss_and_gradients(images, labels)
        velocity = net.apply(grads, 0.05, velocity, momentum=0.9)
    last, _ = net.loss_and_gradients(images, labels)
    assert last < first * 0.2


def test_fnn_save_load_round_trip(tmp_path, batch):
    net = FNN.initialise(seed=5)
    weights.save(tmp_path / "fnn.npz", net.params)
    again = FNN(weights.load(tmp_path / "fnn.npz"))
    np.testing.assert_array_equal(net.probabilities(batch[0]), again.probabilities(batch[0]))


@pytest.fixture(scope="module")
def keras_model():
    model = keras_cnn.build(seed=1)
    rng = np.random.default_rng(2)
    for layer in model.layers:  # non-zero biases make the comparison sharper
        if layer.get_weights():
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.05, bias.shape).astype(np.float32)])
    return model


def keras_probabilities(model, images):
    """The class probabilities a Keras model of the CNN (which outputs logits) gives, softmaxed here."""
    logits = model(images[..., None], training=False).numpy()
    probs = np.exp(logits - logits.max(1, keepdims=True))
    return probs / probs.sum(1, keepdims=True)


def test_numpy_cnn_matches_keras_forward_pass(keras_model, batch):
    net = keras_cnn.to_convnet(keras_model)
    np.testing.assert_allclose(net.probabilities(batch[0]), keras_probabilities(keras_model, batch[0]), atol=1e-5)


def test_numpy_cnn_reads_other_widths_from_the_weights(batch):
    model = keras_cnn.build(seed=4, widths=(8, 12, 40))
    net = keras_cnn.to_convnet(model)
    np.testing.assert_allclose(net.probabilities(batch[0]), keras_probabilities(model, batch[0]), atol=1e-5)
    np.testing.assert_allclose(
        keras_probabilities(keras_cnn.from_convnet(net), batch[0]), net.probabilities(batch[0]), atol=1e-5
    )


def test_batch_normalisation_folds_into_the_numpy_cnn(batch):
    model = keras_cnn.build(seed=1, batch_norm=True)
    rng = np.random.default_rng(3)
    for name in ("conv1_norm", "conv2_norm"):  # statistics far from the identity, as after training
        size = model.get_layer(name).get_weights()[0].shape
        model.get_layer(name).set_weights(
            [rng.uniform(0.5, 2, size), rng.normal(0, 0.3, size), rng.normal(0, 0.3, size), rng.uniform(0.2, 3, size)]
        )
    np.testing.assert_allclose(
        keras_cnn.to_convnet(model).probabilities(batch[0]), keras_probabilities(model, batch[0]), atol=1e-5
    )


def test_numpy_cnn_head_gradients_match_tensorflow(keras_model, batch):
    import tensorflow as tf

    images, labels = batch
    net = keras_cnn.to_convnet(keras_model)
    with tf.GradientTape() as tape:
        logits = keras_model(images[..., None], training=False)
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    expected = dict(zip(ConvNet.names, tape.gradient(loss, keras_model.trainable_weights)))
    ours_loss, ours = net.head_loss_and_gradients(net.features(images), np.eye(10, dtype=np.float32)[labels])
    assert ours_loss == pytest.approx(float(loss), rel=1e-5)
    for name, grad in ours.items():
        np.testing.assert_allclose(grad, expected[name].numpy(), atol=1e-6)


def test_cnn_keras_save_load_round_trip_through_numpy(tmp_path, keras_model, batch):
    import keras

    keras_model.save(tmp_path / "cnn.keras")
    loaded = keras.models.load_model(tmp_path / "cnn.keras")
    net = keras_cnn.to_convnet(loaded)
    weights.save(tmp_path / "cnn.npz", net.params)
    again = keras_cnn.from_convnet(ConvNet(weights.load(tmp_path / "cnn.npz")))
    np.testing.assert_allclose(
        again(batch[0][..., None], training=False).numpy(),
        keras_model(batch[0][..., None], training=False).numpy(),
        atol=1e-5,
    )


def test_shipped_models_load_and_know_digits(strokes):
    fnn, cnn = weights.load_models(SHIPPED)
    images = np.stack([to_mnist(render.strokes_to_ink(s["strokes"], s["width"])) for s in strokes[:100]])
    labels = np.array([s["label"] for s in strokes[:100]])
    assert (cnn.probabilities(images).argmax(1) == labels).mean() >= 0.9
    assert (fnn.probabilities(images).argmax(1) == labels).mean() >= 0.85


def share_answered_right(samples, inks):
    """The share of drawings whose label the shipped models' answer names."""
    fnn, cnn = weights.load_models(SHIPPED)
    images = np.stack([to_mnist(ink) for ink in inks])
    chosen = answers(fnn.probabilities(images), cnn.probabilities(images))
    return np.mean([a == s["label"] for a, s in zip(chosen, samples)])


@pytest.mark.parametrize("width", [1, 2])
def test_shipped_models_read_drawings_in_a_hairline_pen(strokes, width):
    """Ink converted to images by other tools is often drawn 1-2 px wide, far thinner than any pen trained on."""
    assert share_answered_right(strokes, [render.strokes_to_ink(s["strokes"], width) for s in strokes]) >= 0.97


def test_shipped_models_read_small_drawings_in_a_thick_pen(strokes):
    """A digit drawn small in a thick pen has its loops half filled: training draws pen digits that small too."""
    rng, pen = np.random.default_rng(0), 1.5 * render.PAGE_PEN
    inks = [render.strokes_to_ink(render.place_strokes(s["strokes"], rng, pen, heights=(40, 60)), pen) for s in strokes]
    assert share_answered_right(strokes, inks) >= 0.92
