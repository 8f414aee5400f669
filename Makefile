# One command each: `make run` serves the app on http://localhost:5000, `make test` runs every test.
VENV := .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

.PHONY: setup run test train bench threshold
setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/gunicorn app:app --bind 127.0.0.1:5000 --workers 2

test: setup
	$(PY) -m pytest -q

train: setup
	$(PY) -m recognizer.train

# The shipped recipe on the first 6000 train digits only, for what must be judged on digits never learned from:
# bench/threshold.py picks the answer's threshold with it (about 25 minutes, once).
VALIDATION := tmp/validation
$(VALIDATION)/cnn.npz: | $(VENV)/.installed
	$(PY) -m recognizer.train --digits 6000 --out $(VALIDATION)

threshold: $(VALIDATION)/cnn.npz
	$(PY) bench/threshold.py $(VALIDATION)

bench: setup
	$(PY) bench/accuracy.py
	$(PY) bench/online.py
	$(PY) bench/latency.py
	$(PY) bench/throughput.py
	$(PY) bench/footprint.py
