"""Calls and records across the sandbox's wall: codec safety, execute's guarantees, the kinds."""

import base64
import copy
import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lr_course.grading.checks import calls, codec
from lr_course.grading.checks.calls import Call, Record, execute, same
from lr_course.grading.checks.codec import (CodecError, Objective, RngSeed, Unsupported, decode,
                                            encode)


def roundtrip(obj):
    return decode(json.loads(json.dumps(encode(obj), allow_nan=False)))


# --- codec ---------------------------------------------------------------------------

arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.bool_, np.complex128,
                           np.dtype(">f8")]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))


@given(arrays)
@settings(max_examples=60, deadline=None)
def test_arrays_roundtrip_exactly(arr):
    back = roundtrip(arr)
    assert isinstance(back, np.ndarray) and back.dtype == arr.dtype and back.shape == arr.shape
    assert same(back, arr)


def test_containers_and_scalars_keep_their_types():
    obj = {"t": 3, "x": 1.5, "n": None, "s": "hi", "b": True, "tup": (1, [2.0]),
           "f32": np.float32(2.5), "i64": np.int64(7), "nan": float("nan"), "inf": float("-inf"),
           "rng": RngSeed(4), "obj": Objective("bowl", {"best": 0.1})}
    back = roundtrip(obj)
    assert type(back["tup"]) is tuple and type(back["tup"][1]) is list
    assert type(back["f32"]) is np.float32 and type(back["i64"]) is np.int64
    assert np.isnan(back["nan"]) and back["inf"] == float("-inf")
    assert back["rng"] == RngSeed(4) and back["obj"] == Objective("bowl", {"best": 0.1})
    assert same({k: v for k, v in back.items() if k not in ("rng", "obj")},
                {k: v for k, v in obj.items() if k not in ("rng", "obj")})


@pytest.mark.parametrize("value, name", [
    (object(), "object"), (np.array([object()]), "ndarray of dtype object"),
    ({1: 2}, "dict with non-str keys"), (lambda x: x, "function"), ({1, 2}, "set"),
    (np.array(["a"]), "ndarray of dtype <U1"), (2**70, "int too large")])
def test_unsupported_values_encode_as_their_type_name(value, name):
    assert roundtrip(value) == Unsupported(name)


@pytest.mark.parametrize("data", [
    {"__pickle__": "gASV"},
    {"__ndarray__": {"dtype": "O", "shape": [1], "data": ""}},
    {"__ndarray__": {"dtype": "<f8", "shape": [2], "data": "AAAA"}},           # wrong length
    {"__ndarray__": {"dtype": "<f8", "shape": [10**9], "data": ""}},           # huge
    {"__ndarray__": {"dtype": "<f8", "shape": [-1], "data": ""}},
    {"__ndarray__": {"dtype": "<f8", "shape": [1], "data": "!!!notbase64"}},
    {"__ndarray__": {"dtype": "V8", "shape": [1], "data": "AAAAAAAAAAA="}},
    {"__float__": "__import__('os')"},
    {"__dict__": {}, "__tuple__": []},
    {"a": 1},
    {"__rng__": -1},
    "x" * (codec.MAX_STR_CHARS + 1),
    10**30,
])
def test_malformed_or_hostile_data_is_rejected(data):
    with pytest.raises(CodecError):
        decode(data)


def test_decode_bounds_depth_and_node_count():
    deep = []
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(CodecError):
        decode(deep)
    with pytest.raises(CodecError):
        decode([0] * (codec.MAX_NODES + 1))


class _OddArray(np.ndarray):
    """An ndarray subclass: the codec carries it as a plain array."""


def _outcome(trip, obj):
    try:
        return "value", trip(obj)
    except (CodecError, calls.UnsendableValue) as exc:     # the codec refused obj
        return "error", str(exc)


def _identical(a, b) -> bool:
    """Same values and the same types all the way down (the placeholders by equality)."""
    if type(a) is not type(b):
        return False
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(map(_identical, a, b))
    if type(a) is dict:
        return list(a) == list(b) and all(_identical(a[k], b[k]) for k in a)
    if type(a) in (RngSeed, Objective, Unsupported):
        return a == b
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.flags.c_contiguous and b.flags.c_contiguous and \
            same(a, b)
    return same(a, b)


_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
    st.sampled_from(["x" * (codec.MAX_STR_CHARS + 3), object(), {1, 2}, RngSeed(3),
                     RngSeed(-1), Objective("bowl", {"best": 0.1}), Objective("b", [1]),
                     Unsupported("thing"), np.float32(1.5), np.int8(-3), np.complex64(1j),
                     np.str_("s"), np.datetime64("2026-01-01"), np.array([object()]),
                     np.array(["a"]), np.arange(6.0).reshape(2, 3).T,
                     np.arange(4).view(_OddArray), np.zeros(0), np.array(2.5)]),
    arrays)
_values = st.recursive(_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=3), inner, max_size=3),
    st.dictionaries(st.integers(0, 3), inner, min_size=1, max_size=2)), max_leaves=12)


@given(_values)
@settings(max_examples=300, deadline=None)
def test_the_direct_roundtrip_is_the_trip_through_the_wire(obj):
    (kind, got), (want_kind, want) = _outcome(codec.roundtrip, obj), _outcome(roundtrip, obj)
    assert kind == want_kind
    assert got == want if kind == "error" else _identical(got, want)


def test_the_direct_roundtrip_has_the_wires_limits():
    deep = []
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    for obj in (deep, [0] * (codec.MAX_NODES + 1), [np.zeros(2**20)] * 9):
        assert _outcome(codec.roundtrip, obj) == _outcome(roundtrip, obj)
        assert _outcome(codec.roundtrip, obj)[0] == "error"
    big = np.zeros(codec.MAX_ARRAY_BYTES // 8 + 1)
    assert codec.roundtrip(big) == Unsupported("ndarray too large") == roundtrip(big)


def test_call_and_record_survive_json():
    call = Call("rollout", "adam_update", init="adam_init", params=np.ones((2, 3)),
                grads_seq=(np.ones((2, 3)),), kwargs={"lr": 0.1})
    back = Call.from_data(json.loads(json.dumps(call.to_data())))
    assert back.kind == "rollout" and same(back.params, call.params) and back.kwargs == {"lr": 0.1}
    rec = execute(Call("call", "f", args=(1,)), {"f": lambda x: (_ for _ in ()).throw(ValueError("bad x"))})
    rback = Record.from_data(json.loads(json.dumps(rec.to_data())))
    assert rback.raised("ValueError") and rback.error == "ValueError: bad x"


@pytest.mark.parametrize("data", [{"kind": "exec"}, {"kind": "call", "evil": 1}, [1],
                                  {"kind": "call", "args": 3}])
def test_malformed_calls_are_rejected(data):
    with pytest.raises(CodecError):
        Call.from_data({k: encode(v) for k, v in data.items()} if isinstance(data, dict) else data)


def test_malformed_records_are_rejected():
    with pytest.raises(CodecError):
        Record.from_data({"ok": "yes"})
    with pytest.raises(CodecError):
        Record.from_data({"ok": True, "warnings": [1]})


# --- execute -------------------------------------------------------------------------

def test_execute_catches_everything_and_names_it():
    def raise_exit():
        raise SystemExit(3)

    class MyError(ValueError):
        pass

    def raise_mine():
        raise MyError("x" * 10_000)

    assert execute(Call("call", "f"), {"f": raise_exit}).error_type == "SystemExit"
    rec = execute(Call("call", "f"), {"f": raise_mine})
    assert rec.raised("ValueError") and len(rec.error) == calls.MAX_ERROR_CHARS
    assert execute(Call("call", "f"), {"f": 3}).error == "NameError: f is not a function"
    assert execute(Call("nope", "f"), {"f": print}).error.startswith("ValueError: unknown Call kind")


def test_execute_records_warnings_and_output_without_printing(capsys):
    def noisy(x):
        print("hello")
        import sys
        print("oops", file=sys.stderr)
        return np.exp(x) * np.inf - np.inf

    rec = execute(Call("call", "f", args=(np.array([1000.0]),)), {"f": noisy})
    assert rec.ok and np.isnan(rec.value).all()
    assert any("overflow" in w for w in rec.warnings) and "hello" in rec.output and "oops" in rec.output
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_execute_gives_copies_and_reports_mutation():
    x = np.arange(3.0)

    def mutate(a):
        a *= 2
        return a.sum()

    rec = execute(Call("call", "f", args=(x,)), {"f": mutate})
    assert rec.value == 6.0 and same(x, np.arange(3.0))
    (a_after,), _ = rec.args_after
    assert same(a_after, np.arange(3.0) * 2)


def test_rng_placeholder_becomes_a_seeded_generator():
    rec = execute(Call("call", "f", args=(RngSeed(5),)), {"f": lambda rng: rng.random(3)})
    assert same(rec.value, np.random.default_rng(5).random(3))


def test_objective_calls_are_recorded():
    def search(objective, lrs):
        return min(lrs, key=objective)

    rec = execute(Call("call", "s", args=(Objective("bowl", {"best": 0.1}), [0.01, 0.1, 1.0])),
                  {"s": search})
    assert rec.value == 0.1 and rec.extra["objective_calls"] == [0.01, 0.1, 1.0]


def test_rollout_records_params_and_mutation():
    def init(p):
        return {"v": np.zeros_like(p)}

    def honest(p, g, state, lr=0.1):
        return p - lr * g, {"v": state["v"] + g}

    def sloppy(p, g, state, lr=0.1):
        state["v"] += g
        p -= lr * g
        return p, state

    call = Call("rollout", "u", init="i", params=np.ones(2), grads_seq=(np.ones(2), np.ones(2)),
                watch_inputs=True)
    good = execute(call, {"i": init, "u": honest})
    assert good.ok and same(good.value["params"][-1], np.ones(2) * 0.8)
    assert good.extra["mutated"] == {"params": False, "grads": False, "state": False}
    bad = execute(call, {"i": init, "u": sloppy})
    assert bad.extra["mutated"] == {"params": True, "grads": False, "state": True}
    wrong = execute(call, {"i": init, "u": lambda p, g, s: p})
    assert wrong.error_type == "TypeError"
    # unwatched (a same or agree check's rollout), the same path and no mutation report;
    # the inputs are still copies, so an update that writes into them changes nothing else
    plain = replace(call, watch_inputs=False)
    for update in (honest, sloppy):
        rec = execute(plain, {"i": init, "u": update})
        assert "mutated" not in rec.extra
        assert same(rec.value["params"], execute(call, {"i": init, "u": update}).value["params"])


def test_only_an_unchanged_rollout_watches_its_inputs():
    from lr_course.grading.checks import declare

    def init(p):
        return {"v": np.zeros_like(p)}

    def update(p, g, state, lr=0.1):
        return p - lr * g, {"v": state["v"] + g}

    seen = []

    class Keep:
        seed = 0

        def part(self, what, points):
            pass

        def add(self, check, functions, data):
            seen.append((check.kind, [c.watch_inputs for c in check.calls]))

    before = declare._MODE[0]
    declare.set_mode(Keep())
    try:
        declare.rollout(init, update, np.ones(2), [np.ones(2)])
        declare.rollout(init, update, np.ones(2), [np.ones(2)], check="unchanged")
        declare.invariant(init, update, np.ones(2), [np.ones(2)], scales=[2.0])
    finally:
        declare.set_mode(before)
    assert seen == [("same", [False]), ("unchanged", [True]), ("agree", [False, False])]


def test_a_watch_flag_that_is_not_a_bool_is_malformed():
    data = Call("rollout", "u", init="i", params=np.ones(2), grads_seq=(np.ones(2),)).to_data()
    data["watch_inputs"] = 1
    with pytest.raises(CodecError, match="watch_inputs"):
        Call.from_data(data)


def test_schedule_records_one_float_per_step_and_refuses_non_numbers():
    call = Call("schedule", "s", num_steps=5)
    rec = execute(call, {"s": lambda step: 0.5 / (1 + step)})
    assert rec.ok and rec.value.dtype == float and rec.value.shape == (5,)
    assert np.allclose(rec.value, 0.5 / (1 + np.arange(5)))
    for bad in ("0.1", None, True, np.ones(2)):
        rec = execute(call, {"s": lambda step, bad=bad: bad})
        assert rec.error_type == "TypeError", bad


def test_train_counts_the_updates_it_makes():
    def init(params):
        return {}

    def update(params, grads, state, lr):
        return params - lr * grads, state

    call = Call("train", "u", init="i", problem="digits_logreg", num_steps=3, seed=1,
                kwargs={"lr": 0.1, "batch_size": 8})
    rec = execute(call, {"i": init, "u": update})
    assert rec.ok and rec.extra["steps"] == 3 and rec.value["params"].dtype == float
    again = execute(call, {"i": init, "u": update})
    assert same(rec.value, again.value)          # the seed fixes the minibatches
    assert execute(call, {"i": init, "u": lambda p, g, s, lr: p}).error_type == "TypeError"


@pytest.mark.parametrize("data", [
    {"kind": "call", "num_steps": -1}, {"kind": "call", "num_steps": 10**9},
    {"kind": "call", "function": 3}, {"kind": "call", "seed": "x"},
    {"kind": "rollout", "grads_seq": {"__tuple__": [0] * 10001}},
    {"kind": "call", "args": {"__dict__": {}}}, {"kind": "call", "unknown": 1},
])
def test_malformed_calls_are_refused(data):
    with pytest.raises(CodecError):
        Call.from_data(data)


@pytest.mark.parametrize("data", [
    {"ok": True, "warnings": ["w"] * 100}, {"ok": True, "error_bases": [1]},
    {"ok": True, "seconds": -1.0}, {"ok": True, "seconds": {"__float__": "nan"}},
    {"ok": 1}, {"ok": True, "extra": []}, {"ok": True, "error": 5},
])
def test_malformed_records_are_refused(data):
    with pytest.raises(CodecError):
        Record.from_data(data)


_SPECIAL = st.sampled_from([0.0, -0.0, 1.0, 1e-300, 1e300, np.inf, -np.inf, np.nan])
_VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), _SPECIAL)


@settings(max_examples=300, deadline=None)
@given(pair=st.integers(0, 5).flatmap(lambda n: st.tuples(
           hnp.arrays(float, n, elements=_VALUES), hnp.arrays(float, n, elements=_VALUES))),
       rtol=st.sampled_from([0.0, 1e-12, 1e-6, 1e-2]), atol=st.sampled_from([0.0, 1e-12, 1e-3]),
       nudge=st.booleans())
def test_the_judges_closeness_is_numpys_allclose(pair, rtol, atol, nudge):
    """The judges' own comparison agrees with np.allclose(equal_nan=True) everywhere,
    infinities, NaNs, signed zeros and values a hair apart included."""
    from lr_course.grading.checks.values import _all_close
    got, expected = pair
    if nudge:
        got = np.where(np.isfinite(expected), expected * (1 + 1e-7), got)
    assert _all_close(got, expected, rtol, atol) == \
        np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)


def _slow_same(a, b):
    return same(calls.normalise(a), calls.normalise(b))


def _near(value, pick):
    """A copy of ``value`` with one leaf changed the way a student's update might change it
    (another dtype, a NaN, a sign, a type that compares equal), or none (``pick`` says)."""
    if type(value) in (list, tuple) and value:
        k = pick % len(value)
        items = list(copy.deepcopy(value))
        items[k] = _near(items[k], pick // 7)
        return type(value)(items)
    if type(value) is dict and value:
        key = sorted(value)[pick % len(value)]
        return {**copy.deepcopy(value), key: _near(value[key], pick // 7)}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc" and value.size:
        changes = [lambda a: a.astype(np.float32 if a.dtype != np.float32 else np.float64),
                   lambda a: a.reshape(-1), lambda a: a.copy(order="F"),
                   lambda a: np.where(np.arange(a.size).reshape(a.shape) == 0, np.nan, a)
                   if a.dtype.kind in "fc" else a + 1,
                   lambda a: ~a if a.dtype.kind == "b" else -a, lambda a: a.copy()]
        return changes[pick % len(changes)](value)
    changes = [lambda v: v, lambda v: float("nan"), lambda v: -0.0 if v == 0 else v,
               lambda v: 1 if v is True else v, lambda v: float(v) if type(v) is int else v,
               lambda v: np.float64(v) if type(v) is float else v, lambda v: [v], lambda v: (v,)]
    return changes[pick % len(changes)](copy.deepcopy(value))


@given(st.one_of(st.tuples(_values, st.integers(0, 10**6)).map(lambda p: (p[0], _near(*p))),
                 _values.map(lambda v: (v, copy.deepcopy(v))), st.tuples(_values, _values)))
@settings(max_examples=500, deadline=None)
def test_the_quick_mutation_test_answers_as_the_normalised_comparison(pair):
    assert _outcome(lambda x: calls.same_normalised(*x), pair) == \
        _outcome(lambda x: _slow_same(*x), pair)


def test_the_quick_mutation_test_keeps_the_codecs_limits():
    deep = []
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    cases = [deep, [0] * (codec.MAX_NODES + 1), [np.zeros(2**20)] * 9,
             np.zeros(codec.MAX_ARRAY_BYTES // 8 + 1), "x" * (codec.MAX_STR_CHARS + 1),
             2**64, np.float32(np.nan), {"m": np.array([np.nan]), "t": np.int64(3)}]
    for obj in cases:
        pair = (obj, copy.deepcopy(obj))
        assert _outcome(lambda x: calls.same_normalised(*x), pair) == \
            _outcome(lambda x: _slow_same(*x), pair)
    assert _outcome(lambda x: calls.same_normalised(*x), (deep, deep))[0] == "error"
    assert calls.same_normalised(np.float32(np.nan), np.float32(np.nan)) is False
    assert calls.same_normalised(np.array([-0.0]), np.array([0.0])) is True


# one dtype of every kind numpy has, and the edges of the kinds the codec carries
_EVERY_KIND = [np.bool_, np.int8, np.int64, np.uint8, np.uint64, np.float16, np.float64,
               np.longdouble, np.complex64, np.clongdouble, np.dtype(">f8"), np.dtype(">c16"),
               "datetime64[ns]", "timedelta64[s]", object, "S4", "S100", "U2", "U1000", "V8",
               "V64", np.dtypes.StringDType(), [("a", "f8"), ("b", "i4")], [("m", "f8", (3,))],
               np.dtype((np.int32, {"lo": (np.int16, 0), "hi": (np.int16, 2)}))]


@pytest.mark.parametrize("dtype", _EVERY_KIND, ids=lambda d: str(np.dtype(d)))
def test_the_quick_equality_admits_exactly_the_arrays_the_codec_carries(dtype):
    arr = np.zeros((2, 3), dtype=dtype)
    wire = encode(arr)
    carried = "__ndarray__" in wire
    assert carried == (type(codec.roundtrip(arr)) is np.ndarray)
    assert carried == (type(roundtrip(arr)) is np.ndarray)
    assert codec.plain_equal(arr, arr.copy()) == carried
    assert calls.same_normalised(arr, arr.copy())   # where the quick way is unsure, the slow decides
    try:                                            # a header naming it meets the same rule
        named = repr(np.dtype(arr.dtype.str)) == repr(arr.dtype)
    except TypeError:                               # (numpy cannot read the name back)
        named, raw = True, b""
    else:
        raw = arr.tobytes()
    if named:
        body = {"dtype": arr.dtype.str, "shape": [2, 3], "data": base64.b64encode(raw).decode()}
        assert _outcome(decode, {"__ndarray__": body})[0] == ("value" if carried else "error")
    if isinstance(arr[0, 0], np.generic):           # numpy scalars: always the slow way
        assert codec.plain_equal(arr[0, 0], arr.copy()[0, 0]) is False


def test_the_quick_equality_and_the_codec_refuse_too_many_dimensions():
    for ndim in (codec.MAX_NDIM, codec.MAX_NDIM + 1):
        arr = np.zeros((1,) * ndim)
        carried = _outcome(codec.roundtrip, arr)[0] == "value"
        assert carried == (ndim <= codec.MAX_NDIM) == (_outcome(roundtrip, arr)[0] == "value")
        assert codec.plain_equal(arr, arr.copy()) == carried


@given(_values)
@settings(max_examples=300, deadline=None)
def test_encoded_data_is_made_of_jsons_own_types(obj):
    # what lets a declared check skip the text in between (declare._declare)
    data = encode(obj)
    assert json.loads(json.dumps(data)) == data
    assert json.dumps(json.loads(json.dumps(data))) == json.dumps(data)


@given(arrays, st.sampled_from(["as is", "transposed", "strided", "read-only"]))
@settings(max_examples=150, deadline=None)
def test_a_rollouts_copy_of_an_array_is_deepcopys(arr, layout):
    arr = {"as is": arr, "transposed": arr.T, "strided": arr[..., ::2] if arr.ndim else arr,
           "read-only": arr.copy()}[layout]
    if layout == "read-only":
        arr.flags.writeable = False
    mine, theirs = calls._fresh(arr), copy.deepcopy(arr)
    assert (mine.dtype, mine.shape, mine.strides, mine.flags.writeable) == \
        (theirs.dtype, theirs.shape, theirs.strides, theirs.flags.writeable)
    assert same(mine, theirs) and not np.shares_memory(mine, arr)


def test_a_value_the_codec_refuses_is_a_failed_call_never_a_valueerror():
    """Returning (or leaving in the inputs) what cannot cross the wall, an array of 33
    dimensions, is not raising the ValueError a check of an invalid input asks for: the
    codec's CodecError is a ValueError, the failure to carry a result must not be."""
    from lr_course.grading.checks.check import Check
    from lr_course.grading.checks.compare import judge

    def validates(x):
        raise ValueError(f"x must be positive, got {x}")

    def unsendable(x):
        return np.zeros((1,) * 33)

    def grows(x):
        x.append(np.zeros((1,) * 33))

    call = Call("call", "f", args=(-1,))
    reference = execute(call, {"f": validates})
    assert reference.raised("ValueError")
    for cheat in (unsendable, grows):
        rec = execute(Call("call", "f", args=([],) if cheat is grows else (-1,)),
                      {"f": cheat})
        assert rec.error_type == "UnsendableValue" and not rec.raised("ValueError")
        assert "cannot receive this value: too many dimensions" in rec.error
    rec = execute(call, {"f": unsendable})
    for kind, options in (("same", {}), ("raises", {"names": ["x"]})):
        outcome = judge(Check(kind, (call,), options=options), [reference], [rec])
        assert not outcome.passed, kind
    assert judge(Check("same", (call,)), [reference], [reference]).passed
    assert not issubclass(calls.UnsendableValue, ValueError)
