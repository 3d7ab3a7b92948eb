#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build a free-threaded CPython 3.13 (3.13t) from the source tarball Debian's
# archive serves, into $THREADPROF_CACHE (default /var/cache/threadprof):
#
#   tools/pythons/build_ft.sh           # -> python3.13t/bin/python3.13t
#   tools/pythons/build_ft.sh --tsan    # -> python3.13t-tsan (--with-thread-sanitizer)
#
# A no-op when the interpreter is already there and runs. About ten minutes
# on two cores otherwise. Builds into a temporary prefix and renames it into
# place, so an interrupted build leaves nothing half-made; a lock makes a
# second caller wait for the first.
set -euo pipefail
CACHE=${THREADPROF_CACHE:-/var/cache/threadprof}
VERSION=3.13.15
URL=http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_$VERSION.orig.tar.xz
SHA256=1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76

name=python3.13t
configure_extra=()
if [[ ${1:-} == --tsan ]]; then
    name=python3.13t-tsan
    configure_extra=(--with-thread-sanitizer)
fi
prefix=$CACHE/$name
mkdir -p "$CACHE/src"
exec 9>"$CACHE/$name.lock"
flock 9

if "$prefix/bin/python3.13t" -c 'import sys; sys.exit(sys._is_gil_enabled())' 2>/dev/null; then
    echo "build_ft: $prefix/bin/python3.13t is there"
    exit 0
fi

need=()
for pkg in build-essential libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev \
    libsqlite3-dev libreadline-dev uuid-dev libgdbm-dev libncurses-dev xz-utils; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
    echo "build_ft: installing ${need[*]}"
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null
fi

tarball=$CACHE/src/python3.13_$VERSION.orig.tar.xz
if ! echo "$SHA256  $tarball" | sha256sum -c --status 2>/dev/null; then
    curl -fsSL -o "$tarball.part" "$URL"
    echo "$SHA256  $tarball.part" | sha256sum -c --status || {
        echo "build_ft: $URL does not have the expected sha256" >&2
        exit 1
    }
    mv "$tarball.part" "$tarball"
fi

work=$(mktemp -d "$CACHE/src/build-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xJf "$tarball" -C "$work"
src=$(echo "$work"/Python-*)
stage=$CACHE/.$name.new
rm -rf "$stage"
log=$CACHE/src/$name-build.log
echo "build_ft: building $name (log: $log)"
(
    cd "$src"
    ./configure --disable-gil --with-ensurepip=install --prefix="$prefix" \
        "${configure_extra[@]}"
    make -j"$(nproc)"
    make install DESTDIR="$stage"
) >"$log" 2>&1 || {
    tail -30 "$log" >&2
    echo "build_ft: the build failed; see $log" >&2
    exit 1
}
rm -rf "$prefix"
mv "$stage$prefix" "$prefix"
rm -rf "$stage"
"$prefix/bin/python3.13t" -c 'import sys; print("build_ft:", sys.version)'
