#!/usr/bin/env bash
# Installs the Debian packages the tests and the benchmark drive for real, when missing:
# mariadb-server (ML Metadata on MySQL; tests/mysql_server.py starts its own server, the
# package's service is never started), chromium (pages are checked in a headless browser)
# and poppler-utils (pdftotext reads PDF cards back). The machines run Debian as root.
set -euo pipefail
declare -A needs=([mariadbd]=mariadb-server [chromium]=chromium [pdftotext]=poppler-utils)
missing=()
for command in "${!needs[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${needs[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing Debian packages: ${missing[*]} (install them with apt-get install ${missing[*]})" >&2
  exit 2
fi
echo "Installing ${missing[*]} for the tests..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
for command in "${!needs[@]}"; do command -v "$command" >/dev/null; done
