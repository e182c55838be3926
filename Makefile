# verbatim developer targets. `make test` or `make serve` works on a fresh clone.
PYTHON ?= python3
VENV := .venv
# Written after a successful install; redone only when pyproject.toml changes.
INSTALLED := $(VENV)/.installed

.PHONY: install stubs serve test clean-stubs

install: $(INSTALLED)

$(INSTALLED): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -e '.[dev]'
	touch $@

# The install's build hook (setup.py) generates the stubs into verbatim/v1/; they are never
# committed. `make stubs` regenerates them after a proto change.
stubs:
	$(VENV)/bin/python proto/generate.py .

serve: install
	$(VENV)/bin/verbatim serve

test: install
	$(VENV)/bin/python -m pytest -q

clean-stubs:
	rm -f verbatim/v1/*_pb2.py verbatim/v1/*_pb2.pyi verbatim/v1/*_pb2_grpc.py
