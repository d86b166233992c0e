#!/usr/bin/env bash
# Installs (or upgrades in place) the auto-session-manager skill folder into
# <OpenClaw state dir>/skills/auto-session-manager: SKILL.md, references/, scripts/ with the
# launchers and, next to them, the compiled binaries.
#
#   scripts/install.sh [--bin-dir DIR]      binaries from DIR (default target/release)
#   scripts/install.sh --uninstall          removes the skill folder (state and memory stay)
#
# The state dir is resolved as OpenClaw resolves it: OPENCLAW_STATE_DIR, else
# $OPENCLAW_HOME (or $HOME)/.openclaw, or .openclaw-<profile> for OPENCLAW_PROFILE.
# Files are replaced by rename, so a running monitor keeps its binary and nothing under
# .session_memory/, logs/ or .asm_state.json is touched.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin_dir=$repo/target/release
action=install
while [ $# -gt 0 ]; do
  case $1 in
    --bin-dir) bin_dir=$2; shift 2 ;;
    --uninstall) action=uninstall; shift ;;
    *) echo "install.sh: error: unknown argument $1 (expected --bin-dir DIR or --uninstall)" >&2; exit 2 ;;
  esac
done

home=${OPENCLAW_HOME:-${HOME:?install.sh: error: HOME is not set}}
if [ -n "${OPENCLAW_STATE_DIR:-}" ]; then
  state_dir=${OPENCLAW_STATE_DIR/#\~/$HOME}
elif [ -n "${OPENCLAW_PROFILE:-}" ] && [ "$OPENCLAW_PROFILE" != default ]; then
  state_dir=$home/.openclaw-$OPENCLAW_PROFILE
else
  state_dir=$home/.openclaw
fi
skill=$state_dir/skills/auto-session-manager
tools="monitor session_manager memory_manager gateway_monitor health_check"

if [ "$action" = uninstall ]; then
  # Take ASM's hooks out of Claude Code's settings and ASM's plugin out of OpenCode first.
  if [ -x "$skill/scripts/asm_session_manager" ]; then
    "$skill/scripts/asm_session_manager" --remove-hooks || echo "install.sh: warning: could not remove ASM's hooks (see above)" >&2
  fi
  rm -rf "$skill"
  echo "removed $skill (state, logs and memory files under $state_dir are kept)"
  exit 0
fi

for t in $tools; do
  [ -x "$bin_dir/asm_$t" ] || { echo "install.sh: error: $bin_dir/asm_$t is missing; build first (make build)" >&2; exit 2; }
done

# put SRC DEST MODE: copy beside the destination, then rename over it.
put() { install -m "$3" "$1" "$2.new.$$" && mv -f "$2.new.$$" "$2"; }

mkdir -p "$skill/scripts" "$skill/references"
chmod 700 "$state_dir" 2>/dev/null || true
put "$repo/SKILL.md" "$skill/SKILL.md" 0644
for f in "$repo"/references/*.md; do put "$f" "$skill/references/$(basename "$f")" 0644; done
put "$repo/scripts/_launcher.py" "$skill/scripts/_launcher.py" 0644
for t in $tools; do
  put "$repo/scripts/$t.py" "$skill/scripts/$t.py" 0755
  put "$bin_dir/asm_$t" "$skill/scripts/asm_$t" 0755
done
echo "installed auto-session-manager into $skill"
# ASM's hooks (Claude Code) and plugin (OpenCode), for every platform found; ASM_INSTALL_HOOKS=0 opts out.
if [ "${ASM_INSTALL_HOOKS:-1}" != 0 ]; then
  "$skill/scripts/asm_session_manager" --install-hooks || echo "install.sh: warning: ASM's hooks were not installed (see above); run $skill/scripts/session_manager.py --install-hooks" >&2
else
  echo "ASM_INSTALL_HOOKS=0: hooks not installed (session_manager.py --install-hooks installs them)"
fi
