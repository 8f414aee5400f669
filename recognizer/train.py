"""Train the original models from MNIST plus canvas-like renderings: `python -m recognizer.train`."""
import argparse
import hashlib
import json
import time
from pathlib import Path

import keras
import numpy as np

from recognizer import data, dataset, weights
from recognizer.cnn import ConvNet, build_keras
from recognizer.evaluate import accuracy_table
from recognizer.fnn import FNN, softmax

REPLAY_SIZE = 1000      # exemplars mixed into online updates
HOLDOUT_SIZE = 300      # train digits, kept out of the replay buffer, that the online guard checks an update against
BATCH = 128
FNN_EPOCHS = 17         # over the three teachers' sets together: as many steps as 50 epochs over one
TEACHER_CACHE = weights.SHIPPED.parent / "tmp" / "teachers"
TEACHER_CODE = ("augment", "cnn", "dataset", "preprocess", "render", "synth", "train")   # modules a teacher depends on


def train_fnn(images, targets, epochs, seed, log):
    """Mini-batch SGD with momentum and a cosine learning-rate schedule."""
    rng = np.random.default_rng(seed)
    net = FNN.initialise(seed)
    x = images.reshape(len(images), -1)
    steps_per_epoch = int(np.ceil(len(x) / BATCH))
    total, velocity, history = epochs * steps_per_epoch, None, []
    for epoch in range(epochs):
        order, losses = rng.permutation(len(x)), []
        for step in range(steps_per_epoch):
            batch = order[step * BATCH:(step + 1) * BATCH]
            lr = 0.08 * 0.5 * (1 + np.cos(np.pi * (epoch * steps_per_epoch + step) / total))
            loss, grads = net.loss_and_gradients(x[batch], None, l2=1e-4, targets=targets[batch])
            velocity = net.apply(grads, lr, velocity, momentum=0.9)
            losses.append(loss)
        history.append(float(np.mean(losses)))
        log(f"fnn epoch {epoch + 1}/{epochs}  loss {history[-1]:.4f}")
    return net, history


def distilled(targets, teacher_logits, temperature=3.0, share=0.5):
    """Soft targets: half the labels, half a teacher's softened beliefs (knowledge distillation carries its doubts)."""
    return (1 - share) * targets + share * softmax(teacher_logits / temperature)


class Shuffled(keras.utils.PyDataset):
    """Batches of (images, soft targets), reshuffled every epoch by a generator of its own seed: runs repeat exactly."""

    def __init__(self, images, targets, seed):
        super().__init__()
        self.images, self.targets, self.rng = images, targets, np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self):
        return int(np.ceil(len(self.images) / BATCH))

    def __getitem__(self, index):
        batch = self.order[index * BATCH:(index + 1) * BATCH]
        return self.images[batch][..., None], self.targets[batch]

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.images))


def train_cnn(batches, epochs, seed, verbose):
    """Keras training with Adam and cosine decay; returns the numpy runtime's copy of the weights."""
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()     # with the seeds, the same command writes the same weights
    model = build_keras(seed)
    steps = epochs * len(batches)
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, steps)
    # An exponential moving average of the weights (swapped in when fit ends) smooths out the last noisy steps:
    # it spans about 1000 steps, or the last tenth of a shorter run.
    optimizer = keras.optimizers.Adam(schedule, use_ema=True, ema_momentum=1 - 1 / min(1000, max(steps / 10, 1)))
    model.compile(optimizer=optimizer,
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    fit = model.fit(batches, epochs=epochs, verbose=verbose)
    return ConvNet.from_keras(model), [float(v) for v in fit.history["loss"]]


def keras_logits(nets):
    """A function giving each net's logits for images, run through Keras (several times faster than the numpy port)."""
    models = [net.to_keras() for net in nets]
    return lambda images: [m.predict(images[..., None], batch_size=2048, verbose=0) for m in models]


def code_digest():
    """A short hash of the code that makes a teacher (its data, preprocessing, model and training), for cache names."""
    sources = [(Path(__file__).parent / f"{name}.py").read_bytes() for name in TEACHER_CODE]
    return hashlib.sha256(b"".join(sources)).hexdigest()[:10]


def digits_name(digit_count, drawings=None):
    """The training digits in a teacher's cache name: how many MNIST digits, and which collected drawings if any.

    An empty set of drawings (an export of a new store) names MNIST's digits alone: their teachers serve it.
    """
    if drawings is None or not len(drawings[1]):
        return f"n{digit_count}"
    x, y = drawings
    return f"n{digit_count}-c{len(y)}x{hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()[:8]}"


def teacher(training, digits, args, seed, log):
    """A CNN trained by the plain recipe at `seed` on its `training` set (images, targets) of the named `digits`.

    It is kept in the teacher cache so a rerun (or a resumed one) skips it: its name spells the recipe and
    hashes the code, so a teacher of other code or other digits is never reused.
    """
    recipe = f"{digits}-e{args.cnn_epochs}-p{args.pen_copies}-d{args.distorted_copies}-s{seed}-{code_digest()}"
    path = args.teacher_cache / f"cnn-{recipe}.npz"
    if path.exists():
        log(f"teacher {seed}: {path} (cached)")
        return ConvNet(weights.load(path))
    log(f"teacher {seed}: training on its own training set ...")
    net, _ = train_cnn(Shuffled(*training, seed), args.cnn_epochs, seed, verbose=0 if args.quiet else 2)
    args.teacher_cache.mkdir(parents=True, exist_ok=True)
    weights.save(path, net.params)
    return net


def save_plot(fnn_history, cnn_history, path):
    """Training-loss curves of both models."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(fnn_history) + 1), fnn_history, marker="o", label="fnn (numpy)")
    ax.plot(range(1, len(cnn_history) + 1), cnn_history, marker="o", label="cnn (Keras)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=weights.SHIPPED, help="where to write the weights (default: models/)")
    parser.add_argument("--fnn-epochs", type=int, default=FNN_EPOCHS, help="passes over all the training sets")
    parser.add_argument("--cnn-epochs", type=int, default=16, help="passes over its training set(s), for each CNN")
    parser.add_argument("--pen-copies", type=int, default=8, help="pen re-drawings of each MNIST train digit")
    parser.add_argument("--distorted-copies", type=int, default=4, help="elastic/affine copies of each digit")
    parser.add_argument("--digits", type=int, default=None, help="train on the first N MNIST train digits (quick runs)")
    parser.add_argument("--teachers", type=int, default=3,
                        help="CNNs (seeds SEED, SEED+1, ...), each on its own training set, whose averaged beliefs "
                             "on all those sets the shipped models learn from")
    parser.add_argument("--teacher-cache", type=Path, default=TEACHER_CACHE,
                        help="where trained teachers are kept (default: tmp/teachers)")
    parser.add_argument("--drawings", type=Path, default=None,
                        help="a dataset.npz of drawings people labelled (python -m recognizer.export), learned from "
                             "as if they were more MNIST train digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        drawings = data.load_drawings(args.drawings) if args.drawings else None
    except ValueError as error:
        parser.error(str(error))
    log = (lambda *_: None) if args.quiet else (lambda message: print(message, flush=True))
    args.out.mkdir(parents=True, exist_ok=True)

    started = time.time()
    x_train, y_train, _, _ = data.load_mnist()
    digits, labels = x_train[:args.digits], y_train[:args.digits]
    name = digits_name(len(digits), drawings)
    if drawings is not None:
        digits, labels = np.concatenate([digits, drawings[0]]), np.concatenate([labels, drawings[1]])
    views = max(args.teachers, 1)
    log(f"building {views} training set(s) from {len(digits)} digits ({name}) ...")
    sets = [dataset.training_set(digits, labels, args.pen_copies, args.distorted_copies, seed=args.seed + k)
            for k in range(views)]
    log(f"{views} x {len(sets[0][0])} training images ready in {time.time() - started:.0f} s")
    teachers = [teacher(sets[k], name, args, args.seed + k, log) for k in range(args.teachers)]
    images, targets = np.concatenate([s[0] for s in sets]), np.concatenate([s[1] for s in sets])
    del sets

    teachers_say = keras_logits(teachers)
    beliefs = teachers_say(images)                      # once: the CNN's targets and the FNN's both use them
    cnn_targets = distilled(targets, np.mean(beliefs, axis=0)) if teachers else targets
    cnn, cnn_history = train_cnn(Shuffled(images, cnn_targets, args.seed), args.cnn_epochs, args.seed,
                                 verbose=0 if args.quiet else 2)
    fnn_targets = distilled(targets, np.mean(beliefs + keras_logits([cnn])(images), axis=0))
    fnn, fnn_history = train_fnn(images, fnn_targets, args.fnn_epochs, args.seed, log)
    weights.save(args.out / "fnn.npz", fnn.params)
    weights.save(args.out / "cnn.npz", cnn.params)

    rng = np.random.default_rng(args.seed + 1)
    pick = rng.choice(len(x_train), REPLAY_SIZE + HOLDOUT_SIZE, replace=False)
    exemplars = dataset.pen_drawings(x_train[pick], args.seed + 77)
    half = len(exemplars) // 2
    exemplars[:half] = dataset.canvas_renderings(x_train[pick[:half]])
    order = rng.permutation(len(pick))
    exemplars, labels = exemplars[order], y_train[pick][order]
    weights.save(args.out / "replay.npz", {
        "replay_x": weights.to_uint8(exemplars[:REPLAY_SIZE]), "replay_y": labels[:REPLAY_SIZE],
        "holdout_x": weights.to_uint8(exemplars[REPLAY_SIZE:]), "holdout_y": labels[REPLAY_SIZE:],
    })
    save_plot(fnn_history, cnn_history, args.out / "training.png")

    sets = dataset.evaluation_sets()
    table = accuracy_table(fnn, cnn, sets)
    teacher_cnn = {name: float((np.mean(teachers_say(x), axis=0).argmax(1) == y).mean())
                   for name, (x, y) in sets.items()} if teachers else {}
    (args.out / "training.json").write_text(json.dumps({"accuracy": table, "teachers' cnn": teacher_cnn, "args": {
        k: str(v) for k, v in vars(args).items()}, "seconds": round(time.time() - started)}, indent=2) + "\n")
    log(f"\n{'set':32} {'fnn':>7} {'cnn':>7} {'answer':>7} {'abstain':>8}")
    for name, row in table.items():
        log(f"{name:32} {row['fnn']:7.2%} {row['cnn']:7.2%} {row['answer']:7.2%} {row['abstained']:8.2%}")
    log(f"done in {time.time() - started:.0f} s; weights in {args.out}")


if __name__ == "__main__":
    main()
