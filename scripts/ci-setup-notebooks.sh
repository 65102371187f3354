#!/usr/bin/env bash
# Installs what `npm run notebooks` needs on Debian 12 (bookworm): Jupyter from Debian's own
# packages (nbconvert 6.5, nbclient 0.7, ipykernel, jupyter-client, jupyter-core), for
# /usr/bin/python3. The TypeScript kernel itself (tslab) is an npm devDependency (`npm ci`);
# `npm run notebooks` installs its 'anytime-tslab' kernelspec for the current user.
# Run as root. Idempotent and non-interactive: when everything is installed it only checks.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  echo "ci-setup-notebooks.sh: must run as root (apt-get install)" >&2
  exit 1
fi

packages=(jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "ci-setup-notebooks: installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "ci-setup-notebooks: ${packages[*]} already installed"
fi

/usr/bin/python3 -c 'import nbconvert, nbclient, ipykernel, jupyter_client; print("ci-setup-notebooks: nbconvert", nbconvert.__version__, "nbclient", nbclient.__version__)'
