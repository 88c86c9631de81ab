"""Conditions are formed from the configs recorded in the run files, not from folders."""
import dataclasses
import shutil

import pytest

from evosim.analysis import (AnalysisError, condition_warnings, differing_keys, flat_config,
                             group_runs, load_conditions, load_sources)
from evosim import config as cfg
from evosim.analysis.conditions import label_keys
from evosim.io import RunFileError


def test_one_sweep_folder_holds_two_conditions(sweep_folder):
    conditions = load_conditions([sweep_folder])
    assert [c.name for c in conditions] == ["schedule.kind=fixed", "schedule.kind=mvg"]
    for c, kind in zip(conditions, ("fixed", "mvg")):
        assert len(c) == 3 and c.schedule == kind and c.settings == {"schedule.kind": kind}
        assert sorted(s.seed for s in c.summaries) == [0, 1, 2]
        assert all(f"schedule.kind={kind}__" in h.path.name for h in c.histories)
        assert c.varying == [] and c.get("run.population") == 100
        assert "run.seed" not in c.shared and not any(k.startswith("output.") for k in c.shared)


def test_folders_are_only_sources(sweep_folder, tmp_path):
    """Files of both conditions spread over two folders, one also named as a file: the same two
    conditions, each file counted once."""
    files = sorted(sweep_folder.glob("*.h5"))
    for name in "ab":
        (tmp_path / name).mkdir()
    for i, f in enumerate(files):  # a: fixed 0, fixed 2, mvg 1; b: the others
        shutil.copy(f, tmp_path / "ab"[i % 2] / f.name)
    conditions = load_conditions([tmp_path / "a", tmp_path / "b", tmp_path / "b" / files[1].name])
    assert [(c.name, len(c)) for c in conditions] == [("schedule.kind=fixed", 3),
                                                       ("schedule.kind=mvg", 3)]


def test_grouping_by_chosen_keys(sweep_folder):
    histories = load_sources([sweep_folder])
    by_kind = group_runs(histories, ["schedule.kind"])
    assert [c.name for c in by_kind] == ["schedule.kind=fixed", "schedule.kind=mvg"]
    pooled = group_runs(histories, ["task.name"])
    assert [(c.name, len(c), c.varying) for c in pooled] == \
        [("task.name=logic-gates", 6, ["schedule.kind"])]
    assert any("also differ in schedule.kind" in n for n in condition_warnings(pooled))
    by_seed = group_runs(histories, ["run.seed"])  # asked for: the user's choice
    assert [c.name for c in by_seed] == ["run.seed=0", "run.seed=1", "run.seed=2"]
    with pytest.raises(AnalysisError, match="--by schedule.kinds: no run's config has .*"
                                            "differ between the runs: schedule.kind$"):
        group_runs(histories, ["schedule.kinds"])


def test_bookkeeping_keys_never_make_conditions(sweep_folder):
    configs = [flat_config(h) for h in load_sources([sweep_folder])]
    assert {c["run.seed"] for c in configs} == {0, 1, 2}
    assert differing_keys(configs) == ["schedule.kind"]
    configs[0]["output.flush_every"] = 1
    configs[1]["cost.p"] = 0.5
    assert differing_keys(configs) == ["cost.p", "schedule.kind"]
    assert isinstance(configs[0]["schedule.goals"], tuple)  # lists are hashable values


def with_config(h, **overrides):
    """The run as if it had been run with these config changes (in memory)."""
    config = cfg.loads(h.config_toml).replace(**overrides).to_toml()
    return dataclasses.replace(h, attrs={**h.attrs, "config": config})


def test_keys_a_run_does_not_read_make_no_condition(sweep_folder):
    fixed = load_sources(sorted(sweep_folder.glob("schedule.kind=fixed__*.h5")))
    unread = with_config(fixed[0], **{"gradient.hidden": [16], "variation.add_connection_rate":
                                      0.5})  # an evolved logic run reads neither
    assert [(c.name, len(c)) for c in group_runs([unread, *fixed[1:]])] == [("all runs", 3)]
    read = with_config(fixed[0], **{"variation.crossover_rate": 0.0})
    assert [c.name for c in group_runs([read, *fixed[1:]])] == \
        ["variation.crossover_rate=0.0", "variation.crossover_rate=0.5"]


def test_labels_name_the_keys_that_tell_conditions_apart():
    keys = ["cost.layout", "modularity.directed", "schedule.kind", "task.name"]
    points = [("line", False, "mvg", "logic-gates"), ("line", False, "fixed", "logic-gates"),
              ("layered", True, "mvg", "retina")]
    assert label_keys(keys, points) == ["task.name", "schedule.kind"]
    assert label_keys(["cost.kind", "cost.p"], [("count", 0.25), ("count", 1.0),
                                                ("none", 0.25)]) == ["cost.kind", "cost.p"]
    assert label_keys([], [()]) == []


def test_warnings_for_small_conditions_and_copies(sweep_folder):
    conditions = load_conditions([sweep_folder])
    notes = condition_warnings(conditions)
    assert notes == [f"condition {c.name}: only 3 runs (fewer than 20); its statistics are rough"
                     for c in conditions]
    assert condition_warnings(conditions, min_runs=3) == []
    twice = load_conditions([sweep_folder])[0]
    twice.summaries.append(twice.summaries[0])
    twice.histories.append(twice.histories[0])
    assert any("seeds [0] appear more than once" in n
               for n in condition_warnings([twice], min_runs=1))


def test_bad_sources(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnalysisError, match="no run files"):
        load_sources([tmp_path / "empty"])
    with pytest.raises(RunFileError, match="no such run file"):
        load_sources([tmp_path / "missing.h5"])
