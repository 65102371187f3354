#!/usr/bin/env bash
# Installs the PyTorch CPU reference that `npm run bench` compares the tiny policy with:
# Debian's python3-torch (torch 1.13 on Debian 12) for /usr/bin/python3, which
# scripts/bench_torch.py runs under (a pyenv/venv `python3` on PATH usually lacks torch).
# Run as root (or with sudo). Idempotent: does nothing when torch already imports.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PY=${ANYTIME_BENCH_PYTHON:-/usr/bin/python3}
if "$PY" -c 'import torch, numpy' 2>/dev/null; then
  echo "setup-bench: $("$PY" -c 'import torch; print("torch", torch.__version__)') already importable from $PY"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-bench.sh: must run as root (apt-get install python3-torch)" >&2
  exit 1
fi
apt-get update -qq
apt-get install -y -qq python3-torch python3-numpy
"$PY" -c 'import torch; print("setup-bench: torch", torch.__version__, "installed")'
