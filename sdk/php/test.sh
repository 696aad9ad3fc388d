#!/usr/bin/env bash
# Runs the PHP SDK's tests against a real Herald that the tests start on free loopback ports: once with the
# curl and sockets extensions, once with `php -n` (no extensions) to cover the streams fallbacks.
# HERALD_SKIP_BUILD=1 skips the build when src/Herald is already built (Debug).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"

if ! command -v php >/dev/null 2>&1 || ! php -r 'exit(function_exists("curl_init") ? 0 : 1);'; then
  echo "sdk/php: installing php-cli and php-curl"
  if command -v apt-get >/dev/null 2>&1; then
    (DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq php-cli php-curl) >/dev/null || true
  fi
fi
if ! command -v php >/dev/null 2>&1; then
  echo "sdk/php: php is missing and could not be installed (apt-get install php-cli php-curl): PHP tests NOT run" >&2
  exit 1
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "sdk/php: dotnet is missing: the tests need the .NET 10 SDK to build and run Herald" >&2
  exit 1
fi
if [ "${HERALD_SKIP_BUILD:-}" != "1" ]; then
  dotnet build "$root/src/Herald" -c Debug -v q -nologo >/dev/null
fi
status=0
php tests/run.php || status=1
echo "-- again without extensions (php -n: streams for HTTP, stream_socket_client for UDP)"
php -n tests/run.php || status=1
exit $status
