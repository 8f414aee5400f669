"""The chosen answer: what the updated models say, or none when they are not sure enough."""

import numpy as np

from recognizer.reading import answer


def choose(probabilities):
    return answer.decide(answer.combined(probabilities))


def one_hot(digit, sure=0.9):
    probs = np.full(10, (1 - sure) / 9)
    probs[digit] = sure
    return probs


def test_the_answer_is_what_the_updated_models_learned_not_the_originals():
    originals = {"cnn": one_hot(3), "fnn": one_hot(3)}
    assert choose({**originals, "cnn_updated": one_hot(9, 0.6), "fnn_updated": one_hot(9, 0.6)}) == (9, "")


def test_the_cnn_outweighs_the_fnn_when_they_disagree():
    originals = {"cnn": one_hot(0), "fnn": one_hot(0)}
    assert choose({**originals, "cnn_updated": one_hot(7, 0.6), "fnn_updated": one_hot(1, 0.99)})[0] == 7


def test_no_digit_when_the_updated_models_are_unsure():
    flat = np.full(10, 0.1)
    assert choose({"cnn": one_hot(5), "fnn": one_hot(5), "cnn_updated": flat, "fnn_updated": flat}) == (
        None,
        answer.NOT_A_DIGIT,
    )


def test_top_three_of_each_row_highest_first_rounded_to_four_places():
    probs = np.array(
        [[0.05, 0.6, 0.0, 0.3, 0.04, 0.01, 0, 0, 0, 0], [0.1, 0, 0.223456, 0, 0, 0, 0, 0.176544, 0, 0.5]],
        dtype=np.float32,
    )
    first, second = answer.top3(probs)
    assert [(entry["digit"], entry["probability"]) for entry in first] == [(1, 0.6), (3, 0.3), (0, 0.05)]
    assert [(entry["digit"], entry["probability"]) for entry in second] == [(9, 0.5), (2, 0.2235), (7, 0.1765)]
