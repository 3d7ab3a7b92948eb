# SPDX-License-Identifier: MIT
"""The CPython interpreters of this machine: found, probed, and chosen one per X.Y.

Shared by tools/run_tests.py (which tests on every one) and bench/run.py
(which measures on the ones asked for). Interpreters come from pyenv and
PATH, and from /var/cache/threadprof (``THREADPROF_CACHE``): a free-threaded
3.13 (``3.13t``, build_ft.sh) and Debian sid's 3.14 and 3.15 in a chroot
(sid_chroot.sh), which :func:`provision` makes when they are missing and
whose commands run through in_chroot.sh (:meth:`Interpreter.cmd`).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MIN_VERSION = (3, 11)
REQUIRED_VERSION = (3, 12)  # at least one interpreter with PyEval_SetProfileAllThreads
CANDIDATE_MINORS = range(11, 16)
# Interpreters provisioned outside the clone (tools/pythons/): a free-threaded
# 3.13 built from source, and Debian sid's 3.14 and 3.15 in a chroot.
CACHE = Path(os.environ.get("THREADPROF_CACHE", "/var/cache/threadprof"))
FT_PYTHON = CACHE / "python3.13t" / "bin" / "python3.13t"
SID_ROOT = CACHE / "sid"
SID_MINORS = (14, 15)
IN_CHROOT = ROOT / "tools" / "pythons" / "in_chroot.sh"

# Asked of every candidate interpreter; one JSON line back.
PROBE = r"""
import json, os, sys, sysconfig
inc = sysconfig.get_paths().get("include") or ""
try:
    import ensurepip  # noqa: F401
    has_ensurepip = True
except ImportError:
    has_ensurepip = False
print(json.dumps({
    "executable": os.path.realpath(sys.executable),
    "version": list(sys.version_info[:3]),
    "implementation": sys.implementation.name,
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "has_headers": os.path.exists(os.path.join(inc, "Python.h")),
    "has_ensurepip": has_ensurepip,
}))
"""


@dataclass
class Interpreter:
    executable: str  # as the interpreter sees it (inside its chroot, if any)
    version: tuple[int, int, int]
    found_as: str
    usable: bool = True
    why_not: str = ""
    free_threaded: bool = False
    chroot: str | None = None  # runs inside this chroot (tools/pythons/in_chroot.sh)

    @property
    def vstr(self) -> str:
        """3.13.1, or 3.13.15t for a free-threaded build."""
        return ".".join(map(str, self.version)) + ("t" if self.free_threaded else "")

    @property
    def minor(self) -> str:
        """3.13, or 3.13t: one interpreter of each is tested."""
        return ".".join(map(str, self.version[:2])) + ("t" if self.free_threaded else "")

    def cmd(self, argv: list[str]) -> list[str]:
        """A command line that runs `argv` where this interpreter lives."""
        if self.chroot is None:
            return argv
        return ["sh", str(IN_CHROOT), self.chroot, str(ROOT), *argv]


# -- discovery ---------------------------------------------------------------


def pyenv_root() -> Path | None:
    exe = shutil.which("pyenv")
    if exe:
        try:
            out = subprocess.run(
                [exe, "root"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            if out:
                return Path(out)
        except (OSError, subprocess.SubprocessError):
            pass
    env = os.environ.get("PYENV_ROOT")
    if env and Path(env).is_dir():
        return Path(env)
    home = Path.home() / ".pyenv"
    return home if home.is_dir() else None


def candidate_paths() -> list[tuple[str, str]]:
    """(path, how it was found) for every interpreter that might qualify."""
    found: list[tuple[str, str]] = []
    root = pyenv_root()
    if root is not None:
        pattern = str(root / "versions" / "*" / "bin" / "python3.*")
        for path in sorted(glob.glob(pattern)):
            if re.fullmatch(r"python3\.\d+", os.path.basename(path)):
                found.append((path, "pyenv"))
    for minor in CANDIDATE_MINORS:
        path = shutil.which(f"python3.{minor}")
        if path:
            found.append((path, "PATH"))
    for name in ("python3",):
        path = shutil.which(name)
        if path:
            found.append((path, "PATH"))
    found.append((sys.executable, "running"))
    if FT_PYTHON.exists():
        found.append((str(FT_PYTHON), "cache"))
    return found


def chroot_candidates() -> list[tuple[str, str]]:
    """(path inside the chroot, chroot) for Debian sid's interpreters."""
    if os.geteuid() != 0 or not (SID_ROOT / ".threadprof-ready").exists():
        return []
    return [
        (f"/usr/bin/python3.{m}", str(SID_ROOT))
        for m in SID_MINORS
        if (SID_ROOT / "usr" / "bin" / f"python3.{m}").exists()
    ]


def provision() -> None:
    """Make the free-threaded 3.13 and the sid chroot if they are missing
    (each script is a no-op when its result is there, and waits for another
    run of itself). A failure is reported and the run goes on without them."""
    for script, args, what in (
        ("build_ft.sh", [], "free-threaded 3.13 (3.13t)"),
        ("sid_chroot.sh", [], "CPython 3.14 and 3.15 (Debian sid chroot)"),
    ):
        path = ROOT / "tools" / "pythons" / script
        proc = subprocess.run(["bash", str(path), *args], stdin=subprocess.DEVNULL, check=False)
        if proc.returncode != 0:
            print(f"WARNING: could not provision {what}; going on without it", flush=True)


def probe(path: str, found_as: str, chroot: str | None = None) -> Interpreter | None:
    env = clean_env()
    argv = [path, "-c", PROBE]
    if chroot is not None:
        argv = ["sh", str(IN_CHROOT), chroot, "", *argv]
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None  # e.g. a pyenv shim for a command the selected version lacks
    try:
        info = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    interp = Interpreter(
        info["executable"],
        tuple(info["version"]),
        found_as,
        free_threaded=info["free_threaded"],
        chroot=chroot,
    )
    if info["implementation"] != "cpython":
        return None
    if interp.version[:2] < MIN_VERSION:
        return None
    if not info["has_headers"]:
        interp.usable, interp.why_not = False, "no Python.h (install the -dev package)"
    elif not info["has_ensurepip"]:
        interp.usable, interp.why_not = False, "no ensurepip (install the -venv package)"
    return interp


def discover() -> tuple[list[Interpreter], list[Interpreter]]:
    """(chosen, rejected): one interpreter per X.Y, the newest usable patch release."""
    seen: dict[str, Interpreter] = {}
    for path, how in candidate_paths():
        real = os.path.realpath(path)
        if real in seen:
            continue
        interp = probe(path, how)
        if interp is None:
            continue
        # a shim resolves to the real executable, which may already be known
        seen.setdefault(interp.executable, interp)
        seen.setdefault(real, interp)
    for path, chroot in chroot_candidates():
        interp = probe(path, "Debian sid chroot", chroot)
        if interp is not None:
            seen.setdefault(f"{chroot}:{interp.executable}", interp)
    unique = {(i.chroot, i.executable): i for i in seen.values()}.values()
    best: dict[str, Interpreter] = {}
    rejected: list[Interpreter] = []
    for interp in sorted(unique, key=lambda i: (i.usable, i.version), reverse=True):
        if not interp.usable:
            rejected.append(interp)
        elif interp.minor in best:
            interp.why_not = f"older or same patch as {best[interp.minor].executable}"
            rejected.append(interp)
        else:
            best[interp.minor] = interp
    chosen = sorted(best.values(), key=lambda i: i.version)
    return chosen, rejected


def select(chosen: list[Interpreter], wanted: list[str]) -> list[Interpreter]:
    """Keep the interpreters named by ``--python`` (a version prefix or a path)."""
    if not wanted:
        return chosen
    out: list[Interpreter] = []
    for want in wanted:
        for item in want.split(","):
            item = item.strip()
            if not item:
                continue
            if os.sep in item:
                interp = probe(item, "--python")
                if interp is None or not interp.usable:
                    why = interp.why_not if interp else "not a CPython >= 3.11"
                    sys.exit(f"{item}: {why}")
                hits = [interp]
            else:
                hits = [
                    i
                    for i in chosen
                    if item in (i.vstr, i.minor)
                    or (not i.free_threaded and i.vstr.startswith(item + "."))
                ]
                if not hits:
                    have = ", ".join(i.vstr for i in chosen) or "none"
                    sys.exit(f"no Python {item} found (found: {have})")
            out.extend(h for h in hits if h not in out)
    return out


# -- environments ---------------------------------------------------------------


def clean_env(venv: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"):
        env.pop(var, None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = str(venv / "bin") + os.pathsep + env.get("PATH", "")
    return env
