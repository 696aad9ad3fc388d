#!/usr/bin/env bash
# Runs the Python SDK's tests against a real Herald that the tests start on free loopback ports.
# HERALD_SKIP_BUILD=1 skips the build when src/Herald is already built (Debug).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"

if ! command -v python3 >/dev/null 2>&1; then
  echo "sdk/python: python3 is missing and is not installed by this script: install python3 (3.8+)" >&2
  exit 1
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "sdk/python: dotnet is missing: the tests need the .NET 10 SDK to build and run Herald" >&2
  exit 1
fi
if [ "${HERALD_SKIP_BUILD:-}" != "1" ]; then
  dotnet build "$root/src/Herald" -c Debug -v q -nologo >/dev/null
fi
python3 -m tests
