#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Compile the C core against the headers of a CPython that is not installed
# here (default 3.14), taken from Debian's python3.X-dev packages in sid. Only
# a syntax-and-types check (-fsyntax-only) with warnings as errors: it proves
# that the version checks in src/_core/compat.h cover that release's API.
#
#   tools/check_headers.sh          # 3.14
#   tools/check_headers.sh 3.15     # another version, if Debian has it
#   tools/check_headers.sh 3.15 ft  # as for the free-threaded build (3.15t):
#                                   # Py_GIL_DISABLED defined
set -euo pipefail
ver=${1:-3.14}
ft=()
if [[ ${2:-} == ft ]]; then
    ft=(-DPy_GIL_DISABLED=1)
fi
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial"
echo "deb http://deb.debian.org/debian sid main" >"$work/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::archives=$work/archives"
    -o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" -qq update
(cd "$work" && apt-get "${apt_opts[@]}" -qq download "libpython$ver-dev" "python$ver-dev")
for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
done
inc="$work/root/usr/include"
test -f "$inc/python$ver/Python.h"
status=0
for src in src/_core/*.c; do
    if ! gcc -std=c11 -D_GNU_SOURCE "${ft[@]}" -Wall -Wextra -Werror -fsyntax-only \
        -I"$inc" -I"$inc/python$ver" -Isrc/_core -Iinclude "$src"; then
        status=1
    fi
done
if [[ $status -eq 0 ]]; then
    echo "check_headers: src/_core compiles against CPython $ver's headers${ft:+ (Py_GIL_DISABLED)}"
fi
exit $status
