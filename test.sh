#!/usr/bin/env bash
# Runs every Herald test. Works on a fresh machine with the .NET 10 SDK: it installs whatever else the tests need
# and starts what they need itself (the tests start the real server on free loopback ports).
set -euo pipefail
cd "$(dirname "$0")"

# The Redis engine's tests start a real redis-server on a free loopback port (tests/Herald.Engine.Contracts) and fail
# without one: install it when it is missing (Debian's package, as root, non-interactive, quiet).
if ! command -v redis-server >/dev/null; then
  echo "== Installing redis-server"
  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)
fi

configuration="${CONFIGURATION:-Debug}"
results="$(pwd)/TestResults"
rm -rf "$results"

echo "== Building ($configuration)"
dotnet build Herald.slnx -c "$configuration" -nologo -v quiet

echo "== Running tests"
status=0
# A test that hangs is stopped after 5 minutes and named (the longest test takes seconds), instead of holding CI to its limit.
dotnet test Herald.slnx -c "$configuration" --no-build -nologo --blame-hang-timeout 5m --blame-hang-dump-type none \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" "$@" || status=$?

# One summary line over every test project, in the plain form CI reads: "N passed, N failed".
passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A test host that crashed or was stopped as hung leaves no failed test in its results: count it as one.
  echo "dotnet test exited with $status but no test failed: a test host crashed or hung (the test it was running is named above)" >&2
  failed=1
fi
# SDKs, the Pusher surface with the real npm packages (tests/pusher), then the examples (which use the built JS SDK),
# then the example page in a real Chromium (tests/browser):
# each test.sh starts its own Herald and prints its runner's summary. Their counts join the total.
export HERALD_SKIP_BUILD=1 # built above
export HERALD_TEST_RESULTS="$results" # where suites save artifacts (the browser test's screenshots: browser/*.png)
for suite_test in sdk/*/test.sh tests/pusher/test.sh examples/test.sh tests/browser/test.sh; do
  [ -f "$suite_test" ] || continue
  suite=$(dirname "$suite_test")
  echo "== $suite"
  log="$results/${suite//\//-}.log"
  suite_status=0
  NO_COLOR=1 FORCE_COLOR=0 bash "$suite_test" 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' | tee "$log" || suite_status=$?
  # "N passed, M failed" (php, python, java, examples and browser runners) or vitest's "Tests  N passed | M failed (T)".
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
  if [ -n "$line" ]; then
    p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  else
    line=$(grep -E '^ +Tests +' "$log" | tail -n 1 || true)
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  fi
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$suite_status" -ne 0 ]; then
    echo "$suite: tests failed (exit $suite_status)" >&2
    status=1
    [ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
  fi
done

echo "== Summary"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
