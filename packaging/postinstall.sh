#!/bin/sh
# After install or upgrade: reload units; on upgrade, restart a running
# service so it runs the new binary (it migrates at start).
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	if [ -n "${2:-}" ]; then
		systemctl try-restart healthcare.service || true
	fi
fi
if [ -z "${2:-}" ]; then
	echo "healthcare: configure /etc/healthcare/env (healthcare help lists the variables), then: systemctl enable --now healthcare"
fi
