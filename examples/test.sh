#!/usr/bin/env bash
# Runs every example against a real Herald started on free loopback ports (test/run.mjs), so none of them rots:
# php/udp_push.php, laravel/, spring/ (compiled with javac against sdk/java/src), and the JavaScript examples'
# logic modules (browser/app.js, vue/notifications.js, uniapp/pages/notify-logic.js,
# miniprogram/pages/notify/notify-logic.js) in Node, with fake `uni` and `wx` objects. The page itself runs in a real
# browser in tests/browser.
# Needs the .NET 10 SDK, Node 20+, php-cli (sockets, curl optional) and a JDK. Prints one line per example and
# "N passed, M failed". HERALD_SKIP_BUILD=1 skips building Herald when src/Herald is already built (Debug).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd .. && pwd)"

for tool in dotnet node php javac java; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "examples: $tool is missing: examples NOT run" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
done
if [ "${HERALD_SKIP_BUILD:-}" != "1" ]; then
  dotnet build "$root/src/Herald" -c Debug -v q -nologo >/dev/null
fi
# The JS examples import the built SDK (sdk/js/dist) as `herald-client`.
if [ ! -f "$root/sdk/js/dist/index.js" ] || [ ! -f "$root/sdk/js/dist/index.cjs" ] || [ ! -d "$root/sdk/js/node_modules/ws" ]; then
  echo "examples: building sdk/js"
  (cd "$root/sdk/js" && npm ci --silent && npm run build --silent) >/dev/null
fi
# What `npm install` would do for package.json's "herald-client": "file:../sdk/js", without the network.
mkdir -p node_modules
ln -sfn ../../sdk/js node_modules/herald-client

# Node 20 has a global WebSocket only behind a flag (browser/app.js and the plain clients use it).
flags=()
if ! node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
  flags=(--experimental-websocket)
fi
node "${flags[@]}" --no-warnings test/run.mjs
