import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evosim import config as cfg
from evosim.validate import validate


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
    ({"run.population": "many"}, "run.population: wrong type; allowed: integer in [4, 65535]"),
    ({"run.generations": True}, "run.generations: wrong type"),
    ({"variation.crossover_rate": float("nan")}, "variation.crossover_rate: nan is not a finite"),
    ({"schedule.goal": "G7"},
     "schedule.goal: 'G7' is not a goal of logic-gates with task.n_inputs = 4; allowed: G1"),
    ({"schedule.kind": "mvg", "schedule.goals": ["G1"]}, "at least two different goals"),
    ({"schedule.kind": "rmvg", "task.n_inputs": 3}, "rmvg needs a task whose goals share sub-goals"),
])
def test_bad_values_name_the_key_and_what_is_allowed(overrides, message):
    with pytest.raises(cfg.ConfigError) as err:
        validate(cfg.Config().replace(**overrides))
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


def test_mvg_between_goals_with_the_same_truth_table_is_refused():
    with pytest.raises(cfg.ConfigError, match="these have one truth table: XOR, PARITY"):
        validate(cfg.Config().replace(**{"task.n_inputs": 2, "schedule.kind": "mvg",
                                "schedule.goals": ["XOR", "PARITY"], "schedule.goal": "XOR"}))


# --- property-based: any table of keys and values either builds a config or names what is wrong
_values = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.booleans(),
                    st.text(max_size=8), st.lists(st.text(max_size=4), max_size=3))
_keys = {f.name: [g.name for g in dataclasses.fields(f.default_factory)]
         for f in dataclasses.fields(cfg.Config)}
_section_names = st.sampled_from(sorted(_keys) + ["bogus"])


@st.composite
def _tables(draw):
    table = {}
    for section in draw(st.lists(_section_names, max_size=4, unique=True)):
        keys = st.sampled_from(_keys.get(section, []) + ["nope"])
        table[section] = draw(st.dictionaries(keys, _values, max_size=4))
    return table


@settings(max_examples=300, deadline=None)
@given(_tables())
def test_any_config_table_is_accepted_or_gets_a_one_line_error(table):
    try:
        config = cfg.from_dict(table)
    except cfg.ConfigError as err:
        message = str(err)
        assert "\n" not in message and "allowed" in message or "at least two" in message
        named = [f"{s}.{k}" for s, keys in table.items() for k in keys] + list(table)
        assert any(name in message for name in named) or "unknown section" in message
    else:
        assert cfg.loads(config.to_toml()) == config


def test_task_and_mode_defaults_follow_changes_but_chosen_values_stay():
    card = cfg.Config()
    retina = card.replace(**{"task.name": "retina"})
    assert retina.schedule.goals == ("and", "or") and retina.variation.crossover_rate == 0.0
    gradient = card.replace(**{"run.mode": "gradient"})
    assert gradient.output.flush_every == 10  # epochs are dearer: write and report more often
    pairs = retina.replace(**{"task.name": "digit-pairs"})
    assert pairs.run.mode == "gradient" and pairs.gradient.hidden == (64, 32, 2)
    assert pairs.replace(**{"task.name": "logic-gates"}) == card
    chosen = card.replace(**{"variation.mutation_rate": 0.5, "output.flush_every": 50})
    moved = chosen.replace(**{"run.mode": "gradient"})
    assert moved.variation.mutation_rate == 0.5 and moved.output.flush_every == 50


def test_the_config_module_is_a_leaf():
    """config.py imports no other part of evosim (each layer checks its own facts in
    evosim.validate), not even inside a function."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(cfg.__file__).read_text())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and m.startswith("evosim")]


def test_checks_a_layer_owns_come_with_validate_not_with_the_config():
    card = cfg.Config()
    bad_goal = card.replace(**{"schedule.goal": "G7"})  # a config, not yet a run
    with pytest.raises(cfg.ConfigError, match="schedule.goal: 'G7' is not a goal"):
        validate(bad_goal)
    deap_retina = card.replace(**{"task.name": "retina", "run.engine": "deap"})
    with pytest.raises(cfg.ConfigError, match="run.engine: deap runs the tasks logic-gates only"):
        validate(deap_retina)
    with pytest.raises(cfg.ConfigError, match="unknown key 'selection.tournsizee'"):
        validate(card.replace(**{"selection.operator": "deap.tools.selTournament",
                                 "selection.tournsizee": 3}))
    assert validate(card) is card
