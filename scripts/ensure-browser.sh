#!/usr/bin/env bash
# A Chromium for PDF export, the overflow check and the browser tests.
# Uses one that is there; installs Debian's chromium when running as root on Debian; else says what to do.
set -euo pipefail
for candidate in "${CHROME_PATH:-}" chromium chromium-browser google-chrome google-chrome-stable; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
    exit 0
  fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deckcheck: no Chromium found; installing Debian's chromium package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "deckcheck: no Chromium found: install one (Debian/Ubuntu: sudo apt-get install chromium) or set CHROME_PATH" >&2
exit 1
