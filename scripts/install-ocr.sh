#!/usr/bin/env bash
# Installs what the `ocr` feature runs: tesseract with Simplified Chinese, and poppler's
# pdfimages/pdftoppm (Debian: tesseract-ocr tesseract-ocr-chi-sim poppler-utils). Idempotent.
# Exits non-zero when they cannot be installed; scripts/test then tests without OCR and says so.
set -euo pipefail
have() {
  command -v tesseract >/dev/null && command -v pdfimages >/dev/null \
    && command -v pdftoppm >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx chi_sim
}
if have; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-ocr: not root and no sudo" >&2; exit 1; }
  sudo="sudo -n"
fi
packages="tesseract-ocr tesseract-ocr-chi-sim poppler-utils"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q $packages >/dev/null 2>&1 \
  || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q $packages >/dev/null; }
have
