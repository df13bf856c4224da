#!/bin/sh
# After removal: reload units. The data in /var/lib/private/healthcare is
# kept even on purge: it is a clinic's records; delete it by hand.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
if [ "${1:-}" = "purge" ] && [ -d /var/lib/private/healthcare ]; then
	echo "healthcare: kept the data in /var/lib/private/healthcare; remove it by hand when it is no longer needed"
fi
