#!/usr/bin/env bash
# `npm test`: the whole check, on a fresh Debian machine with Node 20 as on CI. Installs the Debian
# packages the tests drive (scripts/test-deps.sh), type-checks, lints, checks the layering of src/
# (scripts/check-layers.ts), builds dist/ (npm run build), starts one throwaway PostgreSQL
# server for the run unless GATEPASS_TEST_DATABASE_URL names one (scripts/pg-sandbox.ts: initdb in a
# temporary directory, a free loopback port, stopped and deleted on exit), then runs every listed test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-deps.sh
npm run --silent typecheck
npm run --silent lint
node --import tsx scripts/check-layers.ts
# Tests start the installed CLI (package.json's bin, the bundle in dist/bin/): build it from these sources.
npm run --silent build

if [ -z "${GATEPASS_TEST_DATABASE_URL:-}" ]; then
  pg_out=$(mktemp)
  node --import tsx scripts/pg-sandbox.ts >"$pg_out" &
  pg_pid=$!
  trap 'rc=$?; { kill "$pg_pid" && wait "$pg_pid"; } 2>/dev/null || true; rm -f "$pg_out"; exit $rc' EXIT
  for _ in $(seq 1 300); do
    grep -q '^postgres://' "$pg_out" && break
    kill -0 "$pg_pid" 2>/dev/null || { echo "PostgreSQL sandbox failed to start" >&2; exit 1; }
    sleep 0.1
  done
  GATEPASS_TEST_DATABASE_URL=$(grep -m1 '^postgres://' "$pg_out") || { echo "PostgreSQL sandbox did not come up" >&2; exit 1; }
  export GATEPASS_TEST_DATABASE_URL
fi

node scripts/run-tests.mjs "$@"
