#!/bin/sh
# The files of the container image, as the Dockerfile's build stage makes
# them and CI makes them without Docker (.ci/package):
#
#   packaging/imageroot.sh DIR
#
#   DIR/rootfs/healthcare                          the static binary (build.sh)
#   DIR/rootfs/etc/ssl/certs/ca-certificates.crt   to verify PostgreSQL and Redis over TLS
#   DIR/rootfs/tmp/                                1777, as any /tmp
#   DIR/state/data/                                the database volume, owned by the image's user
set -eu
dir=${1:?usage: packaging/imageroot.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/rootfs/etc/ssl/certs" "$dir/rootfs/tmp" "$dir/state/data"
chmod 1777 "$dir/rootfs/tmp"
chmod 0700 "$dir/state/data"
cp /etc/ssl/certs/ca-certificates.crt "$dir/rootfs/etc/ssl/certs/"
"$here/build.sh" "$dir/rootfs/healthcare"
