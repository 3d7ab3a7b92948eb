# SPDX-License-Identifier: MIT
"""Type stubs for the C extension threadprof._core."""

from collections.abc import Callable
from typing import Any

__version__: str
TEST_HOOKS: int

class ProfilerError(RuntimeError, ValueError): ...

class Profiler:
    def __new__(
        cls,
        timer: Callable[[], float | int] | None = None,
        timeunit: float = 0.0,
        subcalls: bool = True,
        builtins: bool = True,
        *,
        clock: str = "wall",
        cpu: bool = True,
        seed_stacks: bool = False,
    ) -> Profiler: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def clock(self) -> str: ...
    cpu_gap: int
    def enable(self) -> None: ...
    def disable(self) -> None: ...
    def clear(self) -> None: ...
    def _raw_snapshot(self) -> dict[str, Any]: ...

def active() -> Profiler | None: ...
def _fail_alloc_after(n: int) -> None: ...
