"""Declarative hyper-parameter constraints, checked when ``fit`` runs (scikit-learn style)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from nexus.errors import ConfigError

__all__ = ["Interval", "Options", "check_param_names", "validate_params"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A real or integer range; ``None`` bounds are open-ended.

    Parameters
    ----------
    kind : {int, float}
        ``int`` accepts integers only; ``float`` accepts any real number.
    low, high : float or None
        The bounds.
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the interval.
    """

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` lies in the interval and has the right kind."""
        wanted = Integral if self.kind is int else Real
        if isinstance(value, bool) or not isinstance(value, wanted):
            return False
        if value != value:  # NaN
            return False
        return self._above_low(value) and self._below_high(value)

    def _above_low(self, value: Any) -> bool:
        if self.low is None:
            return True
        return value >= self.low if self.closed in ("both", "left") else value > self.low

    def _below_high(self, value: Any) -> bool:
        if self.high is None:
            return True
        return value <= self.high if self.closed in ("both", "right") else value < self.high

    def __str__(self) -> str:
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{'an integer' if self.kind is int else 'a number'} in {left}{low}, {high}{right}"


@dataclass(frozen=True, slots=True)
class Options:
    """A closed set of allowed values (strings, ``None``, booleans)."""

    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is one of the options (booleans never pass for integers)."""
        return any(value is v or (type(value) is type(v) and value == v) for v in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


Constraint = Interval | Options


def validate_params(
    model: str, params: Mapping[str, Any], constraints: Mapping[str, list[Constraint]]
) -> None:
    """Check every parameter against its constraints.

    Parameters
    ----------
    model : str
        The model's name, used in the message.
    params : mapping of str to any
        The hyper-parameters, as ``get_params`` returns them.
    constraints : mapping of str to list of Interval or Options
        A value is valid when any one of its constraints accepts it.

    Raises
    ------
    ConfigError
        For the first invalid value, naming the parameter, the value and what is allowed.
    """
    for name, value in params.items():
        allowed = constraints[name]
        if not any(c.accepts(value) for c in allowed):
            wanted = " or ".join(str(c) for c in allowed)
            raise ConfigError(
                f"{model} parameter {name}={value!r} is invalid: it must be {wanted}",
                fix=f"set {name} to {wanted} in the model config",
            )


def check_param_names(model: str, names: list[str], known: list[str]) -> None:
    """Raise :class:`ConfigError` for a parameter name the model does not have.

    The message suggests the closest known name ("did you mean").
    """
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known)
            raise ConfigError(f"{model} has no parameter {name!r}", fix=hint)
