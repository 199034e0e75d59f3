#!/usr/bin/env bash
# Installs the headless browser the report-card test loads pages in (Debian: chromium, and
# fonts-noto-cjk so that a screenshot shows Chinese). Idempotent. Exits non-zero when it
# cannot be installed; the card test then fails saying so.
set -euo pipefail
have() { command -v chromium >/dev/null; }
if have; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-browser: not root and no sudo" >&2; exit 1; }
  sudo="sudo -n"
fi
packages="chromium fonts-noto-cjk"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q --no-install-recommends $packages >/dev/null 2>&1 \
  || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q --no-install-recommends $packages >/dev/null; }
have
