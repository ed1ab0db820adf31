"""The stored bytes of a key's state (version 4, ``detectors/state_codec.py``): the dictionary is pinned by
its id, damaged bytes are refused with a reason (never read as an empty state), versions 1-3 still read."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import orjson
import pytest

from detectors import state_codec, state_dictionary
from detectors.engine import Engine, KeyState
from detectors.registry import load_catalog
from detectors.state_codec import DICTIONARIES, FORM, WRITE_WITH, StateFormError
from tests.test_state_form import FIXTURE, FIXTURE_V2, HALF, as_of_fixture, assert_same_state, session_events

FOLDER = Path(state_dictionary.__file__).parent / "state_dicts"


@pytest.fixture(scope="module")
def state() -> KeyState:
    state, _ = Engine(load_catalog().detectors).process_key("session", "case-session", None, session_events())
    return state


def test_every_dictionary_file_is_the_one_its_id_pins() -> None:
    """A dictionary is part of the format: changing its file without a new id would make every state
    written with it read as something else. Fails when a .zdict file changes in place."""
    files = {int(path.stem): path for path in FOLDER.glob("*.zdict")}
    assert sorted(files) == sorted(DICTIONARIES) and WRITE_WITH in DICTIONARIES
    for ident, path in files.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == DICTIONARIES[ident], (
            f"{path.name} changed: restore it (git checkout); a new dictionary takes a new id"
        )
        assert state_codec.dictionary(ident) == path.read_bytes()


def test_a_dictionary_that_is_not_the_pinned_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DICTIONARIES, 1, "0" * 64)
    with pytest.raises(RuntimeError, match=r"not dictionary 1 .*a new dictionary takes a new id"):
        state_codec.dictionary(1)


def test_the_builder_never_rebuilds_a_dictionary_in_place() -> None:
    with pytest.raises(SystemExit):
        state_dictionary.main(["--id", str(WRITE_WITH)])
    assert (
        hashlib.sha256((FOLDER / f"{WRITE_WITH}.zdict").read_bytes()).hexdigest() == DICTIONARIES[WRITE_WITH]
    )


def test_the_dictionary_holds_names_the_code_fixes() -> None:
    text = state_dictionary.build()
    assert len(text) <= 32 * 1024  # deflate reaches back 32 KB at most
    for fixed in (b'"behaviour.runaway_loop":{', b'"window~T":[', b'"second person"', b'"allowed_by_rule"',
                  b'"creds":', b'{"v":3,"ctx":{"kk":"session","k":"', b"heuristic: "):  # fmt: skip
        assert fixed in text


def test_stored_bytes_round_trip_exactly_and_the_same_state_gives_the_same_bytes(state: KeyState) -> None:
    data = state.to_bytes()
    assert data[:2] == bytes([FORM, WRITE_WITH])
    restored = KeyState.from_bytes(data)
    assert_same_state(restored, state)
    assert restored.to_dict() == state.to_dict()
    assert restored.to_bytes() == data  # the worker tells a changed state by its bytes
    assert len(data) < 0.5 * len(orjson.dumps(state.to_dict()))


def test_the_json_of_forms_1_to_3_still_reads(state: KeyState) -> None:
    for fixture in (FIXTURE, FIXTURE_V2):
        assert KeyState.from_bytes(fixture.read_bytes()) == KeyState.from_dict(
            orjson.loads(fixture.read_bytes())
        )
    assert KeyState.from_bytes(orjson.dumps(state.to_dict())) == state
    half, _ = Engine(load_catalog().detectors).process_key(
        "session", "case-session", None, session_events()[:HALF]
    )
    assert KeyState.from_bytes(FIXTURE_V2.read_bytes()).to_dict() == as_of_fixture(half).to_dict()


def test_every_damaged_byte_and_every_truncation_is_refused(state: KeyState) -> None:
    data = state.to_bytes()
    for cut in range(len(data)):
        with pytest.raises(StateFormError, match=r"truncated|corrupt"):
            KeyState.from_bytes(data[:cut])
    for place in range(len(data)):
        for bit in range(8):
            damaged = bytearray(data)
            damaged[place] ^= 1 << bit
            try:
                read = KeyState.from_bytes(bytes(damaged))
            except StateFormError:
                continue
            # a bit deflate never reads (the last byte's padding), or a back-reference turned to another
            # copy of the same text: the very state, as its checksum says
            assert read.to_dict() == state.to_dict()
    with pytest.raises(StateFormError, match="corrupt: 2 bytes after"):
        KeyState.from_bytes(data + b"\x00\x00")


def test_what_a_newer_chainwatch_wrote_says_so(state: KeyState) -> None:
    data = state.to_bytes()
    for header in (bytes([FORM + 1, WRITE_WITH]), bytes([FORM, max(DICTIONARIES) + 1])):
        with pytest.raises(StateFormError, match="newer chainwatch") as caught:
            KeyState.from_bytes(header + data[2:])
        assert caught.value.newer
    text = orjson.dumps({**state.to_dict(), "v": 9})
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=state_codec.dictionary(WRITE_WITH))
    later = struct.pack(">BBI", FORM, WRITE_WITH, zlib.crc32(text)) + deflate.compress(text) + deflate.flush()
    with pytest.raises(StateFormError, match="state form 9") as caught:
        KeyState.from_bytes(later)
    assert caught.value.newer


def test_bytes_that_check_out_but_hold_no_state_are_refused() -> None:
    for saved in ([1, 2], {"v": 3}, {"v": 3, "ctx": {"kk": "session"}}):
        text = orjson.dumps(saved)
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=state_codec.dictionary(WRITE_WITH))
        data = (
            struct.pack(">BBI", FORM, WRITE_WITH, zlib.crc32(text)) + deflate.compress(text) + deflate.flush()
        )
        with pytest.raises(StateFormError, match="corrupt"):
            KeyState.from_bytes(data)
    with pytest.raises(StateFormError, match="not JSON"):
        KeyState.from_bytes(b'{"v":3,')
