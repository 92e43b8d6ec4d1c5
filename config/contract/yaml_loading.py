"""Reads a contract's YAML safely: no aliases, duplicate keys reported, size and encoding checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from leadgov.config.contract.problems import ContractError
from leadgov.config.contract.wording import _key_path, _show

#: Larger contract files are refused unread: a contract is a page or two, not a data file.
MAX_CONTRACT_BYTES = 1024 * 1024


class _AliasRefused(yaml.composer.ComposerError):
    """An alias (``*name``) met in a contract."""


class _ContractLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (no Python tags) that also refuses aliases: ``*name`` is what a
    "billion laughs" document expands, and a contract never needs one."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # types-PyYAML leaves Parser.peek_event untyped
            raise _AliasRefused(
                None, None, f"aliases (*{event.anchor}) are not allowed in a contract", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> Any:
        """An impossible date (2027-13-01) stays text, so the model reports it under its key."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return node.value


_ContractLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _ContractLoader.construct_lenient_timestamp
)


def _duplicate_keys(node: yaml.Node, path: tuple[Any, ...] = ()) -> list[str]:
    """Keys written twice in one mapping. PyYAML silently keeps the last value: a contract
    clause must not vanish unnoticed."""
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key in first_line:
                problems.append(
                    f"{_key_path((*path, key))}: written twice (lines {first_line[key]} and {line});"
                    " keep one value"
                )
            elif key is not None:
                first_line[key] = line
            problems += _duplicate_keys(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, (*path, index))
    return problems


def _read_yaml(text: str, source: str) -> tuple[Any, list[str]]:
    """The YAML document and the duplicate-key problems; unreadable YAML raises ContractError."""
    try:
        loader = _ContractLoader(text)  # reads the stream: refuses control characters here
    except yaml.YAMLError as exc:
        raise ContractError(source, [f"YAML error: {exc}"]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        return loader.construct_document(node), _duplicate_keys(node)
    except yaml.MarkedYAMLError as exc:
        raise ContractError(source, [_yaml_problem(exc)]) from None
    except yaml.YAMLError as exc:
        raise ContractError(source, [f"YAML error: {exc}"]) from None
    except RecursionError:
        raise ContractError(source, ["nested too deeply to be a contract"]) from None
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """``line L, column C: YAML syntax error: what the parser expected``."""
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    if isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError)):
        kind = "YAML syntax error: "
    elif isinstance(exc, yaml.constructor.ConstructorError):
        kind = "not allowed in a contract: "
    else:
        kind = "" if isinstance(exc, _AliasRefused) else "YAML error: "
    detail = "; ".join(part for part in (exc.context, exc.problem) if part)
    return f"{where}{kind}{detail}"


def _kind_of(document: Any) -> str:
    if document is None:
        return "an empty document"
    if isinstance(document, list):
        return "a list"
    return f"a single value ({_show(document)})"


def _read_text(path: Path, source: str) -> str:
    """The file's exact text; every way of failing becomes a ContractError."""
    try:
        if path.stat().st_size > MAX_CONTRACT_BYTES:
            raise ContractError(source, [f"file larger than {MAX_CONTRACT_BYTES} bytes: not a contract"])
        data = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(source, ["file not found"]) from None
    except IsADirectoryError:
        raise ContractError(source, ["is a directory, not a contract file"]) from None
    except OSError as exc:
        raise ContractError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}): save the file as UTF-8"
        raise ContractError(source, [problem]) from None
