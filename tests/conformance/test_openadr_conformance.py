"""OpenADR 2.0b conformance: one list of VTN cases (openadr_cases.CASES) over the simulated comm layer and real
HTTP, every request written and every answer parsed by openleadr (the third-party peer; its OpenADRClient VEN
runs the whole registration and event story in tests/hil/test_hil_openadr.py).
"""

from __future__ import annotations

import pytest

from openadr_cases import CASES, TRANSPORTS, Case, play


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_openadr_case(case: Case, transport: str, tmp_path) -> None:
    carrier = TRANSPORTS[transport](tmp_path)
    try:
        play(case, carrier)
    finally:
        carrier.close()
