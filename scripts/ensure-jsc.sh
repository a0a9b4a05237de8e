#!/usr/bin/env bash
# Installs JavaScriptCore's shell `jsc` from Debian's packages when missing: the engine of WeChat on
# iPhones, in which the jsc tests and the JavaScriptCore section of `make bench` run without JIT.
set -euo pipefail

[ -n "${MPCHAT_JSC:-}" ] && [ -x "$MPCHAT_JSC" ] && exit 0
command -v jsc >/dev/null && exit 0

package=libjavascriptcoregtk-4.0-bin
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo=sudo; else
    echo "ensure-jsc: need root to install $package (apt-get install -y $package)" >&2
    exit 1
  fi
else
  sudo=
fi
echo "ensure-jsc: installing $package" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y "$package" >&2; then
  $sudo apt-get update >&2
  $sudo apt-get install -y "$package" >&2
fi
