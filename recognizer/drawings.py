"""The drawings people sent, as the store keeps them: drawings/<digit>/<sample_id>.png plus its .json."""
import json
from dataclasses import dataclass

from recognizer.images import ink_from_bytes


@dataclass(frozen=True)
class Drawing:
    sample_id: str
    digit: int
    key: str                 # the PNG's key; the metadata sits beside it as .json

    def png(self, store):
        return store.get(self.key)[0]

    def ink(self, store):
        """The drawing as the canvas sent it (ink = 1), ready for preprocessing."""
        return ink_from_bytes(self.png(store), "PNG")

    def meta(self, store):
        """The metadata (time, route, predictions shown), or None where it was never written."""
        try:
            return json.loads(store.get(self.key[:-len(".png")] + ".json")[0])
        except KeyError:
            return None


def stored_drawings(store):
    """Every stored drawing, oldest first: sample ids start with the time they came in."""
    found = []
    for key in store.keys("drawings/"):
        _, digit, name = key.split("/")
        if name.endswith(".png") and digit.isdigit():
            found.append(Drawing(name[:-len(".png")], int(digit), key))
    return sorted(found, key=lambda drawing: drawing.sample_id)
