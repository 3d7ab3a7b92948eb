#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build threadprof with AddressSanitizer and UndefinedBehaviorSanitizer (and
# the test-only fault-injection hooks) into a venv of its own, and run the
# integration tests -- the thread tests and the embedding example included --
# and the .tprof reader and writer with their fuzzing (the C event codec),
# with the sanitizer runtimes preloaded into the (uninstrumented) interpreter
# and PYTHONMALLOC=malloc, so that every allocation is checked. Any report
# aborts the process and fails the run.
#
#   tools/sanitize.sh [PYTHON] [pytest args...]    # default: newest CPython found
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
py=${1:-}
if [[ -z $py ]]; then
    py=$(python3 tools/run_tests.py --list-paths | tail -n 1)
fi
shift || true
ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
venv=$ROOT/.test-venvs/sanitize-$ver
if [[ ! -x $venv/bin/python ]]; then
    "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q meson-python meson ninja
"$venv/bin/python" -m pip install -q --no-build-isolation \
    -Csetup-args=-Db_sanitize=address,undefined -Csetup-args=-Db_lundef=false \
    -Csetup-args=-Dtest_hooks=true -Cbuild-dir="$venv/build" ".[test]"
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
cd "$ROOT"
# leaks are not checked here: the interpreter keeps much alive until exit
LD_PRELOAD="$asan $ubsan" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    PYTHONMALLOC=malloc \
    "$venv/bin/python" -P -m pytest -q -p no:cacheprovider -m "not memcheck" \
    tests/integration tests/cli/test_cli_faults.py tests/exporters/test_tprof.py \
    tests/exporters/test_eventrender.py tests/unit/test_outermost.py \
    tests/unit/test_gather.py tests/unit/test_build_nodes.py tests/unit/test_subtree.py tests/unit/test_regroup.py tests/unit/test_merge.py tests/unit/test_tasksplit.py \
    tests/html/test_html_pageview.py tests/unit/test_pstats_marshal.py \
    tests/unit/test_callgrind_part.py tests/unit/test_pprof_samples.py tests/fuzz "$@"
