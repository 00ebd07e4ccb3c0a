"""Reading other ecosystems' card files: typed access that names the bad field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from mct_component.errors import CardContentError
from mct_component.text import excerpt, without_empty


class Reader:
    """Typed field access on a parsed document; a wrong type is one `CardContentError`."""

    def __init__(self, name: str):
        self.name = name

    def fail(self, where: str, expected: str, got: Any = None) -> NoReturn:
        found = "" if got is None else f", got {excerpt(got)}"
        raise CardContentError(f"{self.name}: field {where!r} must be {expected}{found}")

    def _get(self, data: Mapping[str, Any], key: str) -> Any:
        return data.get(key) if isinstance(data, Mapping) else None

    def mapping(self, data: Mapping[str, Any], key: str, parent: str = "") -> Mapping[str, Any]:
        value = self._get(data, key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(_join(parent, key), "an object", value)
        return value

    def items(self, data: Mapping[str, Any], key: str, parent: str = "") -> list[Any]:
        value = self._get(data, key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(_join(parent, key), "a list", value)
        return value

    def item_mapping(self, items: list[Any], index: int, parent: str) -> Mapping[str, Any]:
        value = items[index]
        if not isinstance(value, Mapping):
            self.fail(f"{parent}[{index}]", "an object", value)
        return value

    def text(self, data: Mapping[str, Any], key: str, parent: str = "") -> str:
        value = self._get(data, key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(_join(parent, key), "text", value)
        return value

    def lines(self, data: Mapping[str, Any], key: str, parent: str = "") -> list[str]:
        """A text field holding one item per line."""
        return [line.strip() for line in self.text(data, key, parent).splitlines() if line.strip()]

    def string_map(self, data: Mapping[str, Any], key: str, parent: str = "") -> dict[str, str]:
        value = self.mapping(data, key, parent)
        for k, v in value.items():
            if not isinstance(v, str):
                self.fail(f"{_join(parent, key)}.{k}", "text", v)
        return dict(value)


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def prune(value: Any) -> Any:
    """Content without empty text, lists and objects (nothing was written there)."""
    if isinstance(value, Mapping):
        return without_empty({k: prune(v) for k, v in value.items()})
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value
