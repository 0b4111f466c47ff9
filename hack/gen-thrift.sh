#!/usr/bin/env bash
# Regenerates controllers/storm/nimbus/gen/ (checked in) from controllers/storm/nimbus/storm.thrift
# with Apache Thrift's compiler (Debian: apt-get install -y thrift-compiler; 0.17 or newer).
# The output is CommonJS (ES6 classes, promises); gen/package.json marks it so for Node.
set -euo pipefail
cd "$(dirname "$0")/.."
idl=controllers/storm/nimbus/storm.thrift
out=controllers/storm/nimbus/gen
command -v thrift >/dev/null || { echo "thrift compiler not found (apt-get install -y thrift-compiler)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
thrift --gen js:node,es6 -out "$out" "$idl"
printf '{\n  "type": "commonjs"\n}\n' >"$out/package.json"
echo "generated $(ls "$out" | tr '\n' ' ')with $(thrift --version)"
