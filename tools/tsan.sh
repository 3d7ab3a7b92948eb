#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ThreadSanitizer: build threadprof's core with -fsanitize=thread against a
# free-threaded CPython that is itself built with --with-thread-sanitizer
# (tools/pythons/build_ft.sh --tsan), and run the tests where threads race the
# profiler hardest: the thread storm, start/stop under thread churn, the
# free-threaded exactness tests, and event loops in several threads. Fails if any report names threadprof's core
# (a frame in _core); reports entirely inside CPython are listed, not failed.
#
#   tools/tsan.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${THREADPROF_CACHE:-/var/cache/threadprof}
py=$CACHE/python3.13t-tsan/bin/python3.13t
if [[ ! -x $py ]]; then
    bash tools/pythons/build_ft.sh --tsan
fi
venv=$ROOT/.test-venvs/tsan-3.13t
if [[ ! -x $venv/bin/python ]]; then
    "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --prefer-binary meson-python meson ninja pytest
"$venv/bin/python" -m pip install -q --no-build-isolation \
    -Csetup-args=-Db_sanitize=thread -Csetup-args=-Db_lundef=false \
    -Cbuild-dir="$venv/build" .
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0
TSAN_OPTIONS="halt_on_error=0:exitcode=0:log_path=$logs/tsan:second_deadlock_stack=1" \
    THREADPROF_STORM_SPAWNERS=${THREADPROF_STORM_SPAWNERS:-10} \
    "$venv/bin/python" -P -m pytest -q -p no:cacheprovider \
    tests/integration/test_storm.py \
    "tests/integration/test_lifecycle.py::test_start_stop_toggled_many_times_under_thread_churn" \
    tests/integration/test_free_threaded.py tests/integration/test_asyncio.py \
    tests/integration/test_tasks.py \
    --deselect "tests/integration/test_tasks.py::test_past_the_most_tasks_a_thread_records_the_rest_are_its_own_calls" \
    "$@" || status=$?
ours=0
theirs=0
shopt -s nullglob
for log in "$logs"/tsan*; do
    # one file per process; reports are separated by "=================="
    while IFS= read -r -d '' report; do
        if grep -q "_core\.cpython\|src/_core/" <<<"$report"; then
            ours=$((ours + 1))
            printf '%s\n' "$report" >&2
        elif grep -q "WARNING: ThreadSanitizer" <<<"$report"; then
            theirs=$((theirs + 1))
        fi
    done < <(awk 'BEGIN{RS="==================\n"} {printf "%s%c", $0, 0}' "$log")
done
echo "tsan: $ours report(s) in threadprof, $theirs inside CPython only"
if ((ours > 0)); then
    status=1
fi
exit $status
