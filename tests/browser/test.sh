#!/usr/bin/env bash
# Drives examples/browser/ in a real Chromium against a real Herald (run.mjs). Installs what it needs when missing:
# Debian's `chromium` (apt-get, as root) and playwright-core (npm ci from package-lock.json); builds Herald and the
# JS SDK unless they are built. Prints one line per check and "N passed, M failed"; screenshots go to
# $HERALD_TEST_RESULTS/browser (default TestResults/browser at the repository root).
# HERALD_SKIP_BUILD=1 skips building Herald (Debug); HERALD_CHROMIUM names another Chromium binary.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"

fail() {
  echo "browser: $1: browser tests NOT run" >&2
  echo "0 passed, 1 failed"
  exit 1
}

chromium="${HERALD_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "browser: installing chromium"
  if command -v apt-get >/dev/null 2>&1; then
    (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 || true
  fi
  [ -x "$chromium" ] || fail "$chromium is missing and could not be installed (apt-get install chromium)"
fi
for tool in dotnet node npm; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing"
done
if [ ! -d node_modules/playwright-core ]; then
  npm ci --silent --no-audit --no-fund >/dev/null || fail "npm ci failed"
fi
if [ "${HERALD_SKIP_BUILD:-}" != "1" ]; then
  dotnet build "$root/src/Herald" -c Debug -v q -nologo >/dev/null
fi
# The page imports the built SDK (sdk/js/dist).
if [ ! -f "$root/sdk/js/dist/index.js" ]; then
  echo "browser: building sdk/js"
  (cd "$root/sdk/js" && npm ci --silent && npm run build --silent) >/dev/null
fi
HERALD_CHROMIUM="$chromium" node run.mjs
