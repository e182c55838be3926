# syntax=docker/dockerfile:1
# verbatim's image, in two stages:
#   builder  builds the wheel (its build hook generates the gRPC stubs from proto/ with grpcio-tools,
#            which lives only in pip's isolated build environment) and installs it with the CPU build
#            of torch into a virtualenv, every version pinned by requirements/runtime.txt;
#   runtime  a slim Python with that virtualenv, a non-root user and a volume for the state.
#
#   docker build -t verbatim .
#   docker run -p 50051:50051 -p 50052:50052 -v verbatim:/var/lib/verbatim verbatim
#
# tests/test_dockerfile.py runs the builder's RUN lines in a fresh virtualenv and starts the
# entry point from it; keep the paths in the variables below so that it can.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONSTRAINTS=/src/requirements/runtime.txt \
    WHEELS=/wheels \
    VENV=/opt/verbatim
WORKDIR /src
# torch first, in its own layer: it changes far less often than the source.
# The CPU build, never the CUDA one. --no-deps: its dependencies come from PyPI with the wheel's, pinned
# like the rest.
COPY requirements/runtime.txt requirements/runtime.txt
RUN python -m venv "$VENV" \
    && "$VENV/bin/pip" install --no-deps --index-url https://download.pytorch.org/whl/cpu -c "$CONSTRAINTS" \
        torch==2.13.0
COPY . .
# PIP_CONSTRAINT reaches pip's isolated build environment, so the stubs come from the pinned grpcio-tools.
# The light client (clients/python) too: `verbatim classify`, `correct` and `tags` call the server through it.
# `set --` expands the wheels' names, which carry the versions; the postgres extra serves PostgreSQL stores.
RUN PIP_CONSTRAINT="$CONSTRAINTS" pip wheel --no-deps --wheel-dir "$WHEELS" . ./clients/python \
    && set -- "$WHEELS"/verbatim-*.whl "$WHEELS"/verbatim_client-*.whl \
    && "$VENV/bin/pip" install -c "$CONSTRAINTS" "$1[postgres]" "$2" \
    && "$VENV/bin/pip" check

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/verbatim/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    VERBATIM_HOST=0.0.0.0 \
    VERBATIM_PORT=50051 \
    VERBATIM_METRICS_PORT=50052 \
    VERBATIM_REGISTRY=/var/lib/verbatim/registry \
    VERBATIM_STORE_URL=sqlite:////var/lib/verbatim/verbatim.db
# A fixed numeric id, so that Kubernetes' runAsNonRoot can verify it and a volume's owner is known.
RUN groupadd --system --gid 10001 verbatim \
    && useradd --system --uid 10001 --gid verbatim --create-home --home-dir /home/verbatim verbatim \
    && mkdir -p /var/lib/verbatim \
    && chown verbatim:verbatim /var/lib/verbatim
COPY --from=builder /opt/verbatim /opt/verbatim
USER 10001:10001
WORKDIR /var/lib/verbatim
# The model registry and the SQLite store; share the registry between replicas (DESIGN §8).
VOLUME ["/var/lib/verbatim"]
# gRPC (with grpc.health.v1 and reflection), then Prometheus /metrics.
EXPOSE 50051 50052
# With no champion on the volume, `verbatim serve` trains the default model first (minutes), hence
# the long start period.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30m --retries=3 \
    CMD ["python", "-m", "verbatim.healthcheck"]
ENTRYPOINT ["verbatim"]
CMD ["serve"]
