# SPDX-License-Identifier: MIT
"""Plain data classes for the modules that every ``threadprof run`` imports.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis`` and
``tokenize``), and making each class compiles generated code: together 15 to
20 ms of CPU time, a third of a profiled empty script's whole run. So the
model, the report and the command line derive their data classes from
:class:`Record` instead. Each class lists its fields in ``__slots__`` and
writes its own ``__init__``, whose parameters are those fields, in order (a
field may be a property over a slot named ``_`` and its name). The base
class gives what ``dataclasses`` would: equality, ``repr``, pickling and
copying, and :func:`replace` (``copy.replace`` on Python 3.13 and later).
:class:`Frozen` adds immutability and hashing. Modules that only ``threadprof
diff``, the gates and the HTML views import keep ``dataclasses``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import Any, Self


class Record:
    """A mutable data class over ``__slots__``, in the order of ``__init__``'s parameters."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # mutable: as a dataclass with eq
    #: the fields, in order: the parameters of ``__init__`` (``__slots__`` in any order)
    _fields: tuple[str, ...] = ()
    _setters: tuple[Any, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:  # an abstract base such as Frozen: no fields of its own
            return
        code = init.__code__
        cls._fields = code.co_varnames[1 : code.co_argcount]
        slots = {name for c in cls.__mro__ for name in c.__dict__.get("__slots__", ())}
        # a field that is a property keeps its value in a slot named "_" + field
        held = [
            f"_{name}" if isinstance(getattr(cls, name, None), property) else name
            for name in cls._fields
        ]
        if set(held) != slots:
            raise TypeError(f"{cls.__name__}.__init__ must take its fields, {sorted(slots)}")
        # the slots' own setters, in the order of the fields (Frozen._set)
        cls._setters = tuple([getattr(cls, name).__set__ for name in held])

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        fields = ", ".join([f"{name}={getattr(self, name)!r}" for name in self._fields])
        return f"{type(self).__qualname__}({fields})"

    def __reduce__(self) -> tuple[type[Self], tuple[Any, ...]]:
        return type(self), self._values()

    def __replace__(self, **changes: Any) -> Self:
        values = {
            name: changes.pop(name) if name in changes else getattr(self, name)
            for name in self._fields
        }
        if changes:
            raise TypeError(f"{type(self).__name__} has no field {next(iter(changes))!r}")
        return type(self)(**values)


class Frozen(Record):
    """An immutable, hashable :class:`Record`; its ``__init__`` sets its fields
    through :meth:`_set`."""

    __slots__ = ()

    def _set(self, *values: Any) -> None:
        # each slot's own setter: the class's __setattr__ refuses
        for setter, value in zip(self._setters, values, strict=True):
            setter(self, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")

    def __hash__(self) -> int:
        return hash(self._values())


def replace(obj: Record, /, **changes: Any) -> Any:
    """A copy of ``obj`` with ``changes`` to its fields (``dataclasses.replace``)."""
    return obj.__replace__(**changes)
