# One command each: `make run` serves the app on http://localhost:5000, `make test` runs every test.
# Each installs what it needs into .venv: the web process's packages, the training command's, or the tests'.
VENV := .venv
PY := $(VENV)/bin/python

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.web: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.train: requirements.txt requirements-train.txt | $(PY)
	$(PY) -m pip install -q -r requirements-train.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-train.txt requirements-dev.txt package-lock.json | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	npm ci --no-audit --no-fund            # axe-core, for the browser tests' accessibility checks
	touch $@

.PHONY: run test train bench
run: $(VENV)/.web
	$(VENV)/bin/gunicorn app:app           # gunicorn.conf.py: port $$PORT (default 5000), $$WEB_CONCURRENCY workers

test: $(VENV)/.dev
	$(VENV)/bin/ruff check .               # lint (ruff.toml)
	$(VENV)/bin/ruff format --check .      # and the formatting it keeps
	node_modules/.bin/eslint static tests/js eslint.config.js   # the page's scripts (eslint.config.js)
	node --test tests/js/*.test.js         # and their unit tests, without a browser
	$(PY) -m pytest

train: $(VENV)/.train
	$(PY) -m recognizer.training.train
	$(PY) -m recognizer.training.watched   # training writers' pens the online guard watches (models/watched.npz)

bench: $(VENV)/.dev
	$(PY) bench/accuracy.py
	$(PY) bench/numbers.py
	$(PY) bench/online.py
	$(PY) bench/latency.py
	$(PY) bench/throughput.py
	$(PY) bench/footprint.py

# The shipped recipe on the first 6000 MNIST train digits, for what must be judged on digits never learned from:
# bench/threshold.py picks the answer's threshold with it, bench/validation.py compares recipes.
VALIDATION := tmp/validation
$(VALIDATION)/cnn.npz: | $(VENV)/.dev
	$(PY) -m recognizer.training.train --digits 6000 --out $(VALIDATION)

.PHONY: threshold
threshold: $(VALIDATION)/cnn.npz
	$(PY) bench/threshold.py $(VALIDATION)
