#!/usr/bin/env bash
# The Pusher surface with the real npm packages (pinned in package.json / package-lock.json) against the real Herald,
# started by the tests on free loopback ports. Prints "N passed, M failed". HERALD_SKIP_BUILD=1 skips building Herald.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${HERALD_SKIP_BUILD:-}" != "1" ]; then
  dotnet build ../../src/Herald -c Debug -v q -nologo >/dev/null
fi
# The cluster tests start a real redis-server on a free loopback port: install it when it is missing (Debian's
# package, as the repository's test.sh does).
if ! command -v redis-server >/dev/null; then
  echo "== Installing redis-server"
  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)
fi
npm ci --no-audit --no-fund --silent
status=0
node --test --test-concurrency=1 --test-reporter=tap test/*.test.mjs >test-output.tap 2>&1 || status=$?
grep -vE '^ *(duration_ms|type):' test-output.tap | grep -E '^(not )?ok |^# (tests|pass|fail) |^ +(error|expected|actual|message):' || true
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' test-output.tap | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' test-output.tap | tail -n 1)
rm -f test-output.tap
echo "${passed:-0} passed, ${failed:-1} failed"
exit "$status"
