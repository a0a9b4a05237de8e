#!/usr/bin/env bash
# Installs what `make demo` needs to take its screenshot, from Debian's packages, when missing: headless
# Chromium, plus fonts for Chinese text and colour emoji so the page renders as it does on a phone.
set -euo pipefail

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
fonts=$(fc-list : family 2>/dev/null || true)
grep -qi 'wenquanyi\|noto sans cjk' <<<"$fonts" || packages+=(fonts-wqy-microhei)
grep -qi 'noto color emoji' <<<"$fonts" || packages+=(fonts-noto-color-emoji)
[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo=sudo; else
    echo "ensure-chromium: need root to install ${packages[*]} (apt-get install -y ${packages[*]})" >&2
    exit 1
  fi
else
  sudo=
fi
echo "ensure-chromium: installing ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y "${packages[@]}" >&2; then
  $sudo apt-get update >&2
  $sudo apt-get install -y "${packages[@]}" >&2
fi
