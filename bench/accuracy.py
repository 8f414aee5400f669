"""Accuracy of each model and of the chosen answer, through the server's preprocessing. `python bench/accuracy.py [DIR]`

Sets: MNIST test digits rendered as 200x200 canvas images; the 300 dev pen drawings; synthetic pen drawings
of MNIST *train* digits (fresh renderings, never test digits); and non-digits, where abstaining is right.
DIR holds the weights to score (default: the shipped models/).
"""
import sys
from pathlib import Path

from common import table  # (importing common puts the repository on sys.path)

from recognizer import dataset, synth, weights
from recognizer.evaluate import abstention_table, accuracy_table


def main(directory):
    fnn, cnn = weights.load_models(directory)
    rows = accuracy_table(fnn, cnn, dataset.evaluation_sets())
    table(["set", "images", "fnn", "cnn", "answer", "answer abstained"],
          [[name, str(r["images"]), f"{r['fnn']:.2%}", f"{r['cnn']:.2%}", f"{r['answer']:.2%}",
            f"{r['abstained']:.2%}"] for name, r in rows.items()])
    print()
    junk = {kind: dataset.non_digits(250, seed=4242, kind=kind) for kind in synth.NON_DIGITS}
    abstained = abstention_table(fnn, cnn, junk)
    table(["non-digit", "images", "answer abstained (want high)"],
          [[kind, "250", f"{share:.1%}"] for kind, share in abstained.items()])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else weights.SHIPPED)
