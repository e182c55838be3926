# verbatim developer targets. `make test` or `make serve` works on a fresh clone.
PYTHON ?= python3
VENV := .venv
# Written after a successful install; redone only when pyproject.toml changes.
INSTALLED := $(VENV)/.installed
PROTO := proto/verbatim/v1/verbatim.proto

.PHONY: install stubs serve test clean-stubs

install: $(INSTALLED)
	$(MAKE) stubs

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -e '.[dev]'
	touch $@

# Generated modules land in verbatim/v1/ and are not committed. The venv's python is
# used when there is one, since grpc_tools comes from the dev install.
stubs:
	@py=python; [ -x $(VENV)/bin/python ] && py=$(VENV)/bin/python; \
	echo "$$py -m grpc_tools.protoc -Iproto --python_out=. --pyi_out=. --grpc_python_out=. $(PROTO)"; \
	$$py -m grpc_tools.protoc -Iproto --python_out=. --pyi_out=. --grpc_python_out=. $(PROTO)

serve: install
	$(VENV)/bin/verbatim serve

test: install
	$(VENV)/bin/python -m pytest -q

clean-stubs:
	rm -f verbatim/v1/*_pb2.py verbatim/v1/*_pb2.pyi verbatim/v1/*_pb2_grpc.py
