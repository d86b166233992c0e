#!/usr/bin/env bash
# Installs the real platform tools for the end-to-end suite from the npm registry, into
# $ASM_E2E_TOOLS (default: target/e2e-tools), and links their commands into $ASM_E2E_TOOLS/bin:
#   node (24.x, which openclaw needs), openclaw, claude, opencode.
# Idempotent: a second run only checks. Prints the bin dir on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
tools=${ASM_E2E_TOOLS:-$here/target/e2e-tools}
bin=$tools/bin
mkdir -p "$tools" "$bin"
cd "$tools"
[ -f package.json ] || echo '{"name":"asm-e2e-tools","private":true}' > package.json

npm_i() { npm install --no-audit --no-fund --loglevel=error "$@" >/dev/null; }

# openclaw needs Node >= 24.16; the registry lists node@24 versions out of order, so pick the
# highest 24.x by semver rather than the last one listed.
if [ ! -x node_modules/node/bin/node ]; then
  node24=$(npm view 'node@24' version --json | python3 -c 'import json,sys; v=json.load(sys.stdin); v=[v] if isinstance(v,str) else v; print(max(v, key=lambda s: tuple(int(x) for x in s.split("."))))')
  npm_i "node@$node24"
fi
ln -sf "$tools/node_modules/node/bin/node" "$bin/node"
export PATH=$bin:$PATH

# The pinned versions; a different one already installed is replaced.
installed() { node -p "require('./node_modules/$1/package.json').version" 2>/dev/null || true; }
pin() { [ "$(installed "$1")" = "$2" ] || npm_i "$1@$2"; }
pin openclaw 2026.9.6
pin @anthropic-ai/claude-code 2.1.332
pin opencode-ai 1.18.33
for cmd in openclaw claude opencode; do
  ln -sf "$tools/node_modules/.bin/$cmd" "$bin/$cmd"
done
# Version checks in a scratch home: the tools create their data dirs on first run.
scratch=$tools/home
mkdir -p "$scratch"
for cmd in node openclaw claude opencode; do
  HOME=$scratch XDG_DATA_HOME=$scratch/.local/share XDG_CONFIG_HOME=$scratch/.config XDG_CACHE_HOME=$scratch/.cache \
    XDG_STATE_HOME=$scratch/.local/state "$bin/$cmd" --version >&2
done
echo "$bin"
