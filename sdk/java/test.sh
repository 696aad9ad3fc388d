#!/usr/bin/env bash
# Compiles the Java SDK (javac --release 11, no dependencies) and runs its tests against a real Herald that the
# tests start on free loopback ports. There is no JUnit (Maven Central is not reachable): the test main prints
# "N passed, M failed" and exits 1 on failure. HERALD_SKIP_BUILD=1 skips building Herald when it is already built.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"

for tool in javac java; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "sdk/java: $tool is missing and is not installed by this script: install a JDK 11+ (apt-get install default-jdk-headless)" >&2
    exit 1
  fi
done
if ! command -v dotnet >/dev/null 2>&1; then
  echo "sdk/java: dotnet is missing: the tests need the .NET 10 SDK to build and run Herald" >&2
  exit 1
fi
if [ "${HERALD_SKIP_BUILD:-}" != "1" ]; then
  dotnet build "$root/src/Herald" -c Debug -v q -nologo >/dev/null
fi
rm -rf build
javac --release 11 -Xlint:all -Werror -d build/classes $(find src/main/java -name '*.java')
javac --release 11 -Xlint:all -Werror -cp build/classes -d build/test-classes $(find src/test/java -name '*.java')
java -Dherald.root="$root" -cp build/classes:build/test-classes io.herald.HeraldClientTest
