# verbatim developer targets. `make test` or `make serve` works on a fresh clone.
PYTHON ?= python3
VENV := .venv
# Written after a successful install; redone only when pyproject.toml changes.
INSTALLED := $(VENV)/.installed

.PHONY: install stubs serve test clean-stubs

install: $(INSTALLED)

# The light client (clients/python) too: the CLI's client commands and tests/clients use it.
$(INSTALLED): pyproject.toml setup.py clients/python/pyproject.toml \
		clients/python/setup.py clients/python/build_stubs.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -e '.[dev]' -e ./clients/python
	touch $@

# The install's build hook (setup.py) generates the stubs into verbatim/v1/; they are never
# committed. `make stubs` regenerates them after a proto change.
stubs:
	$(VENV)/bin/python proto/generate.py .
	$(VENV)/bin/python clients/python/build_stubs.py

serve: install
	$(VENV)/bin/verbatim serve

test: install
	$(VENV)/bin/python -m pytest -q

clean-stubs:
	rm -f verbatim/v1/*_pb2.py verbatim/v1/*_pb2.pyi verbatim/v1/*_pb2_grpc.py
	rm -f clients/python/verbatim_client/_stubs/*_pb2.py clients/python/verbatim_client/_stubs/*_pb2.pyi \
		clients/python/verbatim_client/_stubs/*_pb2_grpc.py
