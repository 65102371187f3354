#!/usr/bin/env bash
# Installs the PyTorch CPU reference that `npm run bench` compares the tiny policy with, on an
# optimised BLAS: Debian's python3-torch (torch 1.13 on Debian 12) for /usr/bin/python3, which
# scripts/bench_torch.py runs under (a pyenv/venv `python3` on PATH usually lacks torch), and
# OpenBLAS (libopenblas0-pthread) selected as the system BLAS.
#
# Why OpenBLAS: Debian builds torch against the generic libblas.so.3 interface, and with only
# python3-torch installed that is the reference BLAS (a plain loop nest; a 512² GEMM measured
# 1.2 GFLOP/s here against ~20 with OpenBLAS on one core), which made PyTorch several times
# slower than it is and the benchmark's ratios meaningless. torch's BLAS_INFO build setting says
# 'generic' either way, so the check below asks the running torch which library it mapped
# (scripts/bench_torch.py --probe) and times a GEMM.
#
# Run as root (or with sudo). Idempotent: when torch already imports on an optimised BLAS it only
# reports so. Set ANYTIME_BENCH_PYTHON to use another interpreter than /usr/bin/python3.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PY=${ANYTIME_BENCH_PYTHON:-/usr/bin/python3}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGES=(python3-torch python3-numpy libopenblas0-pthread)

# Prints the probe's one-line summary; exit status 0 = optimised BLAS, 3 = torch on another BLAS, 2 = no torch.
probe() {
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$PY" "$here/bench_torch.py" --probe --threads 1 2>&1 >/dev/null
}

status=0
out=$(probe) || status=$?
if [ "$status" -eq 0 ]; then
  echo "setup-bench: ready: $out"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if [ "$status" -eq 3 ]; then
    echo "setup-bench.sh: PyTorch is installed but runs on an unoptimised BLAS: $out." >&2
  else
    echo "setup-bench.sh: PyTorch is not importable from $PY: $out." >&2
  fi
  echo "setup-bench.sh: run it as root (sudo bash scripts/setup-bench.sh): it installs ${PACKAGES[*]} with apt-get and selects OpenBLAS as the system BLAS." >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-bench: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi

# Select OpenBLAS for libblas.so.3 and liblapack.so.3 where another implementation was chosen by
# hand (installing libopenblas0-pthread makes it the automatic choice; a manual one would stay).
for name in $(update-alternatives --get-selections | awk '/^lib(blas|lapack)\.so\.3/ {print $1}'); do
  target=$(update-alternatives --list "$name" | grep '/openblas-pthread/' | head -n1 || true)
  current=$(update-alternatives --query "$name" | awk '/^Value:/ {print $2}')
  if [ -n "$target" ] && [ "$current" != "$target" ]; then
    echo "setup-bench: update-alternatives --set $name $target (was $current)"
    update-alternatives --set "$name" "$target"
  fi
done

status=0
out=$(probe) || status=$?
if [ "$status" -ne 0 ]; then
  echo "setup-bench.sh: PyTorch still does not run on an optimised BLAS: $out" >&2
  echo "setup-bench.sh: check 'update-alternatives --display libblas.so.3-$(uname -m)-linux-gnu'" >&2
  exit 1
fi
echo "setup-bench: ready: $out"
