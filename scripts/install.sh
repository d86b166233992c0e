#!/usr/bin/env bash
# Installs (or upgrades in place) the auto-session-manager skill folder into
# <OpenClaw state dir>/skills/auto-session-manager: SKILL.md, references/, scripts/ with the
# launchers and, next to them, the compiled binaries.
#
#   scripts/install.sh [--bin-dir DIR]      binaries from DIR (default target/release)
#   scripts/install.sh --uninstall          stops the monitor, removes the systemd unit, ASM's
#                                           hooks and the skill folder (state and memory stay)
#
# The state dir is resolved as OpenClaw resolves it: OPENCLAW_STATE_DIR, else
# $OPENCLAW_HOME (or $HOME)/.openclaw, or .openclaw-<profile> for OPENCLAW_PROFILE.
# Files are replaced by rename and nothing under .session_memory/, logs/ or .asm_state.json is
# touched; a running monitor (the systemd unit or a daemon) is restarted on the new binaries.
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

unit=${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user/asm-monitor.service
# The systemd user unit runs this skill's monitor (not another state dir's).
unit_is_ours() { [ -f "$unit" ] && grep -qF "$skill/scripts/asm_monitor" "$unit"; }
unit_active() { unit_is_ours && systemctl --user is-active --quiet asm-monitor.service 2>/dev/null; }

if [ "$action" = uninstall ]; then
  # Stop the monitor first (the unit, or a daemon by its pid file), so nothing runs on
  # deleted binaries; then take ASM's hooks and plugin out of the platforms.
  if unit_is_ours; then
    systemctl --user disable --now asm-monitor.service 2>/dev/null || true
    rm -f "$unit"
    systemctl --user daemon-reload 2>/dev/null || true
    echo "removed $unit"
  fi
  if [ -x "$skill/scripts/asm_monitor" ]; then
    "$skill/scripts/asm_monitor" --stop || echo "install.sh: warning: the monitor did not stop (see above)" >&2
  fi
  if [ -x "$skill/scripts/asm_session_manager" ]; then
    "$skill/scripts/asm_session_manager" --remove-hooks || echo "install.sh: warning: could not remove ASM's hooks (see above)" >&2
  fi
  rm -rf "$skill"
  echo "removed $skill (state, logs and memory files under $state_dir are kept)"
  exit 0
fi

# A monitor already running (an upgrade) keeps its old binary until it restarts: note how it
# runs before the files change.
was_running=0 was_mode=- was_interval=60
if [ -x "$skill/scripts/asm_monitor" ]; then
  read -r was_running was_mode was_interval < <("$skill/scripts/asm_monitor" --status --json 2>/dev/null |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(int(d["running"]), d.get("mode") or "-", d.get("interval_secs") or 60)' 2>/dev/null ||
    echo "0 - 60")
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
# Restart a running monitor on the new binaries.
if unit_active; then
  systemctl --user restart asm-monitor.service && echo "restarted asm-monitor.service on the new binaries"
elif [ "$was_running" = 1 ] && [ "$was_mode" = daemon ]; then
  "$skill/scripts/asm_monitor" --stop >/dev/null && "$skill/scripts/asm_monitor" --mode daemon --interval "$was_interval" >/dev/null &&
    echo "restarted the monitor daemon on the new binaries" ||
    echo "install.sh: warning: the monitor daemon was not restarted; run $skill/scripts/monitor.py --mode daemon" >&2
elif [ "$was_running" = 1 ]; then
  echo "install.sh: note: a monitor runs in the foreground on the old binaries; stop it (Ctrl-C or monitor.py --stop) and start it again" >&2
fi
# ASM's hooks (Claude Code) and plugin (OpenCode), for every platform found; ASM_INSTALL_HOOKS=0 opts out.
if [ "${ASM_INSTALL_HOOKS:-1}" != 0 ]; then
  "$skill/scripts/asm_session_manager" --install-hooks || echo "install.sh: warning: ASM's hooks were not installed (see above); run $skill/scripts/session_manager.py --install-hooks" >&2
else
  echo "ASM_INSTALL_HOOKS=0: hooks not installed (session_manager.py --install-hooks installs them)"
fi
