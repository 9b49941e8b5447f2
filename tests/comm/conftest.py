"""Fixtures for the communication-layer tests."""

from __future__ import annotations

import pytest

from cosim.kernel import World


@pytest.fixture
def world(tmp_path) -> World:
    return World(seed=7, out_dir=tmp_path)
