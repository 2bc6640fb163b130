#!/usr/bin/env bash
# Before pushing: type-check and lint exactly what is committed (a clean clone of HEAD), reusing this
# checkout's node_modules, so a file left out of a commit cannot hide behind the work tree.
# With --tests it also builds dist/ and runs the whole suite there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
git -C "$root" archive HEAD | tar -x -C "$dir"
ln -s "$root/node_modules" "$dir/node_modules"
cd "$dir"
npx tsc -p tsconfig.json --noEmit
npx biome check --error-on-warnings .
echo "HEAD type-checks and lints clean"
if [ "${1:-}" = "--tests" ]; then
  npm run --silent build
  node scripts/run-tests.mjs
fi
