#!/usr/bin/env bash
# Installs the JS SDK's dev dependencies and runs its build (with the bundle size check) and tests
# against a real Herald started by the tests. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
# The Redis chaos test starts a real redis-server on a free loopback port: install it when it is missing
# (Debian's package, as the repository's test.sh does).
if ! command -v redis-server >/dev/null; then
  echo "== Installing redis-server"
  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)
fi
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm test
