#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# A Debian sid chroot with CPython 3.14 and 3.15 (and the tools the test
# suite uses), in $THREADPROF_CACHE/sid (default /var/cache/threadprof/sid).
# The host's Debian 12 cannot install sid's python3.14/3.15 packages, and its
# own debootstrap fails on sid ("Tried to extract package, but file already
# exists"), so sid's debootstrap is downloaded and used. A no-op when the
# chroot exists with the same package list (its .threadprof-ready marker);
# about two minutes otherwise. Run tools/pythons/in_chroot.sh to use it.
set -euo pipefail
CACHE=${THREADPROF_CACHE:-/var/cache/threadprof}
MIRROR=http://deb.debian.org/debian
PACKAGES="gcc libc6-dev make valgrind gdb chromium golang-go ca-certificates python3.14 python3.14-dev python3.14-venv libpython3.14-testsuite python3.15 python3.15-dev python3.15-venv libpython3.15-testsuite"
root=$CACHE/sid
mkdir -p "$CACHE"
exec 9>"$CACHE/sid.lock"
flock 9

if [[ -f $root/.threadprof-ready && $(cat "$root/.threadprof-ready") == "$PACKAGES" ]]; then
    echo "sid_chroot: $root is there"
    exit 0
fi

work=$(mktemp -d "$CACHE/.sid-tools.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [[ ! -x $root/usr/bin/apt-get ]]; then
    # sid's debootstrap, through a private apt configuration
    mkdir -p "$work/lists/partial" "$work/archives/partial"
    echo "deb $MIRROR sid main" >"$work/sources.list"
    apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::archives=$work/archives"
        -o "APT::Sandbox::User=root")
    apt-get "${apt_opts[@]}" -qq update
    (cd "$work" && apt-get "${apt_opts[@]}" -qq download debootstrap)
    dpkg-deb -x "$work"/debootstrap_*.deb "$work/ds"
    stage=$CACHE/.sid.new
    rm -rf "$stage"
    echo "sid_chroot: debootstrap sid (log: $CACHE/sid-debootstrap.log)"
    DEBOOTSTRAP_DIR=$work/ds/usr/share/debootstrap \
        "$work/ds/usr/sbin/debootstrap" --variant=minbase sid "$stage" "$MIRROR" \
        >"$CACHE/sid-debootstrap.log" 2>&1 || {
        tail -20 "$CACHE/sid-debootstrap.log" >&2
        exit 1
    }
    rm -rf "$root"
    mv "$stage" "$root"
fi
# pip inside needs the host's CA bundle, apt and pip its DNS
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" 2>/dev/null ||
    { mkdir -p "$root/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
# A registry that mirrors sid may serve a Release file past its Valid-Until
# date (the host's apt is told to accept it): so is the chroot's.
CHROOT_APT_OPTS="-o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false"
echo "sid_chroot: installing $PACKAGES (log: $CACHE/sid-packages.log)"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2086
sh "$here/in_chroot.sh" "$root" "" sh -c \
    "apt-get $CHROOT_APT_OPTS update -qq && DEBIAN_FRONTEND=noninteractive apt-get $CHROOT_APT_OPTS install -y -qq --no-install-recommends $PACKAGES" \
    >"$CACHE/sid-packages.log" 2>&1 </dev/null || {
    tail -20 "$CACHE/sid-packages.log" >&2
    exit 1
}
echo "$PACKAGES" >"$root/.threadprof-ready"
echo "sid_chroot: $root is ready"
