#!/usr/bin/env bash
# Sets up a GPU-less Debian 12 (bookworm) machine so that the toolkit's WebGPU tests run:
#   - Node (Dawn, the `webgpu` npm package) on a software adapter, by two routes:
#       B. Vulkan lavapipe: Mesa >= 25 `mesa-vulkan-drivers` (bookworm's Mesa 22 lavapipe
#          gives no adapter) + the Vulkan loader `libvulkan1`. Full WebGPU adapter.
#       A. OpenGL llvmpipe through EGL surfaceless: `libegl-mesa0` (+ Mesa's gallium) and
#          `libegl-dev`, because Dawn dlopens the unversioned name `libEGL.so`, which only
#          the -dev package provides. Compatibility feature level only.
#     src/backend.ts tries B, then A.
#   - headless Chromium (`chromium`; WebGPU on SwiftShader with --enable-unsafe-webgpu) for
#     the browser test. Skip it with ANYTIME_SKIP_BROWSER=1.
# Run as root. Idempotent and non-interactive: re-running only re-checks.
# Measured on a fresh Debian 12 (debootstrap minbase + the docker image's apt sources):
# apt-get update + Mesa 25 (55 packages, 67 MB) 18 s; chromium (282 packages, 209 MB)
# 40-150 s depending on mirror and CPU load; a re-run with everything installed 3.4 s.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  echo "ci-setup-webgpu.sh: must run as root (apt-get install)" >&2
  exit 1
fi

. /etc/os-release
codename="${VERSION_CODENAME:-}"
echo "ci-setup-webgpu: ${PRETTY_NAME:-unknown OS} (codename '${codename}')"

mesa_target=()
if [ "$codename" = "bookworm" ]; then
  # Mesa 25 lives in bookworm-backports. Add it unless some source already lists it.
  if ! grep -rhsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ >/dev/null; then
    echo "ci-setup-webgpu: adding bookworm-backports to /etc/apt/sources.list.d/bookworm-backports.sources"
    cat >/etc/apt/sources.list.d/bookworm-backports.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  # -t only raises backports' priority for this install: the Mesa packages (and the libdrm
  # they need) come from backports, everything else from bookworm.
  mesa_target=(-t bookworm-backports)
elif [ -n "$codename" ]; then
  echo "ci-setup-webgpu: not bookworm; installing Mesa from the distribution's own suites" >&2
fi

apt-get update -q

# libgl1-mesa-dri is not needed by Dawn (Mesa 25 EGL finds llvmpipe in mesa-libgallium); it is
# listed so that a machine that already has Mesa 22 moves all of Mesa to one version.
mesa_packages=(libvulkan1 mesa-vulkan-drivers libegl1 libegl-mesa0 libegl-dev libgl1-mesa-dri)
apt-get install -y -q --no-install-recommends "${mesa_target[@]}" "${mesa_packages[@]}"

if [ "${ANYTIME_SKIP_BROWSER:-0}" != "1" ]; then
  # Same target so that chromium's Mesa dependencies match the ones just installed.
  apt-get install -y -q "${mesa_target[@]}" chromium
  chromium --version 2>/dev/null || /usr/bin/chromium --version
fi

# Check that the software adapters come up (when the npm dependencies are installed).
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if command -v node >/dev/null && [ -d "$repo_root/node_modules/webgpu" ]; then
  cd "$repo_root"
  node --input-type=module -e '
    import { create } from "webgpu";
    const show = (a) => a ? `${a.info.vendor} ${a.info.architecture} ${a.info.description || a.info.device}` : "none";
    const vk = await create([]).requestAdapter();
    console.log(`ci-setup-webgpu: route B (Vulkan) adapter: ${show(vk)}`);
    process.env.EGL_PLATFORM = process.env.EGL_PLATFORM || "surfaceless";
    const gl = await create(["backend=opengl"]).requestAdapter({ featureLevel: "compatibility" });
    console.log(`ci-setup-webgpu: route A (OpenGL/EGL) adapter: ${show(gl)}`);
    if (!vk && !gl) { console.error("ci-setup-webgpu: no WebGPU adapter on either route"); process.exit(1); }
  ' 2> >(grep -v 'artificially reduced' >&2)
else
  echo "ci-setup-webgpu: node_modules/webgpu not installed yet; skipped the adapter check"
fi
echo "ci-setup-webgpu: done"
