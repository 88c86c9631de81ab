import pytest

from evosim import config as cfg


def test_defaults_follow_the_ka2005_logic_card():
    c = cfg.Config()
    assert (c.task.name, c.task.n_inputs, c.task.max_gates) == ("logic-gates", 4, 12)
    assert (c.schedule.goals, c.schedule.period) == (("G1", "G2"), 20)
    assert (c.run.population, c.selection.scheme, c.selection.elite_fraction) == (1000, "elitist", 0.3)
    assert (c.variation.mutation_rate, c.variation.crossover_rate) == (0.3, 0.5)


def test_toml_round_trip_and_overrides():
    c = cfg.Config().replace(**{"schedule.kind": "mvg", "run.seed": 7, "schedule.goals": "G2,G1"})
    again = cfg.loads(c.to_toml())
    assert again == c and again.schedule.goals == ("G2", "G1")
    assert cfg.Config().replace(**{"variation.mutation_rate": 1}).variation.mutation_rate == 1.0


@pytest.mark.parametrize("overrides,message", [
    ({"run.sed": 1}, "unknown key 'run.sed'; allowed: seed, generations"),
    ({"runs.seed": 1}, "unknown section 'runs'"),
    ({"run.engine": "gpu"}, "run.engine: 'gpu' is not allowed; allowed: one of numba, numpy"),
    ({"variation.mutation_rate": 1.5}, "variation.mutation_rate: 1.5 is out of range; allowed: number in [0.0, 1.0]"),
    ({"run.population": "many"}, "run.population: wrong type; allowed: integer >= 4"),
    ({"run.generations": True}, "run.generations: wrong type"),
    ({"schedule.goal": "G7"}, "schedule.goal: 'G7' is not a goal of logic-gates; allowed: G1"),
    ({"schedule.kind": "mvg", "schedule.goals": ["G1"]}, "at least two different goals"),
    ({"schedule.kind": "rmvg", "task.n_inputs": 3}, "rmvg needs a task whose goals share sub-goals"),
])
def test_bad_values_name_the_key_and_what_is_allowed(overrides, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.Config().replace(**overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_parse_assignment():
    assert cfg.parse_assignment("run.seed=3") == ("run.seed", 3)
    assert cfg.parse_assignment("variation.mutation_rate = 0.5") == ("variation.mutation_rate", 0.5)
    assert cfg.parse_assignment("schedule.kind=mvg") == ("schedule.kind", "mvg")
    assert cfg.parse_assignment('schedule.goals=["G1", "G2"]') == ("schedule.goals", ["G1", "G2"])
    with pytest.raises(cfg.ConfigError, match="expected section.key=value"):
        cfg.parse_assignment("seed3")


def test_bad_toml_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\nseed = 1")
    with pytest.raises(cfg.ConfigError, match="not valid TOML"):
        cfg.load(bad)
    with pytest.raises(cfg.ConfigError, match="cannot read config file"):
        cfg.load(tmp_path / "missing.toml")


def test_shipped_configs_load():
    from pathlib import Path
    folder = Path(__file__).parent.parent / "configs"
    fg, mvg = cfg.load(folder / "ka2005-logic-fg.toml"), cfg.load(folder / "ka2005-logic-mvg.toml")
    assert fg.schedule.kind == "fixed" and mvg.schedule.kind == "mvg"
    assert fg.replace(**{"schedule.kind": "mvg"}) == mvg
