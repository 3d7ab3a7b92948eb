# SPDX-License-Identifier: MIT
"""Run threadprof's test suite on every CPython >= 3.11 found on this machine.

Usage::

    python3 tools/run_tests.py [--python 3.12] [--keep-going] [pytest args...]

For each interpreter it creates (or reuses) a virtual environment under
``.test-venvs/<version>/``, builds and installs threadprof into it as a real,
non-editable wheel together with its ``test`` extras, and runs ``python -m
pytest`` against the installed package. Options it does not know are passed to
pytest (``-k expr``, ``-m memcheck``, ``-x``, test paths, ...); ``--`` ends its
own options explicitly.

Interpreters come from pyenv and PATH, and from /var/cache/threadprof
(``THREADPROF_CACHE``), which it fills first unless ``--no-provision`` is
given: a free-threaded 3.13 (``3.13t``, tools/pythons/build_ft.sh) and
Debian sid's 3.14 and 3.15 in a chroot (tools/pythons/sid_chroot.sh), whose
every step (venv, pip, pytest) runs inside the chroot through
tools/pythons/in_chroot.sh with the repository at the same path. ``--python
3.13t`` selects the free-threaded build.

Why each step is the way it is:

* The build runs with ``--no-build-isolation`` against meson-python, meson and
  ninja installed once into the venv, and with a persistent meson build
  directory per venv, so a repeat run only recompiles the C files that changed.
* pytest runs with ``python -P`` from the repository root: ``-P`` keeps the
  current directory off ``sys.path``, ``PYTHONPATH`` is removed from the
  environment, and the package lives under ``src/`` anyway, so ``import
  threadprof`` can only find the installed copy. A check before pytest starts
  proves it.
* pytest's exit status 5 ("no tests collected") counts as a failure: a run
  that tests nothing must not pass.

The last line printed is ``N passed, N failed, N skipped`` summed over all
versions; a version whose environment could not be built counts as one failure.
The exit status is 0 only if every version passed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "pythons"))
from interpreters import (
    MIN_VERSION,
    REQUIRED_VERSION,
    ROOT,
    Interpreter,
    clean_env,
    discover,
    provision,
    select,
)

VENVS = ROOT / ".test-venvs"
# test extras with no wheel for a free-threaded CPython (their tests skip)
NO_FT_WHEEL = {"grpcio-tools"}


@dataclass
class Result:
    interp: Interpreter
    status: str = "not run"  # passed | failed | error | not run
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "passed"


def log(msg: str = "") -> None:
    print(msg, flush=True)


def banner(msg: str) -> None:
    width = max(20, min(100, shutil.get_terminal_size((100, 20)).columns))
    log(f" {msg} ".center(width, "="))


def build_requires() -> list[str]:
    """The ``[build-system] requires`` of pyproject.toml."""
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        data = tomllib.load(f)
    return list(data.get("build-system", {}).get("requires", []))


def deps_fingerprint() -> str:
    """Changes when the dependencies to pre-install may have changed."""
    h = hashlib.sha256()
    h.update((ROOT / "pyproject.toml").read_bytes())
    return h.hexdigest()[:16]


class StepFailed(Exception):
    pass


def run_logged(cmd: list[str], logfile: Path, env: dict[str, str], what: str) -> None:
    with open(logfile, "a") as f:
        f.write(f"\n$ {' '.join(cmd)}\n")
        f.flush()
        proc = subprocess.run(
            cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=ROOT, stdin=subprocess.DEVNULL
        )
    if proc.returncode != 0:
        tail = logfile.read_text(errors="replace").splitlines()[-60:]
        log("\n".join(tail))
        raise StepFailed(f"{what} failed (exit {proc.returncode}); full log: {logfile}")


def venv_matches(venv: Path, interp: Interpreter) -> bool:
    cfg = venv / "pyvenv.cfg"
    py = venv / "bin" / "python"
    if not cfg.exists() or not py.exists():
        return False
    home = ""
    for line in cfg.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home":
            home = value.strip()
    return os.path.realpath(home) == os.path.dirname(interp.executable)


def prepare(interp: Interpreter, *, recreate: bool, install: bool) -> Path:
    """Create or reuse the venv and install the current tree into it."""
    venv = VENVS / interp.vstr
    logfile = venv.parent / f"{interp.vstr}.install.log"
    VENVS.mkdir(exist_ok=True)
    logfile.write_text(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {interp.executable}\n")
    env = clean_env()
    if recreate or (venv.exists() and not venv_matches(venv, interp)):
        log(f"removing {venv.relative_to(ROOT)}")
        shutil.rmtree(venv)
    if not venv.exists():
        log(f"creating {venv.relative_to(ROOT)}")
        run_logged(
            interp.cmd([interp.executable, "-m", "venv", str(venv)]), logfile, env, "venv creation"
        )
    py = str(venv / "bin" / "python")
    venv_env = clean_env(venv)
    stamp = venv / ".threadprof-deps"
    fingerprint = deps_fingerprint()
    fresh = not stamp.exists() or stamp.read_text().strip() != fingerprint
    pip = [py, "-m", "pip", "install", "-q"]
    if interp.free_threaded:
        # wheels first: newer releases of some test dependencies have no
        # free-threaded wheel yet, and their source builds need more than PyPI
        pip.append("--prefer-binary")
    if fresh:
        log("installing build and test dependencies")
        run_logged(interp.cmd([*pip, "--upgrade", "pip"]), logfile, venv_env, "pip upgrade")
        run_logged(
            interp.cmd(pip + build_requires()), logfile, venv_env, "installing build requirements"
        )
        if interp.free_threaded:
            extras = [d for d in test_requires() if requirement_name(d) not in NO_FT_WHEEL]
            run_logged(interp.cmd(pip + extras), logfile, venv_env, "installing test requirements")
    if install or fresh:
        builddir = venv / "build"
        cmd = [
            py,
            "-m",
            "pip",
            "install",
            "--no-build-isolation",
            f"--config-settings=build-dir={builddir}",
            "--force-reinstall",
            "." if interp.free_threaded else ".[test]",
        ]
        if not fresh or interp.free_threaded:
            # dependencies are in place; rebuild and reinstall threadprof alone
            cmd.insert(cmd.index("--force-reinstall") + 1, "--no-deps")
        log(f"building and installing threadprof (log: {logfile.relative_to(ROOT)})")
        cmd = interp.cmd(cmd)
        try:
            run_logged(cmd, logfile, venv_env, "build and install")
        except StepFailed:
            if not builddir.exists():
                raise
            # a build directory left by another meson version or a broken
            # configure: start it afresh once before giving up
            log("retrying with a fresh build directory")
            shutil.rmtree(builddir)
            run_logged(cmd, logfile, venv_env, "build and install")
        stamp.write_text(fingerprint + "\n")
    check_import(venv, logfile, interp)
    return venv


def test_requires() -> list[str]:
    """The ``test`` extra of pyproject.toml."""
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        data = tomllib.load(f)
    return list(data["project"]["optional-dependencies"]["test"])


def requirement_name(req: str) -> str:
    return re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].strip().lower()


def check_import(venv: Path, logfile: Path, interp: Interpreter) -> None:
    """Prove that ``import threadprof`` resolves to the venv, not to src/."""
    code = (
        "import threadprof, threadprof._core, os; "
        "print(os.path.realpath(threadprof.__file__)); "
        "print(os.path.realpath(threadprof._core.__file__))"
    )
    proc = subprocess.run(
        interp.cmd([str(venv / "bin" / "python"), "-P", "-c", code]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_env(venv),
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        with open(logfile, "a") as f:
            f.write(proc.stdout + proc.stderr)
        log(proc.stderr.rstrip())
        raise StepFailed("the installed threadprof does not import")
    real_venv = os.path.realpath(venv)
    for path in proc.stdout.split():
        if not path.startswith(real_venv + os.sep):
            raise StepFailed(f"import threadprof found {path}, outside {venv}")
    log(f"testing {proc.stdout.split()[0]}")


# -- pytest ---------------------------------------------------------------------


def run_pytest(venv: Path, interp: Interpreter, args: list[str], result: Result) -> None:
    junit = venv / "junit.xml"
    if junit.exists():
        junit.unlink()
    cmd = [
        str(venv / "bin" / "python"),
        "-P",  # the current directory stays off sys.path
        "-m",
        "pytest",
        f"--rootdir={ROOT}",
        "-o",
        f"cache_dir={venv / '.pytest_cache'}",
        f"--junitxml={junit}",
        "-o",
        "junit_family=xunit2",
        *args,
    ]
    log("$ " + " ".join([*cmd[:1], "-P", "-m", "pytest", *args]))
    env = clean_env(venv)
    env["THREADPROF_TEST_INSTALLED"] = "1"  # lets a test check where threadprof came from
    proc = subprocess.run(interp.cmd(cmd), cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    if junit.exists():
        try:
            read_junit(junit, result)
        except ET.ParseError as exc:
            result.notes.append(f"unreadable junit report: {exc}")
    code = proc.returncode
    if code == 0:
        result.status = "passed"
    elif code == 1:
        result.status = "failed"
    elif code == 5:
        result.status = "error"
        result.notes.append("pytest collected no tests (exit 5)")
    else:
        result.status = "error"
        result.notes.append(f"pytest exited with status {code}")
    if not result.ok and result.failed + result.errors == 0:
        result.errors = 1  # count a broken run as a failure in the totals


def read_junit(path: Path, result: Result) -> None:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for s in suites:
        tests = int(s.get("tests", 0))
        failures = int(s.get("failures", 0))
        errors = int(s.get("errors", 0))
        skipped = int(s.get("skipped", 0))
        result.failed += failures
        result.errors += errors
        result.skipped += skipped
        result.passed += tests - failures - errors - skipped


# -- main -----------------------------------------------------------------------


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="tools/run_tests.py",
        description="Build threadprof and run its tests on every CPython >= 3.11 found.",
        epilog="Unknown options and arguments are passed to pytest, e.g. -k NAME, -m MARK, -x.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="VERSION|PATH",
        help="test only this version (3.12, 3.12.1) or interpreter; repeatable",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="go on with the next version after one fails (default: stop at the first failure)",
    )
    parser.add_argument("--list", action="store_true", help="list the interpreters found and exit")
    parser.add_argument(
        "--list-paths",
        action="store_true",
        help="print the chosen interpreters' paths, one a line, and exit (for scripts)",
    )
    parser.add_argument(
        "--recreate", action="store_true", help="delete and recreate the virtual environments"
    )
    parser.add_argument(
        "--no-provision",
        action="store_true",
        help="do not build 3.13t or the sid chroot (3.14, 3.15) when they are missing",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="test what is installed in the venv without rebuilding (fast, maybe stale)",
    )
    if "--" in argv:
        i = argv.index("--")
        ours, rest = argv[:i], argv[i + 1 :]
        ns, extra = parser.parse_known_args(ours)
        return ns, extra + rest
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    if sys.version_info < MIN_VERSION:
        sys.exit("run_tests: run me with Python 3.11 or newer")
    ns, pytest_args = parse_args(sys.argv[1:] if argv is None else argv)
    if not (ns.no_provision or ns.list_paths or ns.list):
        provision()
    chosen, rejected = discover()

    if ns.list_paths:
        # interpreters that run on this host (for builds outside a chroot)
        for i in select(chosen, ns.python):
            if i.chroot is None:
                print(i.executable)
        return 0 if any(i.version[:2] >= REQUIRED_VERSION for i in chosen) else 2

    banner("interpreters")
    for i in chosen:
        where = f" in {i.chroot}" if i.chroot else ""
        log(f"  {i.vstr:<9} {i.executable}{where}  (found on {i.found_as})")
    for i in rejected:
        log(f"  skipped   {i.executable} {i.vstr}: {i.why_not}")
    if not any(i.version[:2] >= REQUIRED_VERSION for i in chosen):
        log(
            "run_tests: ERROR: no CPython >= 3.12 found. threadprof's main path "
            "(PyEval_SetProfileAllThreads) needs one: install it, e.g. with pyenv."
        )
        return 2
    if ns.list:
        return 0
    targets = select(chosen, ns.python)

    results: list[Result] = []
    stopped = False
    for interp in targets:
        result = Result(interp)
        results.append(result)
        if stopped:
            result.notes.append("not run: an earlier version failed (use --keep-going)")
            continue
        banner(f"Python {interp.vstr}")
        t0 = time.monotonic()
        try:
            venv = prepare(interp, recreate=ns.recreate, install=not ns.no_install)
            run_pytest(venv, interp, pytest_args, result)
        except StepFailed as exc:
            result.status = "error"
            result.errors = 1
            result.notes.append(str(exc))
            log(f"run_tests: {exc}")
        result.seconds = time.monotonic() - t0
        if not result.ok and not ns.keep_going:
            stopped = True

    banner("summary")
    for r in results:
        counts = f"{r.passed} passed, {r.failed + r.errors} failed, {r.skipped} skipped"
        if r.status == "not run":
            counts = ""
        line = f"  Python {r.interp.vstr:<8} {r.status.upper():<8} {counts}"
        if r.seconds:
            line += f"  ({r.seconds:.1f} s)"
        log(line)
        for note in r.notes:
            log(f"      {note}")
    passed = sum(r.passed for r in results)
    failed = sum(r.failed + r.errors for r in results)
    skipped = sum(r.skipped for r in results)
    all_ok = bool(results) and all(r.ok for r in results)
    if all_ok:
        log(f"all {len(results)} Python versions passed")
    else:
        bad = [r.interp.vstr for r in results if not r.ok]
        log(f"FAILED on Python {', '.join(bad)}")
    log(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
