"""Run files as the field's data tools read them: xarray (the file itself through h5netcdf, and
``evosim.io.to_xarray``), pandas (``evosim.analysis.load_runs``), every dataset described."""
import h5py
import numpy as np
import pytest

from evosim import runner
from evosim.analysis import load_runs
from evosim.analysis.runs import AnalysisError, summarise
from evosim.config import Config
from evosim.io import load, to_xarray
from tests.analysis.conftest import SEEDS

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")
pd = pytest.importorskip("pandas")


def _every_dataset(path) -> dict[str, dict]:
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, dict(obj.attrs))
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def test_xarray_opens_history_and_epochs_by_their_index_with_no_phony_dimensions(sweep_folder):
    path = sorted(sweep_folder.glob("*.h5"))[0]
    h = load(path)
    with xr.open_dataset(path, group="history", engine="h5netcdf") as ds:
        assert dict(ds.sizes) == {"generation": len(h)}
        assert np.array_equal(ds["generation"].values, h["generation"])
        assert set(ds.data_vars) == set(h.columns) - {"generation"}
        assert np.array_equal(ds["q_best"].values, h["q_best"])
        assert ds["q_best"].attrs["units"] == "1" and "modularity" in ds["q_best"].attrs[
            "description"]
    with xr.open_dataset(path, group="epochs", engine="h5netcdf") as ds:
        assert dict(ds.sizes) == {"epoch": len(h.epochs["epoch"]),
                                  "gene": h.epoch_genome.shape[1]}
        assert ds["genome"].dims == ("epoch", "gene")
    with xr.open_dataset(path, group="goals", engine="h5netcdf") as ds:
        assert [str(n) for n in ds["name"].values] == h.goal_names  # text, not bytes
        assert ds["target"].dims == ("name", "row")


@pytest.mark.parametrize("overrides", [
    {},
    {"task.name": "retina", "run.mode": "gradient", "run.generations": 6, "schedule.period": 3},
    {"run.mode": "gradient", "gradient.model": "nand-circuit", "run.generations": 6},
])
def test_every_dataset_has_a_description_and_units_also_after_a_resume(tmp_path, overrides):
    config = Config().replace(**{"run.population": 60, "run.generations": 120,
                                 "schedule.kind": "mvg", "output.flush_every": 3,
                                 "modularity.qm_samples": 2, **overrides})
    path = tmp_path / "run.h5"

    def stop(progress):
        if progress.generation >= 2:
            raise KeyboardInterrupt

    assert runner.run(config, path, progress=stop).status == "interrupted"
    runner.resume(path)
    datasets = _every_dataset(path)
    assert "history/generation" in datasets and "gene" in datasets
    for name, attrs in datasets.items():
        assert attrs.get("description"), name
        assert isinstance(attrs.get("units"), str), name
    with xr.open_dataset(path, group="history", engine="h5netcdf") as ds:
        assert list(ds.sizes) == ["generation"]


def test_to_xarray_names_the_goals_and_keeps_the_runs_attributes(sweep_folder):
    path = sorted(sweep_folder.glob("*mvg*.h5"))[0]
    h = load(path)
    ds = to_xarray(path)
    assert np.array_equal(ds["generation"].values, h["generation"])
    assert list(ds["goal_name"].values) == [h.goal_names[g] for g in h["goal"]]
    assert ds.attrs["seed"] == h.attrs["seed"] and ds.attrs["task"] == "logic-gates"
    assert ds["fitness_best"].attrs["units"] == "1"
    epochs = to_xarray(path, "epochs")
    assert np.array_equal(epochs["q_solved"].values, h.epochs["q_solved"], equal_nan=True)
    assert epochs["genome"].shape == h.epoch_genome.shape
    frame = ds.to_dataframe()
    assert len(frame) == len(h) and frame.index.name == "generation"
    with pytest.raises(ValueError, match="allowed: history, epochs"):
        to_xarray(path, "snapshot")


def test_load_runs_gives_one_row_per_run_with_the_grid_keys_as_columns(sweep_folder):
    runs = load_runs(sweep_folder)
    assert len(runs) == 2 * len(SEEDS)
    assert list(runs.columns[:3]) == ["run", "seed", "schedule.kind"]
    assert sorted(zip(runs["schedule.kind"], runs["seed"])) == sorted(
        (kind, s) for kind in ("fixed", "mvg") for s in SEEDS)
    first = sorted(sweep_folder.glob("*.h5"))[0]
    row = runs[runs["run"] == first.stem].iloc[0]
    s = summarise(load(first))
    assert row["n_epochs"] == s.n_epochs and row["t_solve"] == s.t_solve
    assert row["q_solved"] == pytest.approx(s.q_solved, nan_ok=True)


@pytest.mark.parametrize("level, table", [("epoch", "epochs"), ("generation", "columns")])
def test_load_runs_by_epoch_and_generation_stacks_every_runs_rows(sweep_folder, level, table):
    frame = load_runs([sweep_folder], level=level)
    histories = [load(p) for p in sorted(sweep_folder.glob("*.h5"))]
    rows = [getattr(h, table) for h in histories]
    assert len(frame) == sum(len(r["goal"]) for r in rows)
    h, one = histories[0], frame[frame["run"] == histories[0].path.stem]
    assert np.array_equal(one["goal"].to_numpy(), getattr(h, table)["goal"])
    assert list(one["goal_name"]) == [h.goal_names[g] for g in getattr(h, table)["goal"]]
    assert one["schedule.kind"].nunique() == 1 and one["seed"].iloc[0] == h.attrs["seed"]


def test_load_runs_refuses_an_unknown_level_in_one_line(sweep_folder):
    with pytest.raises(AnalysisError, match="allowed: run, epoch, generation"):
        load_runs(sweep_folder, level="block")
