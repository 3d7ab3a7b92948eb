#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Run a command inside a chroot with a host directory at the same path:
#
#   tools/pythons/in_chroot.sh CHROOT DIR CMD [ARGS...]
#
# DIR (may be empty) is bind-mounted at the same path inside, so paths read
# the same in and out; /proc, /dev, /dev/pts and /dev/shm are mounted too. The
# script re-runs itself in a private mount namespace (unshare), so every mount
# disappears with the command, and it execs the command: its exit status,
# standard streams and signals are the command's own.
set -eu
if [ "${THREADPROF_IN_NS:-}" != 1 ]; then
    THREADPROF_IN_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
unset THREADPROF_IN_NS
root=$1
dir=$2
shift 2
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
if [ -n "$dir" ]; then
    mkdir -p "$root$dir"
    mount --bind "$dir" "$root$dir"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# the host's CA bundle (a registry's own CA may be in it): installing Debian's
# ca-certificates inside regenerates the chroot's without it
mkdir -p "$root/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
cd "$root${dir:-/}"
exec chroot "$root" sh -c 'cd "$1" && shift && exec "$@"' sh "${dir:-/}" "$@"
