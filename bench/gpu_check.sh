#!/usr/bin/env bash
# The GPU check: on a machine with CUDA, train the default model, retrain the SemEval account
# and benchmark serving, all on the GPU, and print the times beside the CPU figures of the
# README's "Training at scale" (2 cores, no GPU). Without CUDA it stops at once: one line on
# stderr, exit code 2.
#
#   bench/gpu_check.sh                     # uses .venv/bin/python; PYTHON=... to pick another
#   VERBATIM_DATA_DIR=... bench/gpu_check.sh   # where semeval14_restaurants_train.xml lives
#
# Everything goes to a temporary registry (printed); var/registry is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
export HF_HUB_OFFLINE=1

if ! why=$("$PYTHON" - 2>&1 <<'PY'
import sys
try:
    import torch
except ImportError as exc:
    sys.exit(f"cannot import torch ({exc})")
if not torch.cuda.is_available():
    build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}, but no GPU visible"
    sys.exit(f"torch {torch.__version__} is {build}")
print(torch.cuda.get_device_name(0))
PY
); then
    echo "gpu_check: no CUDA: ${why##*$'\n'}; run this on a machine with an NVIDIA GPU and a CUDA build of torch" >&2
    exit 2
fi
gpu=$why
work=$(mktemp -d)
echo "gpu_check: $gpu; registry $work/registry"

seconds() { local start=$1; echo "$(( $(date +%s) - start ))"; }

# 1. The default model (seed corpus, 6 epochs), on the GPU in mixed precision.
start=$(date +%s)
"$PYTHON" -m verbatim.training train --device cuda --registry "$work/registry"
train_s=$(seconds "$start")

# 2. The SemEval account: its corrections replayed through gRPC, then full retrains (device auto: the GPU).
start=$(date +%s)
if "$PYTHON" -m verbatim.cli bench corrections --registry "$work/registry" --no-banking --steps all \
        --json > "$work/corrections.json"; then
    retrain_s=$(seconds "$start")
else
    retrain_s="failed (see above)"
fi

# 3. Serving: the torch backend on the GPU in fp16, in process and through gRPC.
start=$(date +%s)
if "$PYTHON" -m verbatim.cli bench serve --registry "$work/registry" --backend torch --set device=cuda \
        > "$work/serve.txt"; then
    serve_s=$(seconds "$start")
    cat "$work/serve.txt"
else
    serve_s="failed (see above)"
fi

# The CPU column: measured on 2 cores for the README (its "Training at scale" and Benchmarks).
printf '\n%-52s %-22s %s\n' "step" "GPU ($gpu)" "CPU, 2 cores"
printf '%-52s %-22s %s\n' "train the default model (verbatim train)" "${train_s} s" "about 300 s"
printf '%-52s %-22s %s\n' "SemEval account: bench corrections --steps all" "${retrain_s} s" \
    "about 660 s of retraining (3,000 comments)"
printf '%-52s %-22s %s\n' "bench serve --backend torch (whole run)" "${serve_s} s" "see the table above / README"
echo "reports: $work"
