#!/usr/bin/env bash
# Fuzzes one of Herald's network-facing parsers with AFL++ for a bounded time:
#   fuzz/run.sh <target> [seconds]      (default 300 s; targets: fuzz/run.sh --list)
# Installs what it needs when missing (Debian's afl++ package, the SharpFuzz.CommandLine dotnet tool into fuzz/.work),
# builds fuzz/Herald.Fuzz in Release, instruments Herald's assemblies, and runs afl-fuzz, niced, on one core, starting
# from fuzz/corpus/<target>. Findings land in fuzz/.work/findings/<target>-<time>/default/{crashes,hangs}; replay one with
#   dotnet run --project fuzz/Herald.Fuzz -- <target> <file>
# then add it to fuzz/corpus/<target>/ as found-<what> and write a regression test (docs/security.md, "Fuzzing").
# HERALD_FUZZ_IGNORE="text|text" counts findings whose report contains one of the texts as passes, to explore past
# a known open bug.
set -euo pipefail
cd "$(dirname "$0")"
fuzz_dir=$(pwd)
work="$fuzz_dir/.work"
sharpfuzz_version=2.3.0 # the SharpFuzz package version in Directory.Packages.props

targets="websocket upgrade native plain publish udp udp-signed token"
if [ $# -lt 1 ] || [ "$1" = "--list" ] || [ "$1" = "-h" ]; then
  echo "usage: fuzz/run.sh <target> [seconds]"
  echo "targets: $targets"
  [ $# -ge 1 ] && exit 0 || exit 2
fi
target=$1
seconds=${2:-300}
case " $targets " in *" $target "*) ;; *) echo "unknown target \"$target\"; targets: $targets" >&2; exit 2 ;; esac

if ! command -v afl-fuzz >/dev/null; then
  echo "== Installing afl++ (Debian package)"
  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq afl++ >/dev/null)
fi
sharpfuzz="$work/tools/sharpfuzz"
if [ ! -x "$sharpfuzz" ]; then
  echo "== Installing the SharpFuzz.CommandLine tool $sharpfuzz_version"
  dotnet tool install SharpFuzz.CommandLine --version "$sharpfuzz_version" --tool-path "$work/tools" >/dev/null
fi

# Rebuilt only when a source changed since the last instrumented build; then a fresh output, because instrumenting an
# assembly twice fails and an incremental build would keep old copies.
stamp="$work/bin/.instrumented"
if [ ! -f "$stamp" ] || [ -n "$(find ../src Herald.Fuzz ../Directory.*.props -newer "$stamp" -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]; then
  echo "== Building and instrumenting"
  rm -rf "$work/bin"
  dotnet build "$fuzz_dir/Herald.Fuzz/Herald.Fuzz.csproj" -c Release -nologo -v quiet -o "$work/bin"
  for assembly in Herald.Protocol Herald.Core Herald.Server; do
    "$sharpfuzz" "$work/bin/$assembly.dll" >/dev/null
  done
  touch "$stamp"
fi

case "$target" in
  websocket) dicts=(-x dict/websocket.dict) ;;
  upgrade) dicts=(-x dict/upgrade.dict) ;;
  native | plain) dicts=(-x dict/json.dict -x dict/native.dict) ;;
  token) dicts=(-x dict/json.dict -x dict/token.dict) ;;
  *) dicts=(-x dict/json.dict -x dict/publish.dict) ;;
esac
out="$work/findings/$target-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$out"
echo "== Fuzzing $target for $seconds s (findings: $out)"
# dotnet is not an AFL-instrumented binary (SharpFuzz's fork server talks to afl-fuzz instead), the .NET runtime needs
# seconds to start, and the machine may be shared: no CPU binding, no core-dump or CPU-governor checks. Corpus inputs
# that still crash (found-* of a finding not fixed yet) are skipped, not fatal.
status=0
AFL_SKIP_CRASHES=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
AFL_FORKSRV_INIT_TMOUT=60000 AFL_NO_UI=1 AFL_QUIET=1 \
  nice -n 10 afl-fuzz -i "corpus/$target" -o "$out" "${dicts[@]}" -t 5000 -m none -V "$seconds" \
  -- dotnet "$work/bin/Herald.Fuzz.dll" "$target" >"$out/afl.log" 2>&1 || status=$?
sed 's/\x1b\[[0-9;]*m//g' "$out/afl.log" | grep -E "Statistics|PROGRAM ABORT|Location|\[-\]" | tail -n 4 || true

results="$out/default"
crashes=$(find "$results/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
hangs=$(find "$results/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
if [ -f "$results/fuzzer_stats" ]; then
  grep -E "^(execs_done|execs_per_sec|corpus_count|edges_found|total_edges|stability) " "$results/fuzzer_stats" || true
fi
echo "== $target: $crashes crashes in $results/crashes, $hangs hangs in $results/hangs"
if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
  echo "replay (uninstrumented): dotnet run --project fuzz/Herald.Fuzz -- $target $results/crashes $results/hangs"
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "afl-fuzz exited with $status: see $out/afl.log" >&2
  exit "$status"
fi
