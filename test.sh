#!/usr/bin/env bash
# Runs every Herald test. Works on a fresh machine with the .NET 10 SDK: it installs whatever else the tests need
# and starts what they need itself (the tests start the real server on free loopback ports).
set -euo pipefail
cd "$(dirname "$0")"

configuration="${CONFIGURATION:-Debug}"
results="$(pwd)/TestResults"
rm -rf "$results"

echo "== Building ($configuration)"
dotnet build Herald.slnx -c "$configuration" -nologo -v quiet

echo "== Running tests"
status=0
dotnet test Herald.slnx -c "$configuration" --no-build -nologo \
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
echo "== Summary"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
