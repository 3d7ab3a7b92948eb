#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Check (or with --fix, apply) the pinned C style of .clang-format on every C
# source and header tracked by git: src/_core, include/, tests/c, tests/embed,
# examples and bench alike.
#
#   tools/check_c_format.sh          # exit 1 and show the diffs if any file is off
#   tools/check_c_format.sh --fix    # rewrite the files in place
#
# Only clang-format 14 is accepted (see .clang-format): another major version
# would disagree on some constructs and make CI flap. Set CLANG_FORMAT to use a
# binary by another name, e.g. CLANG_FORMAT=clang-format-14.
set -euo pipefail

PINNED_MAJOR=14
cd "$(dirname "$0")/.."

clang_format=${CLANG_FORMAT:-}
if [[ -z $clang_format ]]; then
    for candidate in "clang-format-$PINNED_MAJOR" clang-format; do
        if command -v "$candidate" >/dev/null 2>&1; then
            clang_format=$candidate
            break
        fi
    done
fi
if [[ -z $clang_format ]]; then
    echo "check_c_format: clang-format $PINNED_MAJOR not found" \
        "(Debian/Ubuntu: apt-get install clang-format)" >&2
    exit 2
fi
version=$("$clang_format" --version)
major=$(sed -E 's/.*version ([0-9]+)\..*/\1/' <<<"$version")
if [[ $major != "$PINNED_MAJOR" ]]; then
    echo "check_c_format: need clang-format $PINNED_MAJOR, $clang_format is: $version" >&2
    exit 2
fi

mapfile -t files < <(git ls-files -- '*.c' '*.h')
if ((${#files[@]} == 0)); then
    echo "check_c_format: no C files tracked"
    exit 0
fi

if [[ ${1:-} == --fix ]]; then
    "$clang_format" --style=file -i "${files[@]}"
    echo "check_c_format: formatted ${#files[@]} files"
    exit 0
fi

bad=0
for f in "${files[@]}"; do
    if ! "$clang_format" --style=file "$f" | diff -u --label "$f" --label "$f (clang-format)" "$f" -; then
        bad=$((bad + 1))
    fi
done
if ((bad)); then
    echo "check_c_format: $bad of ${#files[@]} C files are not formatted;" \
        "run tools/check_c_format.sh --fix" >&2
    exit 1
fi
echo "check_c_format: ${#files[@]} C files OK ($version)"
