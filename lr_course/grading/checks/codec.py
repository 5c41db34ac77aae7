"""The safe JSON codec between the grader and the sandbox: :func:`encode` and :func:`decode`.

Calls and Records (:mod:`lr_course.grading.checks.calls`) cross the process boundary as JSON, never
pickle. :func:`encode` turns numpy arrays and scalars, tuples, dicts and the placeholders
:class:`RngSeed` and :class:`Objective` into JSON-able data, each non-primitive value a dict
with exactly one marker key; anything else becomes :class:`Unsupported`, of which only the
type name survives. :func:`decode` reads untrusted data: it never executes code, and it
raises :class:`CodecError` on malformed data or data over the size limits below.

Like the rest of :mod:`lr_course.grading.checks` this runs INSIDE the sandbox, so it imports
only the standard library and numpy.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CodecError", "Objective", "RngSeed", "Unsupported", "decode", "encode", "plain_equal",
           "roundtrip"]

# What untrusted data may cost to decode: generous for honest answers, small enough that a
# flood cannot exhaust memory.
MAX_ARRAY_BYTES = 8 * 2**20    # one encoded array (8 MiB of raw data)
MAX_TOTAL_BYTES = 64 * 2**20   # all arrays in one decode
MAX_NODES = 200_000            # containers + scalars in one decode
MAX_DEPTH = 32                 # nesting depth in one decode
MAX_STR_CHARS = 100_000        # one string
MAX_NDIM = 32                  # dimensions of one array
MAX_ITEMSIZE = 32              # bytes of one array element (complex256, the widest number)
_ALLOWED_KINDS = "biufc"       # numpy dtype kinds the codec carries
_DTYPES: dict = {}             # dtype strings seen, and their (allowed) dtypes


class CodecError(ValueError):
    """Raised by :func:`decode` on data that is malformed or over the size limits."""


@dataclass(frozen=True)
class RngSeed:
    """Placeholder for ``numpy.random.default_rng(seed)``, created at execution time."""

    seed: int


@dataclass(frozen=True)
class Objective:
    """Placeholder for a catalogue objective ``f(lr) -> score`` (see ``calls.OBJECTIVES``)."""

    name: str
    options: dict = field(default_factory=dict)  # keyword arguments of the builder


@dataclass(frozen=True)
class Unsupported:
    """What a value the codec cannot carry decodes to (only its type name survives)."""

    type_name: str


# --- what the codec carries -----------------------------------------------------------


def _dtype_admitted(dtype: np.dtype) -> bool:
    """Whether the codec carries values of ``dtype``: booleans and numbers (kinds ``biufc``),
    without fields, at most MAX_ITEMSIZE bytes each. Strings, objects, dates, voids and
    structured dtypes are refused."""
    return dtype.kind in _ALLOWED_KINDS and dtype.fields is None and \
        dtype.itemsize <= MAX_ITEMSIZE


def _array_refusal(dtype: np.dtype, ndim: int, nbytes: int, dtype_known: bool = False) -> str:
    """Why the codec refuses an array of ``dtype`` with ``ndim`` dimensions and ``nbytes`` bytes
    of data, or "" when it carries one: the rule that :func:`decode`, :func:`roundtrip` and
    :func:`plain_equal` apply (:func:`encode` applies the dtype and size parts, and leaves the
    count of dimensions to the reading side, which refuses it with this same message).
    ``dtype_known``: the caller admitted the dtype already (:func:`_array_header` does, once
    per dtype it caches), so only the dimensions and the size are left to check."""
    if not dtype_known and not _dtype_admitted(dtype):
        return f"dtype {dtype} not allowed"
    if ndim > MAX_NDIM:
        return "too many dimensions"
    if nbytes > MAX_ARRAY_BYTES:
        return "array too large"
    return ""


# --- the codec ------------------------------------------------------------------------


def encode(obj: Any) -> Any:
    """Encode ``obj`` as JSON-able data (arrays as dtype + shape + base64 bytes).

    Every non-primitive value becomes a dict with exactly one marker key, so decoding is
    unambiguous; anything outside the supported types becomes ``{"__unsupported__": name}``.

    >>> decode(encode({"m": np.zeros(2), "t": 3}))["t"]
    3
    >>> encode(object())
    {'__unsupported__': 'object'}
    """
    return _encode(obj, 0)


def _encode(obj, depth):
    if depth > MAX_DEPTH:
        return {"__unsupported__": "too deeply nested"}
    if obj is None or isinstance(obj, (bool, str)) and type(obj) in (bool, str):
        if isinstance(obj, str) and len(obj) > MAX_STR_CHARS:
            return obj[:MAX_STR_CHARS]
        return obj
    if type(obj) is int:
        # JSON ints are unbounded in Python, but keep absurd ones out of the record.
        return obj if abs(obj) < 2**63 else {"__unsupported__": "int too large"}
    if type(obj) is float:
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.ndarray):
        if not _dtype_admitted(obj.dtype):
            return {"__unsupported__": f"ndarray of dtype {obj.dtype}"}
        if obj.nbytes > MAX_ARRAY_BYTES:
            return {"__unsupported__": "ndarray too large"}
        return {"__ndarray__": {"dtype": obj.dtype.str, "shape": list(obj.shape),
                                "data": base64.b64encode(obj.tobytes(order="C")).decode("ascii")}}
    if isinstance(obj, np.generic):
        if not _dtype_admitted(obj.dtype):
            return {"__unsupported__": type(obj).__name__}
        arr = np.asarray(obj)
        return {"__npscalar__": {"dtype": arr.dtype.str,
                                 "data": base64.b64encode(arr.tobytes()).decode("ascii")}}
    if type(obj) is tuple:
        return {"__tuple__": [_encode(x, depth + 1) for x in obj]}
    if type(obj) is list:
        return [_encode(x, depth + 1) for x in obj]
    if type(obj) is dict:
        if not all(type(k) is str for k in obj):
            return {"__unsupported__": "dict with non-str keys"}
        return {"__dict__": {k: _encode(v, depth + 1) for k, v in obj.items()}}
    if type(obj) is RngSeed:
        return {"__rng__": int(obj.seed)}
    if type(obj) is Objective:
        return {"__objective__": {"name": obj.name, "options": _encode(obj.options, depth + 1)}}
    if type(obj) is Unsupported:
        return {"__unsupported__": obj.type_name}
    return {"__unsupported__": type(obj).__name__[:100]}


def decode(data: Any) -> Any:
    """Decode what :func:`encode` produced; never executes code, bounds sizes.

    Raises :class:`CodecError` (a ``ValueError``) on malformed or oversized data.

    >>> decode(encode((1, np.float32(2.5), [np.arange(3)])))
    (1, np.float32(2.5), [array([0, 1, 2])])
    >>> decode({"__pickle__": "..."})
    Traceback (most recent call last):
    ...
    lr_course.grading.checks.codec.CodecError: unknown marker in {'__pickle__'}
    """
    return _decode(data, 0, [0, 0])


def _count(depth, budget) -> None:
    """One more value decoded, at ``depth``: refused past the node count or the depth.

    ``budget`` is ``[values so far, array bytes so far]`` of one decode."""
    budget[0] += 1
    if budget[0] > MAX_NODES:
        raise CodecError(f"more than {MAX_NODES} values")
    if depth > MAX_DEPTH:
        raise CodecError(f"nested deeper than {MAX_DEPTH}")


def _decode(data, depth, budget):
    budget[0] += 1                  # _count, inline: this runs for every value received
    if budget[0] > MAX_NODES or depth > MAX_DEPTH:
        _count(depth, budget)
    kind = type(data)
    if kind is float or kind is bool or data is None:
        return data
    if kind is int:
        if -2**63 < data < 2**63:
            return data
        raise CodecError("integer out of range")
    if kind is str:
        if len(data) > MAX_STR_CHARS:
            raise CodecError("string too long")
        return data
    if kind is list:
        return [_decode(x, depth + 1, budget) for x in data]
    if kind is not dict or len(data) != 1:
        raise CodecError(f"unexpected {type(data).__name__} of length "
                         f"{len(data) if isinstance(data, dict) else '-'}")
    (marker, body), = data.items()
    if marker == "__ndarray__":
        return _decode_array(body, budget, scalar=False)
    if marker == "__npscalar__":
        return _decode_array(body, budget, scalar=True)
    if marker == "__float__":
        if body not in ("nan", "inf", "-inf"):
            raise CodecError(f"bad float {body!r:.40}")
        return float(body)
    if marker == "__tuple__":
        if type(body) is not list:
            raise CodecError("bad tuple")
        return tuple(_decode(x, depth + 1, budget) for x in body)
    if marker == "__dict__":
        if type(body) is not dict or not all(type(k) is str for k in body):
            raise CodecError("bad dict")
        return {k: _decode(v, depth + 1, budget) for k, v in body.items()}
    if marker == "__rng__":
        if type(body) is not int or not 0 <= body < 2**63:
            raise CodecError("bad rng seed")
        return RngSeed(body)
    if marker == "__objective__":
        if type(body) is not dict or type(body.get("name")) is not str:
            raise CodecError("bad objective")
        options = _decode(body.get("options", {"__dict__": {}}), depth + 1, budget)
        if type(options) is not dict:
            raise CodecError("bad objective options")
        return Objective(body["name"], options)
    if marker == "__unsupported__":
        if type(body) is not str:
            raise CodecError("bad unsupported marker")
        return Unsupported(body[:100])
    raise CodecError(f"unknown marker in {set(data)}")


def _decode_array(body, budget, scalar):
    if type(body) is not dict or type(body.get("dtype")) is not str or type(body.get("data")) is not str:
        raise CodecError("bad array")
    shape = () if scalar else body.get("shape")
    dtype, nbytes = _array_header(body["dtype"], shape, budget, scalar, len(body["data"]))
    try:
        raw = base64.b64decode(body["data"], validate=True)
    except ValueError as exc:
        raise CodecError("bad base64 data") from exc
    return _array_from(raw, dtype, shape, nbytes, scalar)


def _array_header(dtype_str, shape, budget, scalar, text_chars=0):
    """The dtype and byte count an array's header announces, checked against the limits
    (``text_chars``: the length of its base64 data, if it came as text)."""
    dtype = _DTYPES.get(dtype_str)
    if dtype is None:
        try:
            dtype = np.dtype(dtype_str)
        except TypeError as exc:
            raise CodecError(f"bad dtype {dtype_str!r:.40}") from exc
        if not _dtype_admitted(dtype):
            raise CodecError(f"dtype {dtype} not allowed")
        if len(_DTYPES) < 64:
            _DTYPES[dtype_str] = dtype
    if type(shape) is not list and not scalar or not all(type(n) is int and 0 <= n for n in shape):
        raise CodecError("bad shape")
    nbytes = math.prod(shape) * dtype.itemsize if len(shape) <= MAX_NDIM else 0
    refusal = _array_refusal(dtype, len(shape), nbytes, dtype_known=True)
    if refusal:
        raise CodecError(refusal)
    if text_chars > 4 * (MAX_ARRAY_BYTES // 3 + 4):
        raise CodecError("array too large")
    budget[1] += nbytes
    if budget[1] > MAX_TOTAL_BYTES:
        raise CodecError("arrays too large in total")
    return dtype, nbytes


def _array_from(raw, dtype, shape, nbytes, scalar):
    if len(raw) != nbytes:
        raise CodecError("array data does not match its shape")
    arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return arr[()] if scalar else arr


# --- the same trip without the wire -----------------------------------------------------


def roundtrip(obj: Any) -> Any:
    """``decode(encode(obj))``, computed directly: the same values, types, limits and errors,
    without building the JSON data and base64 text in between.

    The sandbox normalises every value a graded call takes and returns this way (so that a
    record looks the same whether it was made in-process or read from the wire); going
    through text cost more than the student's own code on the small arrays of a check.
    A test compares it with ``decode(encode(obj))`` on generated values.

    >>> roundtrip((1, np.float32(2.5), {"m": np.arange(3)}, object()))
    (1, np.float32(2.5), {'m': array([0, 1, 2])}, Unsupported(type_name='object'))
    """
    return _roundtrip(obj, 0, [0, 0])


def _roundtrip(obj, depth, budget):
    _count(depth, budget)   # _decode's accounting, node by node in the same order
    # _encode's cases, in its order
    if obj is None or isinstance(obj, (bool, str)) and type(obj) in (bool, str):
        return obj[:MAX_STR_CHARS] if isinstance(obj, str) else obj
    if type(obj) is int:
        return obj if abs(obj) < 2**63 else Unsupported("int too large")
    if type(obj) is float:
        return obj if math.isfinite(obj) else float(repr(obj))
    if isinstance(obj, np.ndarray):
        if not _dtype_admitted(obj.dtype):
            return Unsupported(f"ndarray of dtype {obj.dtype}"[:100])
        if obj.nbytes > MAX_ARRAY_BYTES:
            return Unsupported("ndarray too large")
        dtype_str, shape, raw = obj.dtype.str, list(obj.shape), obj.tobytes(order="C")
        dtype, nbytes = _array_header(dtype_str, shape, budget, False)
        return _array_from(raw, dtype, shape, nbytes, False)
    if isinstance(obj, np.generic):
        if not _dtype_admitted(obj.dtype):
            return Unsupported(type(obj).__name__[:100])
        arr = np.asarray(obj)
        dtype_str, raw = arr.dtype.str, arr.tobytes()
        dtype, nbytes = _array_header(dtype_str, (), budget, True)
        return _array_from(raw, dtype, (), nbytes, True)
    if type(obj) is tuple:
        return tuple(_roundtrip(x, depth + 1, budget) for x in obj)
    if type(obj) is list:
        return [_roundtrip(x, depth + 1, budget) for x in obj]
    if type(obj) is dict:
        if not all(type(k) is str for k in obj):
            return Unsupported("dict with non-str keys")
        return {k: _roundtrip(v, depth + 1, budget) for k, v in obj.items()}
    if type(obj) is RngSeed:
        seed = int(obj.seed)
        if not 0 <= seed < 2**63:
            raise CodecError("bad rng seed")
        return RngSeed(seed)
    if type(obj) is Objective:
        if type(obj.name) is not str:
            raise CodecError("bad objective")
        options = _roundtrip(obj.options, depth + 1, budget)
        if type(options) is not dict:
            raise CodecError("bad objective options")
        return Objective(obj.name, options)
    if type(obj) is Unsupported:
        if type(obj.type_name) is not str:
            raise CodecError("bad unsupported marker")
        return Unsupported(obj.type_name[:100])
    return Unsupported(type(obj).__name__[:100])


# --- equality without the trip ----------------------------------------------------------


def plain_equal(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are equal plain data that the codec carries unchanged, so that
    ``roundtrip(a)`` and ``roundtrip(b)`` are surely equal too; False when unsure.

    Plain data are None, bools, ints, floats (NaN equal to NaN), strings, lists, tuples, dicts
    with str keys and arrays :func:`roundtrip` carries (the dtype, dimension and size rule of
    :func:`_array_refusal`), within the codec's depth, node and total-size limits. A numpy
    scalar, an object of another type or anything near a limit gives False: the caller then
    compares the round-tripped values, which decides (and raises what the codec raises).

    >>> plain_equal({"m": np.array([np.nan, 1.0]), "t": 3}, {"m": np.array([np.nan, 1.0]), "t": 3})
    True
    >>> plain_equal(np.zeros(2), np.zeros(2, dtype=np.float32)), plain_equal(np.float64(1), 1.0)
    (False, False)
    """
    return _plain_equal(a, b, 0, [0, 0])


def _plain_equal(a, b, depth, budget) -> bool:
    budget[0] += 1                  # the node and depth accounting of _roundtrip
    if budget[0] > MAX_NODES or depth > MAX_DEPTH:
        return False
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is np.ndarray:
        dtype = a.dtype
        if _array_refusal(dtype, a.ndim, a.nbytes) or dtype != b.dtype or a.shape != b.shape:
            return False
        budget[1] += a.nbytes
        return budget[1] <= MAX_TOTAL_BYTES and \
            np.array_equal(a, b, equal_nan=dtype.kind in "fc")
    if kind is dict:
        return a.keys() == b.keys() and all(type(k) is str for k in a) and \
            all(_plain_equal(a[k], b[k], depth + 1, budget) for k in a)
    if kind is list or kind is tuple:
        return len(a) == len(b) and \
            all(_plain_equal(x, y, depth + 1, budget) for x, y in zip(a, b))
    if kind is float:
        return a == b or (a != a and b != b)
    if kind is int or kind is str or kind is bool:
        return a == b    # (equal values are equal after the codec's cuts too)
    return a is None     # numpy scalars, objects of the student's own: the slow way decides
