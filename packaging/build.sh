#!/bin/sh
# The static binary that the container image and the .deb ship:
#
#   packaging/build.sh OUTPUT
#
# CGO_ENABLED=0 (the SQLite driver is pure Go, so the binary needs no libc),
# no paths of the build machine (-trimpath), stripped, with the version,
# commit and build date that `healthcare version` prints. VERSION, COMMIT and
# DATE override what is read from git and the clock; the Dockerfile passes
# them as build arguments, since .git is not in its build context.
#
# VERSION defaults to the v* tag on HEAD without its v (1.4.0), else to
# 0.0.0~git<commit time>.<short commit>, which sorts below any release in
# dpkg's order and above the commits before it.
set -eu
out=${1:?usage: packaging/build.sh OUTPUT}
cd "$(dirname "$0")/.."

if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
	if [ -z "${COMMIT:-}" ]; then
		COMMIT=$(git rev-parse HEAD)
		if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
			COMMIT="$COMMIT-dirty"
		fi
	fi
	if [ -z "${VERSION:-}" ]; then
		if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
			VERSION=${tag#v}
		else
			VERSION="0.0.0~git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S).$(git rev-parse --short=7 HEAD)"
		fi
	fi
fi
VERSION=${VERSION:-0.0.0~dev}
if [ -z "${DATE:-}" ]; then
	if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
		DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
	else
		DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	fi
fi

CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X main.version=$VERSION -X main.commit=${COMMIT:-} -X main.date=$DATE" \
	-o "$out" .
