"""Train the original models on MNIST, real pen digits and generated styles: `python -m recognizer.training.train`."""

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np

from recognizer.nets import weights
from recognizer.nets.fnn import FNN, softmax
from recognizer.training import data, dataset, keras_cnn, synth
from recognizer.training.evaluate import accuracy_table

REPLAY_SIZE = 1000  # exemplars mixed into online updates
HOLDOUT_SIZE = 300  # train digits, kept out of the replay buffer, that the online guard checks an update against
BATCH = 128  # the FNN's mini-batch
CNN_BATCH = 256  # the CNN's: 1.5x the images per second of 128 on two cores, as accurate (docs/experiments.md)
CNN_RATE = 3e-3
CNN_EPOCHS = 10
FNN_EPOCHS = 12
REAL_COPIES = {"uji": 30, "unipen": 8, "pendigits": 5}  # re-drawings of each training writer's pen digit
DRAWN_COPIES = 8  # re-drawings of each exported drawing that came with its ink (--drawings), as UNIPEN's writers'
PER_STYLE = 1600  # drawings of each generated style
PEN_COPIES = 2  # pen re-drawings of each MNIST digit (canvas drawings by mouse, what online corrections are)
SPARSE_SHARE = 0.1  # of the real pen digits' re-drawings, recorded with few points a stroke (docs/experiments.md)


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
            batch = order[step * BATCH : (step + 1) * BATCH]
            lr = 0.08 * 0.5 * (1 + np.cos(np.pi * (epoch * steps_per_epoch + step) / total))
            loss, grads = net.loss_and_gradients(x[batch], None, l2=1e-4, targets=targets[batch])
            velocity = net.apply(grads, lr, velocity, momentum=0.9)
            losses.append(loss)
        history.append(float(np.mean(losses)))
        log(f"fnn epoch {epoch + 1}/{epochs}  loss {history[-1]:.4f}")
    return net, history


def distilled(targets, teacher_logits, temperature=3.0, share=0.5):
    """Soft targets: half the labels, half a teacher's beliefs, softened by `temperature` (knowledge distillation
    carries its doubts)."""
    return (1 - share) * targets + share * softmax(teacher_logits / temperature)


class Shuffled(keras.utils.PyDataset):
    """Batches of (images, soft targets), reshuffled every epoch by a generator of its own seed: runs repeat exactly."""

    def __init__(self, images, targets, seed):
        super().__init__()
        self.images, self.targets, self.rng = images, targets, np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self):
        return int(np.ceil(len(self.images) / CNN_BATCH))

    def __getitem__(self, index):
        batch = self.order[index * CNN_BATCH : (index + 1) * CNN_BATCH]
        return self.images[batch][..., None], self.targets[batch]

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.images))


def train_cnn(batches, epochs, seed, verbose, batch_norm=False, widths=keras_cnn.WIDTHS):
    """Keras training with Adam and cosine decay; returns the numpy runtime's copy of the weights."""
    if keras.backend.backend() == "tensorflow":  # (another backend, KERAS_BACKEND=jax say, trains the same net)
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()  # with the seeds, the same command writes the same weights
    model = keras_cnn.build(seed, batch_norm, widths)
    steps = epochs * len(batches)
    schedule = keras.optimizers.schedules.CosineDecay(CNN_RATE, steps)
    # An exponential moving average of the weights (swapped in when fit ends) smooths out the last noisy steps:
    # it spans about 1000 steps, or the last tenth of a shorter run.
    optimizer = keras.optimizers.Adam(schedule, use_ema=True, ema_momentum=1 - 1 / min(1000, max(steps / 10, 1)))
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    fit = model.fit(batches, epochs=epochs, verbose=verbose)
    return keras_cnn.to_convnet(model), [float(v) for v in fit.history["loss"]]


def keras_logits(nets):
    """A function giving each net's logits for images, run through Keras (several times faster than the numpy port)."""
    models = [keras_cnn.from_convnet(net) for net in nets]
    return lambda images: [m.predict(images[..., None], batch_size=2048, verbose=0) for m in models]


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


def widths(text):
    """The --cnn-widths option's three numbers, "16,32,625" as (16, 32, 625)."""
    numbers = tuple(int(n) for n in text.split(","))
    if len(numbers) != 3 or min(numbers) < 1:
        raise ValueError(text)
    return numbers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=weights.SHIPPED, help="where to write the weights (default: models/)"
    )
    parser.add_argument("--fnn-epochs", type=int, default=FNN_EPOCHS, help="passes over the training set for the FNN")
    parser.add_argument("--cnn-epochs", type=int, default=CNN_EPOCHS, help="passes over the training set for the CNN")
    parser.add_argument("--distorted-copies", type=int, default=1, help="elastic/affine copies of each MNIST digit")
    parser.add_argument("--pen-copies", type=int, default=PEN_COPIES, help="pen re-drawings of each MNIST digit")
    for name, copies in REAL_COPIES.items():
        parser.add_argument(
            f"--{name}-copies",
            type=int,
            default=copies,
            help=f"re-drawings of each of {name}'s training writers' pen digits",
        )
    parser.add_argument("--per-style", type=int, default=PER_STYLE, help="drawings of each generated style")
    fewest, most = synth.SPARSE_POINTS[0], synth.SPARSE_POINTS[1] - 1
    parser.add_argument(
        "--sparse-share",
        type=float,
        default=SPARSE_SHARE,
        help=f"share of the real pen digits' re-drawings recorded with {fewest}-{most} points a stroke, as a slow "
        "tablet or a fast hand leaves them (default: %(default)s)",
    )
    parser.add_argument("--digits", type=int, default=None, help="train on the first N MNIST train digits (quick runs)")
    parser.add_argument(
        "--drawings",
        type=Path,
        default=None,
        help="a dataset.npz of drawings people labelled (python -m recognizer.commands.export), learned from "
        "as if they were more MNIST train digits; those with their ink (its strokes.ndjson) are re-drawn too",
    )
    parser.add_argument(
        "--drawings-copies",
        type=int,
        default=DRAWN_COPIES,
        help="re-drawings of each exported drawing's strokes, as the pen sets' training writers' digits are",
    )
    parser.add_argument(
        "--batch-norm", action="store_true", help="batch normalisation after each convolution while the CNN trains"
    )
    parser.add_argument(
        "--cnn-widths",
        type=widths,
        default=keras_cnn.WIDTHS,
        help="the CNN's filters in each convolution and units in its hidden layer (default: %(default)s)",
    )
    parser.add_argument(
        "--teachers",
        type=int,
        default=0,
        help="CNNs trained first (other seeds, the same images) whose averaged beliefs the CNN learns half from, "
        "beside the labels (knowledge distillation from an ensemble; tried, not shipped: docs/experiments.md)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        x_drawn, y_drawn, drawn = data.load_drawings(args.drawings) if args.drawings else (None, None, [])
    except ValueError as error:
        parser.error(str(error))
    log = (lambda *_: None) if args.quiet else (lambda message: print(message, flush=True))
    args.out.mkdir(parents=True, exist_ok=True)

    started, seconds = time.time(), {}
    x_train, y_train = data.mnist_training_digits()
    digits, labels = x_train[: args.digits], y_train[: args.digits]
    if x_drawn is not None:
        digits, labels = np.concatenate([digits, x_drawn]), np.concatenate([labels, y_drawn])
    pens = [(data.pen_split(name)[0], getattr(args, f"{name}_copies")) for name in data.PEN_SETS]
    pens.append((drawn, args.drawings_copies))
    log(
        f"rendering the training set from {len(digits)} MNIST-form digits and "
        f"{sum(len(real) for real, _ in pens)} real pen digits ..."
    )
    images, targets = dataset.training_set(
        digits,
        labels,
        pens,
        args.distorted_copies,
        args.pen_copies,
        args.per_style,
        seed=args.seed,
        sparse=args.sparse_share,
    )
    seconds["training set"] = round(time.time() - started)
    log(f"{len(images)} training images ready in {seconds['training set']} s")

    options = {"verbose": 0 if args.quiet else 2, "batch_norm": args.batch_norm, "widths": args.cnn_widths}
    cnn_targets = targets
    if args.teachers:
        teachers = []
        for seed in range(args.seed + 1, args.seed + 1 + args.teachers):
            log(f"teacher CNN {len(teachers) + 1}/{args.teachers} (seed {seed}) ...")
            teachers.append(train_cnn(Shuffled(images, targets, seed), args.cnn_epochs, seed, **options)[0])
        cnn_targets = distilled(targets, np.mean(keras_logits(teachers)(images), axis=0), temperature=1.0)
        seconds["teachers"] = round(time.time() - started - sum(seconds.values()))
        log(f"the CNN learns from the {args.teachers} teachers' averaged beliefs beside the labels ...")
    cnn, cnn_history = train_cnn(Shuffled(images, cnn_targets, args.seed), args.cnn_epochs, args.seed, **options)
    seconds["cnn"] = round(time.time() - started - sum(seconds.values()))
    fnn_targets = distilled(targets, keras_logits([cnn])(images)[0])
    fnn, fnn_history = train_fnn(images, fnn_targets, args.fnn_epochs, args.seed, log)
    seconds["fnn"] = round(time.time() - started - sum(seconds.values()))
    del images, targets, fnn_targets
    weights.save(args.out / "fnn.npz", fnn.params)
    weights.save(args.out / "cnn.npz", cnn.params)

    rng = np.random.default_rng(args.seed + 1)
    pick = rng.choice(len(x_train), REPLAY_SIZE + HOLDOUT_SIZE, replace=False)
    exemplars = dataset.pen_drawings(x_train[pick], args.seed + 77)
    half = len(exemplars) // 2
    exemplars[:half] = dataset.canvas_renderings(x_train[pick[:half]])
    order = rng.permutation(len(pick))
    exemplars, replay_labels = exemplars[order], y_train[pick][order]
    weights.save(
        args.out / "replay.npz",
        {
            "replay_x": weights.to_uint8(exemplars[:REPLAY_SIZE]),
            "replay_y": replay_labels[:REPLAY_SIZE],
            "holdout_x": weights.to_uint8(exemplars[REPLAY_SIZE:]),
            "holdout_y": replay_labels[REPLAY_SIZE:],
        },
    )
    save_plot(fnn_history, cnn_history, args.out / "training.png")

    table = accuracy_table(fnn, cnn, dataset.evaluation_sets())
    seconds["replay and evaluation"] = round(time.time() - started - sum(seconds.values()))
    seconds["total"] = round(time.time() - started)
    (args.out / "training.json").write_text(
        json.dumps(
            {"accuracy": table, "args": {k: str(v) for k, v in vars(args).items()}, "seconds": seconds}, indent=2
        )
        + "\n"
    )
    log(f"\n{'set':24} {'fnn':>7} {'cnn':>7} {'answer':>7} {'abstain':>8}")
    for name, row in table.items():
        log(f"{name:24} {row['fnn']:7.2%} {row['cnn']:7.2%} {row['answer']:7.2%} {row['abstained']:8.2%}")
    log(
        f"done in {seconds['total']} s ({', '.join(f'{k} {v} s' for k, v in seconds.items() if k != 'total')}); "
        f"weights in {args.out}"
    )


if __name__ == "__main__":
    main()
