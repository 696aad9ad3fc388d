#!/usr/bin/env bash
# Builds the herald binary: dist/herald-<rid>/herald, one self-contained single-file executable per runtime identifier
# that runs on a Linux machine with no .NET installed (docs/install.md). Needs only the .NET 10 SDK (and git, for the
# commit `herald version` prints); the runtime packs come from NuGet on the first run.
#
#   ./build.sh                      linux-x64 and linux-arm64
#   ./build.sh linux-x64            only the named runtime identifiers
#
# Environment: HERALD_DIST (output folder, default ./dist), HERALD_BUILD_ARTIFACTS (intermediate files, default
# dist/.artifacts: kept apart from the tree's bin/ and obj/ so a build of the solution running beside it sees nothing
# half-written), HERALD_COMMIT (the commit to stamp when there is no git checkout, e.g. in a container build).
set -euo pipefail
cd "$(dirname "$0")"

rids=("$@")
[ ${#rids[@]} -gt 0 ] || rids=(linux-x64 linux-arm64)
dist="${HERALD_DIST:-$(pwd)/dist}"
artifacts="${HERALD_BUILD_ARTIFACTS:-$dist/.artifacts}"

commit="${HERALD_COMMIT:-}"
if [ -z "$commit" ] && git rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git rev-parse HEAD)
  # A binary built from uncommitted changes must not claim to be that commit.
  git diff --quiet HEAD -- 2>/dev/null || commit="$commit-dirty"
fi

for rid in "${rids[@]}"; do
  case "$rid" in
    linux-x64|linux-arm64|linux-musl-x64|linux-musl-arm64) ;;
    *) echo "build.sh: unsupported runtime identifier '$rid' (linux-x64, linux-arm64, linux-musl-x64, linux-musl-arm64)" >&2; exit 2 ;;
  esac
  out="$dist/herald-$rid"
  echo "== herald for $rid -> $out"
  rm -rf "$out"
  # Self-contained single file, not trimmed and not native AOT: docs/install.md ("Why not native AOT") says what each
  # would still need. Warnings stay errors, as in every build.
  dotnet publish src/Herald/Herald.csproj -c Release -r "$rid" --self-contained true \
    -p:PublishSingleFile=true \
    ${commit:+-p:SourceRevisionId=$commit} \
    --artifacts-path "$artifacts" -o "$out" -nologo -v quiet
  # Only the executable ships (symbols are embedded; publish may still drop a .pdb or .xml of a dependency).
  find "$out" -mindepth 1 ! -name herald -delete
  ls -l "$out/herald"
done
