"""Values crossing from the sandbox to the grader: plain data only, as JSON.

The grader must never unpickle what the learner's code produced (unpickling runs code), so the
sandbox encodes each returned value as JSON -- numbers, strings, lists, string-keyed dicts and
numeric numpy arrays -- and the grader decodes it with :func:`json.loads`, which builds data and
nothing else.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["NotData", "decode", "encode"]

_ARRAY = "__ndarray__"
_COMPLEX = "__complex__"
_FLOAT = "__float__"


class NotData(TypeError):
    """The value is not plain data (it is some other object)."""


def _plain(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        raise NotData("nested more than 20 levels deep")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_FLOAT: repr(value)}  # JSON has no NaN/inf
    if isinstance(value, complex):
        return {_COMPLEX: [_plain(value.real), _plain(value.imag)]}
    if isinstance(value, np.generic):
        return _plain(value.item(), depth)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise NotData(f"a numpy array of dtype {value.dtype}")
        flat = value.ravel()
        if value.dtype.kind == "c":
            data = [[_plain(float(z.real)), _plain(float(z.imag))] for z in flat]
        else:
            data = [_plain(x) for x in flat.tolist()]
        return {_ARRAY: {"kind": value.dtype.kind, "shape": list(value.shape), "data": data}}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise NotData("a dict whose keys are not all strings")
        return {k: _plain(v, depth + 1) for k, v in value.items()}
    raise NotData(f"a {type(value).__name__}")


def encode(value: Any) -> str:
    """JSON text for ``value``; raises :class:`NotData` for anything that is not plain data."""
    return json.dumps(_plain(value))


def _number(x: Any) -> Any:
    return float(x[_FLOAT]) if isinstance(x, dict) else x


def _hook(obj: dict) -> Any:
    if set(obj) == {_FLOAT} and obj[_FLOAT] in ("nan", "inf", "-inf"):
        return obj  # kept as a marker until its container is decoded, see _number
    if set(obj) == {_COMPLEX}:
        re, im = obj[_COMPLEX]
        return complex(_number(re), _number(im))
    if set(obj) == {_ARRAY}:
        spec = obj[_ARRAY]
        if spec["kind"] == "c":
            data = [complex(_number(re), _number(im)) for re, im in spec["data"]]
            return np.array(data, dtype=complex).reshape(spec["shape"])
        dtype = {"b": bool, "i": np.int64, "u": np.uint64, "f": float}[spec["kind"]]
        return np.array([_number(x) for x in spec["data"]], dtype=dtype).reshape(spec["shape"])
    return obj


def decode(text: str) -> Any:
    """The value :func:`encode` wrote (tuples come back as lists)."""
    return _finish(json.loads(text, object_hook=_hook))


def _finish(value: Any) -> Any:
    # Non-finite floats inside lists and dicts (arrays and complex numbers are done by _hook).
    if isinstance(value, dict):
        if set(value) == {_FLOAT}:
            return _number(value)
        return {k: _finish(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finish(v) for v in value]
    return value
