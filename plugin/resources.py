"""Where the product's data folders (`mappings/`, `conformance/`) are.

In a source checkout they sit beside the packages; in an installed wheel they are bundled
under ``plugin/_bundled``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["conformance_dir", "mappings_dir"]

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the product's {name}/ folder is missing from this installation")


def mappings_dir() -> Path:
    return _data_dir("mappings")


def conformance_dir() -> Path:
    return _data_dir("conformance")
