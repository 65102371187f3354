#!/usr/bin/env bash
# `npm run setup`: the system packages the test suite needs, from Debian 12 (bookworm).
#
#   webgpu     Mesa's software drivers, so that Dawn (the `webgpu` npm package) finds a WebGPU
#              adapter in Node without a GPU, by two routes (src/backend.ts tries them in order):
#                - Vulkan lavapipe: mesa-vulkan-drivers >= 25 (bookworm's Mesa 22 lavapipe gives
#                  no adapter; Mesa 25 is in bookworm-backports, added when missing) + libvulkan1;
#                - OpenGL llvmpipe through EGL surfaceless: libegl-mesa0 and libegl-dev, because
#                  Dawn loads the unversioned libEGL.so, which only the -dev package provides.
#   browser    headless Chromium (WebGPU on SwiftShader) for test/browser.test.ts.
#   notebooks  Debian's Jupyter (nbconvert 6.5, nbclient 0.7, ipykernel) for /usr/bin/python3,
#              which runs the notebooks under the tslab and Deno kernels (both come from npm).
#   tools      git: the clone tests clone this repository (a bare image may lack it).
# PyTorch, for `npm run bench` only, is scripts/setup-bench.sh.
#
# Usage: npm run setup [-- webgpu browser notebooks tools]     (default: all four)
# Idempotent: installs only what is missing and prints what it installs; with everything
# present it only checks. Installing needs root on Debian. Otherwise (not root, or not
# Debian) it prints exactly what to install and exits 1, unless nothing is missing.
# Measured on a fresh Debian 12: apt-get update + Mesa 25 (55 packages, 67 MB) 18 s;
# chromium (282 packages, 209 MB) 40-150 s; Jupyter (~60 packages) ~20 s.
set -Eeuo pipefail # -E: the ERR trap below also fires inside functions
export DEBIAN_FRONTEND=noninteractive
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "setup: $*"; }
stop() { echo "setup: $*" >&2; exit 1; }

parts=("$@")
[ "${#parts[@]}" -gt 0 ] || parts=(webgpu browser notebooks tools)
for p in "${parts[@]}"; do
  case "$p" in webgpu | browser | notebooks | tools) ;; *) stop "unknown part '$p' (allowed: webgpu, browser, notebooks, tools)" ;; esac
done
want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

# Node >= 20.19: the package's compiled ES modules are require()d from CommonJS (tslab, consumers).
node_version="$(node -p 'process.versions.node' 2>/dev/null || echo none)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null ||
  stop "Node ${node_version} found; anytime needs Node >= 20.19 (https://nodejs.org), then rerun."

PY="${ANYTIME_JUPYTER_PYTHON:-/usr/bin/python3}"
MESA=(libvulkan1 mesa-vulkan-drivers libegl1 libegl-mesa0 libegl-dev libgl1-mesa-dri)
MESA_MIN=25 # lavapipe's first version that gives Dawn an adapter
BROWSER=(chromium)
JUPYTER=(jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core)
TOOLS=(git)

os_id="" codename="" pretty="$(uname -s)"
os_release="${ANYTIME_OS_RELEASE:-/etc/os-release}" # another file only in test/setup.test.ts
if [ -r "$os_release" ]; then
  . "$os_release"
  os_id="${ID:-}" codename="${VERSION_CODENAME:-}" pretty="${PRETTY_NAME:-$pretty}"
fi

# --- what is missing ------------------------------------------------------------------------
installed_version() { # empty when not installed
  { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null || true; } | sed -n 's/^install ok installed //p'
}
missing_debian() { # packages of the wanted parts that are absent (or, for Mesa, older than MESA_MIN)
  local pkg v
  if want webgpu; then
    for pkg in "${MESA[@]}"; do
      v="$(installed_version "$pkg")"
      if [ -z "$v" ]; then echo "$pkg"
      elif [[ "$pkg" == mesa-* || "$pkg" == libegl-mesa0 || "$pkg" == libgl1-mesa-dri ]] && ! dpkg --compare-versions "$v" ge "$MESA_MIN"; then echo "$pkg"
      fi
    done
  fi
  if want browser; then for pkg in "${BROWSER[@]}"; do [ -n "$(installed_version "$pkg")" ] || echo "$pkg"; done; fi
  if want notebooks; then for pkg in "${JUPYTER[@]}"; do [ -n "$(installed_version "$pkg")" ] || echo "$pkg"; done; fi
  if want tools; then for pkg in "${TOOLS[@]}"; do [ -n "$(installed_version "$pkg")" ] || echo "$pkg"; done; fi
}

# --- checks that what is installed works (all systems) ------------------------------------------
check_webgpu() {
  if [ ! -d node_modules/tsx ] || [ ! -d node_modules/webgpu ]; then
    say "webgpu: npm packages not installed yet (run npm ci); adapter check skipped"
    return 0
  fi
  # The toolkit's own probe, asked for WebGPU on any adapter; Dawn's notes about llvmpipe's
  # reduced limits are expected and filtered.
  node --import tsx --input-type=module -e '
    import { initBackend } from "./src/backend.ts";
    try {
      const info = await initBackend({ prefer: "webgpu", strict: true, allowSoftwareGpu: true });
      console.log(`setup: webgpu: ${info.reason}`);
      process.exit(0);
    } catch (e) { console.error(`setup: webgpu: ${e.message}`); process.exit(1); }
  ' 2> >(grep -v 'artificially reduced' >&2)
}
check_browser() {
  local bin="${ANYTIME_CHROMIUM:-/usr/bin/chromium}"
  [ -x "$bin" ] || { echo "setup: browser: no Chromium at $bin (set ANYTIME_CHROMIUM to use another)" >&2; return 1; }
  say "browser: $("$bin" --version 2>/dev/null || echo "$bin")"
}
check_notebooks() {
  "$PY" -c 'import nbconvert, nbclient, ipykernel, jupyter_client; print("setup: notebooks: nbconvert", nbconvert.__version__, "nbclient", nbclient.__version__, "ipykernel", ipykernel.__version__)' 2>/dev/null ||
    { echo "setup: notebooks: $PY cannot import nbconvert, nbclient, ipykernel and jupyter_client (set ANYTIME_JUPYTER_PYTHON to another interpreter)" >&2; return 1; }
}
check_tools() {
  git --version >/dev/null 2>&1 || { echo "setup: tools: no git" >&2; return 1; }
  say "tools: $(git --version)"
}
check_all() {
  local failed=0 p
  for p in "${parts[@]}"; do "check_$p" || failed=1; done
  return "$failed"
}

describe_packages() {
  want webgpu && echo "  webgpu:    ${MESA[*]} (Mesa >= ${MESA_MIN}; on Debian 12 from bookworm-backports)"
  want browser && echo "  browser:   ${BROWSER[*]} (any Chromium with WebGPU; ANYTIME_CHROMIUM=path)"
  want notebooks && echo "  notebooks: ${JUPYTER[*]} (Jupyter: nbconvert, nbclient, ipykernel for $PY)"
  want tools && echo "  tools:     ${TOOLS[*]}"
  return 0
}

# --- not Debian: say what to install, unless it all works already -----------------------------
if [ "$os_id" != debian ] || ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  if check_all; then say "everything needed is present on ${pretty}"; exit 0; fi
  {
    echo "setup: this machine is ${pretty}, not Debian: npm run setup installs Debian 12 packages, so install"
    echo "setup: their equivalents yourself, then rerun npm run setup (it only checks when all is present):"
    describe_packages
  } >&2
  exit 1
fi

mapfile -t missing < <(missing_debian)
if [ "${#missing[@]}" -eq 0 ]; then
  say "${pretty}: all packages present (${parts[*]})"
  check_all || stop "installed packages do not work (see above)"
  say "done"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  {
    echo "setup: missing Debian packages: ${missing[*]}"
    echo "setup: installing them needs root. Run as root: sudo npm run setup"
    if [ "$codename" = bookworm ]; then
      echo "setup: (or by hand: enable bookworm-backports, then apt-get install -t bookworm-backports ${missing[*]})"
    else
      echo "setup: (or by hand: apt-get install ${missing[*]})"
    fi
  } >&2
  exit 1
fi

# --- root on Debian: install what is missing --------------------------------------------------
trap 'echo "setup: failed (see the apt output above); nothing else was changed, rerun npm run setup to retry" >&2' ERR
target=()
if [ "$codename" = bookworm ]; then
  if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    say "adding Debian's bookworm-backports suite (Mesa ${MESA_MIN}): /etc/apt/sources.list.d/bookworm-backports.sources"
    cat >/etc/apt/sources.list.d/bookworm-backports.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  # -t raises backports for these installs only: Mesa (and the libdrm, libelf it needs) come from
  # there, every package that backports lacks from bookworm. Every group gets it, so that a
  # dependency can follow what Mesa moved forward (Jupyter's gdb needs libdw1 at libelf1's
  # version); Jupyter itself stays Debian 12's (backports has none).
  target=(-t bookworm-backports)
fi

start=$SECONDS
say "apt-get update"
apt-get update -qq
in_missing() { local m; for m in "${missing[@]}"; do [ "$m" = "$1" ] && return 0; done; return 1; }
install_group() { # label, recommends flag, packages...
  local label="$1" recommends="$2"; shift 2
  local suite=("${target[@]}")
  local todo=() pkg
  for pkg in "$@"; do in_missing "$pkg" && todo+=("$pkg"); done
  [ "${#todo[@]}" -gt 0 ] || return 0
  # Mesa: every package of the group moves together to one version (a machine with Mesa 22
  # would otherwise keep a mix); the others: only what is missing.
  [ "$label" = webgpu ] && todo=("$@")
  say "installing for ${label}: ${todo[*]}${suite[*]:+ (${suite[*]})}"
  local t=$SECONDS
  apt-get install -y -qq $recommends "${suite[@]}" "${todo[@]}" >/dev/null
  say "installed for ${label} in $((SECONDS - t)) s"
}
want webgpu && install_group webgpu --no-install-recommends "${MESA[@]}"
want browser && install_group browser "" "${BROWSER[@]}"
want notebooks && install_group notebooks --no-install-recommends "${JUPYTER[@]}"
want tools && install_group tools --no-install-recommends "${TOOLS[@]}"
trap - ERR

check_all || stop "the packages are installed but do not work (see above)"
say "done in $((SECONDS - start)) s"
