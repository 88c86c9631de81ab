import numpy as np
import pytest

from evosim.goals import NO_SELECTION, BINARY_FUNCTIONS, logic_goal_family, make_schedule


def _table(fn):
    """Truth table by plain iteration over rows: input i of row r is (r >> i) & 1."""
    return np.array([fn(*[(r >> i) & 1 for i in range(4)]) for r in range(16)], dtype=np.uint8)


def test_g1_g2_truth_tables():
    family = logic_goal_family(4)
    assert np.array_equal(family.target("G1"), _table(lambda x, y, z, w: (x ^ y) & (z ^ w)))
    assert np.array_equal(family.target("G2"), _table(lambda x, y, z, w: (x ^ y) | (z ^ w)))
    assert family.target("G1").sum() == 4 and family.target("G2").sum() == 12


def test_rmvg_family_is_the_ten_functions_of_both_xors():
    family = logic_goal_family(4)
    names = family.rmvg_names()
    assert len(names) == 10 and "G1" in names and "G2" in names
    tables = {tuple(family.target(n)) for n in names}
    assert len(tables) == 10
    for fn in BINARY_FUNCTIONS.values():
        outs = np.array([[fn(np.uint8(a), np.uint8(b)) for b in (0, 1)] for a in (0, 1)])
        assert (outs[0] != outs[1]).any() and (outs[:, 0] != outs[:, 1]).any()


def test_mvg_switches_exactly_every_period():
    family = logic_goal_family(4)
    s = make_schedule("mvg", family, 1001, period=20, goals=("G1", "G2"))
    assert list(s.names) == ["G1", "G2"]
    assert np.array_equal(s.switches(), np.arange(20, 1001, 20))
    assert s.goal_at(0) == 0 and s.goal_at(19) == 0 and s.goal_at(20) == 1 and s.goal_at(40) == 0


@pytest.mark.parametrize("kind", ["rmvg", "random"])
def test_varying_schedules_change_goal_at_every_switch(kind):
    family = logic_goal_family(4)
    s = make_schedule(kind, family, 2001, period=10, rng=np.random.default_rng(1))
    per_epoch = s.goal_index[::10]
    assert np.all(per_epoch[1:] != per_epoch[:-1])
    assert np.array_equal(s.switches(), np.arange(10, 2001, 10))
    if kind == "rmvg":
        assert set(s.names) <= set(family.rmvg_names()) and len(s.names) == 10
    else:
        assert len(s.names) > 150  # fresh random tables, nearly never repeated
    for name, target in zip(s.names, s.targets):
        assert np.array_equal(family.target(name), target)


def test_fixed_schedule_and_unknown_goal():
    family = logic_goal_family(4)
    s = make_schedule("fixed", family, 50, goal="G2")
    assert s.names == ("G2",) and not s.goal_index.any()
    with pytest.raises(ValueError, match="unknown goal"):
        family.target("G3")


@pytest.mark.parametrize("kind", ["rvg-c", "rvg-v", "vg0"])
def test_kashtan_noor_alon_controls_alternate_the_goal_with_another_epoch(kind):
    family = logic_goal_family(4)
    s = make_schedule(kind, family, 401, period=20, goal="G1", rng=np.random.default_rng(2))
    per_epoch = s.goal_index[::20]
    g1 = family.target("G1")
    assert s.names[0] == "G1" and (per_epoch[::2] == 0).all() and (per_epoch[1::2] != 0).all()
    others = s.targets[per_epoch[1::2]]
    if kind == "vg0":  # no selection, scored on G1's table; selection off exactly there
        assert s.names == ("G1", NO_SELECTION) and (others == g1).all()
        assert np.array_equal(s.selected, s.goal_index == 0)
        return
    assert s.selected is None and not (others == g1).all(axis=1).any()  # never G1's own table
    distinct = len({t.tobytes() for t in others})
    assert distinct == (1 if kind == "rvg-c" else len(others))  # rvg-v: fresh ones
    for name, target in zip(s.names, s.targets):
        assert np.array_equal(family.target(name), target)


def test_a_schedule_over_training_epochs_keeps_its_selection_aligned():
    s = make_schedule("vg0", logic_goal_family(4), 40, period=10).after_untrained_row()
    assert len(s.selected) == len(s.goal_index) == 41
    assert np.array_equal(s.selected, s.goal_index == 0)


def test_qm_is_due_on_goal_epochs_only():
    """Qm every 2nd goal epoch: under vg0 the epochs without selection are not counted (Qm of a
    network that survived by chance measures nothing), elsewhere every epoch is."""
    from evosim.epochs import qm_due

    family = logic_goal_family(4)
    vg0 = make_schedule("vg0", family, 401, period=20)
    assert vg0.goal_epoch_number(np.arange(6)).tolist() == [1, 0, 2, 0, 3, 0]
    due = np.flatnonzero(qm_due(vg0, np.arange(401), 400, 2))
    assert due.tolist() == [59, 139, 219, 299, 379, 400]  # ends of epochs 2, 6, 10, 14, 18; last
    assert vg0.selected[due[:-1]].all()
    fixed = make_schedule("fixed", family, 401, period=20)
    assert np.flatnonzero(qm_due(fixed, np.arange(401), 400, 2)).tolist()[:3] == [39, 79, 119]


@pytest.mark.parametrize("kind", ["mvg", "rvg-c", "rvg-v"])
def test_qm_measures_both_goals_of_an_alternation_alike(kind):
    """The multiples of an even qm_epochs all fall on the second goal of two alternating goals:
    the epoch before each is measured too, so both goals are measured equally often."""
    from evosim.epochs import qm_due

    schedule = make_schedule(kind, logic_goal_family(4), 4001, period=20,
                             rng=np.random.default_rng(1))
    due = np.flatnonzero(qm_due(schedule, np.arange(4001), 4000, 10))[:-1]
    assert due[:4].tolist() == [179, 199, 379, 399]  # ends of epochs 8, 9, 18, 19
    first = schedule.goal_index[due] == schedule.goal_index[0]
    assert first.sum() == (~first).sum() == 20
