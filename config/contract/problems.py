"""Turns pydantic's findings into `key.path: what is wrong` lines a purchasing manager can act on."""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from leadgov.config.contract.models import Contract
from leadgov.config.contract.wording import _key_path, _show


class ContractError(ValueError):
    """A contract file refused; ``problems`` lists every problem found, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = "".join(f"\n  - {problem}" for problem in self.problems)
        return f"{self.source}: contract refused, {len(self.problems)} problem(s):{lines}"

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error intact across processes (Prefect task runners pickle exceptions)."""
        return (type(self), (self.source, self.problems))


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The block model found at a key path, or None when the path leads elsewhere."""
    model: type[BaseModel] | None = Contract
    for part in path:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        model = _block_type(model.model_fields[part].annotation)
    return model


def _block_type(annotation: Any) -> type[BaseModel] | None:
    """The block model inside ``X`` or ``X | None``."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _bounds(loc: tuple[Any, ...]) -> tuple[Any, Any]:
    """The (lower, upper) limits declared on the field at ``loc``, None where unbounded."""
    model = _model_at(loc[:-1])
    info = model.model_fields.get(loc[-1]) if model and isinstance(loc[-1], str) else None
    lower = upper = None
    for item in _constraints(info.annotation, info.metadata) if info else ():
        lower = _first_attr(item, ("ge", "gt"), lower)
        upper = _first_attr(item, ("le", "lt"), upper)
    return lower, upper


def _first_attr(item: Any, names: tuple[str, ...], default: Any) -> Any:
    return next((getattr(item, name) for name in names if getattr(item, name, None) is not None), default)


def _constraints(annotation: Any, metadata: list[Any]) -> list[Any]:
    """A field's constraint objects, including those inside ``Rate | None``."""
    found = []
    for item in metadata:  # Field(ge=...) inside Annotated arrives as a FieldInfo
        found += item.metadata if isinstance(item, FieldInfo) else [item]
    for arg in typing.get_args(annotation):
        found += _constraints(arg, list(getattr(arg, "__metadata__", ())))
    return found


def _range_message(error: ErrorDetails) -> str:
    """The bound a number crossed; a rate (0..1) shows its whole range, which says it is a fraction."""
    lower, upper = _bounds(error["loc"])
    got = _show(error["input"])
    if (lower, upper) == (0, 1):
        return f"must be between 0 and 1, got {got}"
    ctx = error.get("ctx", {})
    if error["type"] == "finite_number":
        return f"must be a finite number, at most {_show(upper)}, got {got}"
    if "gt" in ctx:
        return f"must be greater than {_show(ctx['gt'])}, got {got}"
    if "ge" in ctx:
        floor = _show(ctx["ge"])
        if floor == "0":
            return f"must not be negative, got {got}"
        return f"must be at least {floor}, got {got}"
    return f"must be at most {_show(ctx.get('le', ctx.get('lt')))}, got {got}"


def _expected_literals(error: ErrorDetails) -> str:
    return ", ".join(re.findall(r"'((?:[^'\\]|\\.)*)'", error.get("ctx", {}).get("expected", "")))


_TYPE_MESSAGES = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be text (put it in quotes)",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys",
    "model_type": "must be a mapping of keys",
    "model_attributes_type": "must be a mapping of keys",
}


def _message(error: ErrorDetails) -> str:
    """One pydantic error as the part of a problem line after the key path."""
    kind, loc = error["type"], error["loc"]
    if kind.startswith("contract_"):
        return error["msg"]
    if kind == "missing":
        return "required block is missing" if _model_at(loc) else "required key is missing"
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        expected = ", ".join(parent.model_fields) if parent else "?"
        return f"unknown key (expected one of: {expected})"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than", "finite_number"}:
        return _range_message(error)
    if kind == "literal_error":
        return f"must be one of: {_expected_literals(error)}; got {_show(error['input'])}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {error['ctx']['max_length']} characters, got {len(error['input'])}"
    if kind == "too_short":
        return f"must list at least {error['ctx']['min_length']} item(s)"
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]}, got {_show(error['input'])}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{message[:1].lower()}{message[1:]}, got {_show(error['input'])}"


def describe_validation_error(error: ValidationError) -> list[str]:
    """Every pydantic error as ``key.path: what is wrong``, in file order."""
    return [f"{_key_path(item['loc'])}: {_message(item)}" for item in error.errors()]
