#!/usr/bin/env bash
# Installs what the tests need and runs all of them: typecheck + build, then every ava test
# (the storage conformance suite starts its own etcd on a loopback port).
# Ends with `tests: N passed, N failed`; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v etcd >/dev/null 2>&1; then
  echo "== installing etcd-server (Debian)"
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null || {
    echo "could not install etcd-server"; echo "tests: 0 passed, 1 failed"; exit 1; }
fi
# The Debian package starts a system etcd on 2379; the tests start their own on free ports.

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund || { echo "tests: 0 passed, 1 failed"; exit 1; }
fi

echo "== typecheck and build (tsc, strict)"
if ! npm run --silent build; then
  echo "typecheck failed"
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

echo "== ava"
npx ava --tap "$@" | node hack/tap-summary.mjs
