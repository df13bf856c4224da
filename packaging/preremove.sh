#!/bin/sh
# Before removal (not upgrade): stop and disable the service.
set -e
if [ "${1:-}" = "remove" ] && [ -d /run/systemd/system ]; then
	systemctl disable --now healthcare.service || true
fi
