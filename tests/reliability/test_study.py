"""A study as the CLI will run it: validated config in, tidy tables out."""

import shutil

import pydantic
import pytest

from cosim.kernel.rng import RandomStreams
from cosim.reliability.config import ReliabilityStudyConfig
from cosim.reliability.data import DATA_DIR
from cosim.reliability.study import format_summary, run_study


def test_unknown_keys_and_systems_are_rejected():
    with pytest.raises(pydantic.ValidationError) as caught:
        ReliabilityStudyConfig(years=10, system="rbts_bus9", seeds=3)
    fields = {error["loc"][0] for error in caught.value.errors()}
    assert fields == {"system", "seeds"}


def test_config_from_data():
    config = ReliabilityStudyConfig.model_validate({"system": "rbts_bus4", "years": 50, "repair_model": "fixed", "transformer_action": "replacement"})
    assert config.repair_model.value == "fixed" and config.transformer_action.value == "replacement"


def test_study_tables():
    config = ReliabilityStudyConfig(years=300)
    result = run_study(config, RandomStreams(1)(config.rng_stream))
    rows = result.per_year_rows()
    assert len(rows) == 300 and rows[0]["year"] == 0 and "ens_mwh_per_year" in rows[0]
    summary = {row["index"]: row for row in result.summary_rows()}
    assert summary["saifi_per_year"]["published"] == 0.248
    assert summary["saifi_per_year"]["analytic"] == pytest.approx(0.2482, abs=1e-4)
    assert summary["caidi_hours"]["mc_lower"] < summary["caidi_hours"]["mc_mean"] < summary["caidi_hours"]["mc_upper"]
    assert result.convergence["saidi_hours_per_year"].shape == (300,)
    assert "ens_mwh_per_year" in format_summary(result)


def test_study_of_a_user_folder(tmp_path):
    for kind in ("load_points", "sections", "ties"):
        shutil.copy(DATA_DIR / f"rbts_bus2_{kind}.csv", tmp_path / f"{kind}.csv")
    config = ReliabilityStudyConfig(system=str(tmp_path), years=20)
    result = run_study(config, RandomStreams(1)(config.rng_stream))
    assert result.summary_rows()[0]["published"] is None  # no published values for a user system
