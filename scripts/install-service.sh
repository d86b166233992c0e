#!/usr/bin/env bash
# Installs a systemd user unit, asm-monitor.service, that runs the installed monitor in the
# foreground (systemd does the supervising) and restarts it if it ever exits.
#
# The unit's PATH holds the directories where openclaw, claude, opencode (and node, which the
# npm-installed ones need) were found now, plus the usual ones: a systemd user service does
# not see the PATH of a login shell (nvm, ~/.npm-global). ASM_* settings go into
# <state dir>/asm.env (created 0600 if missing), read as the unit's EnvironmentFile and by
# every ASM tool; `systemctl --user reload asm-monitor` applies a change without a restart.
set -euo pipefail
home=${OPENCLAW_HOME:-$HOME}
state_dir=${OPENCLAW_STATE_DIR:-$home/.openclaw}
[ -n "${OPENCLAW_PROFILE:-}" ] && [ "$OPENCLAW_PROFILE" != default ] && [ -z "${OPENCLAW_STATE_DIR:-}" ] && state_dir=$home/.openclaw-$OPENCLAW_PROFILE
bin=$state_dir/skills/auto-session-manager/scripts/asm_monitor
[ -x "$bin" ] || { echo "install-service.sh: error: $bin is missing; run make install first" >&2; exit 2; }

# PATH: where the platform tools are now, then the usual directories; each once.
service_path=
add_dir() { case ":$service_path:" in *":$1:"*) ;; *) service_path=${service_path:+$service_path:}$1 ;; esac; }
for tool in openclaw claude opencode node; do
  found=$(command -v "$tool" 2>/dev/null || true)
  [ -n "$found" ] && add_dir "$(dirname "$found")"
done
for dir in "$HOME/.local/bin" /usr/local/bin /usr/bin /bin; do add_dir "$dir"; done

settings=$state_dir/asm.env
if [ ! -e "$settings" ]; then
  mkdir -p "$state_dir"
  (umask 077 && cat > "$settings" <<'ENV'
# auto-session-manager settings: ASM_* variables, one KEY=value per line (see SKILL.md).
# Every ASM tool reads this file; a value here beats the same variable in the environment.
# After a change: systemctl --user reload asm-monitor (or restart it).
# ASM_CONTEXT_THRESHOLD=80
ENV
  )
  echo "wrote $settings"
fi

unit_dir=${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user
mkdir -p "$unit_dir"
cat > "$unit_dir/asm-monitor.service" <<UNIT
[Unit]
Description=auto-session-manager monitor (sessions, OpenClaw gateway, MiniMax quota)
After=default.target

[Service]
ExecStart=$bin --mode foreground
ExecReload=/bin/kill -HUP \$MAINPID
Environment=OPENCLAW_STATE_DIR=$state_dir
Environment=PATH=$service_path
EnvironmentFile=-$settings
Restart=on-failure
RestartSec=10

[Install]
WantedBy=default.target
UNIT
echo "wrote $unit_dir/asm-monitor.service (PATH=$service_path)"
# A daemon started by hand would hold the pid file and keep the unit from starting.
"$bin" --stop >/dev/null || true
if systemctl --user daemon-reload 2>/dev/null; then
  systemctl --user enable asm-monitor.service
  systemctl --user restart asm-monitor.service
  echo "asm-monitor.service enabled and started: systemctl --user status asm-monitor; journalctl --user -u asm-monitor"
else
  echo "systemd user session not reachable: enable it later with: systemctl --user enable --now asm-monitor.service"
fi
