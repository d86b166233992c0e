#!/usr/bin/env bash
# Installs a systemd user unit, asm-monitor.service, that runs the installed monitor in the
# foreground (systemd does the supervising) and restarts it if it ever exits.
set -euo pipefail
home=${OPENCLAW_HOME:-$HOME}
state_dir=${OPENCLAW_STATE_DIR:-$home/.openclaw}
[ -n "${OPENCLAW_PROFILE:-}" ] && [ -z "${OPENCLAW_STATE_DIR:-}" ] && state_dir=$home/.openclaw-$OPENCLAW_PROFILE
bin=$state_dir/skills/auto-session-manager/scripts/asm_monitor
[ -x "$bin" ] || { echo "install-service.sh: error: $bin is missing; run make install first" >&2; exit 2; }
unit_dir=${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user
mkdir -p "$unit_dir"
cat > "$unit_dir/asm-monitor.service" <<UNIT
[Unit]
Description=auto-session-manager monitor (sessions, OpenClaw gateway, MiniMax quota)
After=default.target

[Service]
ExecStart=$bin --mode foreground
Environment=OPENCLAW_STATE_DIR=$state_dir
Restart=on-failure
RestartSec=10

[Install]
WantedBy=default.target
UNIT
echo "wrote $unit_dir/asm-monitor.service"
if systemctl --user daemon-reload 2>/dev/null; then
  systemctl --user enable --now asm-monitor.service
  echo "asm-monitor.service enabled and started"
else
  echo "systemd user session not reachable: enable it later with: systemctl --user enable --now asm-monitor.service"
fi
