"""The DR message codec: header and arrays round-trip; malformed payloads are PayloadErrors."""

import numpy as np
import pytest

from cosim.markets.wire import PayloadError, decode, encode


def test_round_trip_keeps_values_dtypes_and_shapes():
    arrays = {"kwh": np.arange(12, dtype=np.float32).reshape(3, 4), "ids": np.array(["a.000001", "b.2"]),
              "idx": np.array([3, 1, 2], dtype=np.int64), "empty": np.zeros((0, 24))}
    header, back = decode(encode({"csp": "csp_a", "n": 3}, arrays))
    assert header == {"csp": "csp_a", "n": 3}
    for name, a in arrays.items():
        assert back[name].dtype == a.dtype and back[name].shape == a.shape
        assert np.array_equal(back[name], a)


def test_wire_size_is_the_data_size():
    payload = encode({}, {"x": np.zeros((1000, 24), dtype=np.float32)})
    assert 96_000 < len(payload) < 96_200


@pytest.mark.parametrize("bad", [b"", b"\x00\x00\x00\x09{not json", encode({}, {"x": np.ones(4)})[:-1],
                                 encode({}, {"x": np.ones(4)}) + b"\x00"])
def test_malformed_payloads_raise_payload_error(bad):
    with pytest.raises(PayloadError):
        decode(bad)
