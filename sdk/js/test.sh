#!/usr/bin/env bash
# Installs the JS SDK's dev dependencies and runs its build (with the bundle size check) and tests
# against a real Herald started by the tests. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm test
