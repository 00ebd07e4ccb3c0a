#!/usr/bin/env bash
# The test suite runs ML Metadata on a real MySQL-compatible server it starts itself
# (tests/mysql_server.py). Installs Debian's mariadb-server when it is missing; the
# machines run Debian as root. The package's own service is never started.
set -euo pipefail
command -v mariadbd >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "mariadbd is missing: install Debian's mariadb-server (apt-get install mariadb-server)" >&2
  exit 2
fi
echo "Installing mariadb-server for the MySQL tests..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
command -v mariadbd >/dev/null
