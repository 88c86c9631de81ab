"""/epochs: one row per goal epoch, recomputed here from /history by hand, its networks checked
with outside oracles, and the same rows after a resume in the middle of an epoch."""
import igraph
import numpy as np
import pytest
from helpers import assert_same_run_files

from evosim import runner
from evosim.dependence import halves_of, network_dependence
from evosim.io import SCHEMA_VERSION, load
from evosim.modularity import qm
from evosim.tasks.logic import LogicTask

PERIOD = 20
NAND_XY = "table:0111011101110111"  # row r (x = bit 0, y = bit 1): 0 where x = y = 1


@pytest.fixture(scope="module")
def solved_runs(tmp_path_factory):
    """A fixed-goal and an MVG run that solve their goals now and then: x XOR y, and MVG between
    it and NAND(x, y) (G1 takes 10^4 generations and more)."""
    folder = tmp_path_factory.mktemp("epochs")
    base = runner.cfg.Config().replace(**{
        "run.population": 200, "run.generations": 410, "output.flush_every": 30,
        "modularity.qm_epochs": 4, "modularity.qm_samples": 4, "run.seed": 2,
        "schedule.goal": "XOR", "schedule.goals": ["XOR", NAND_XY]})
    return {kind: runner.run(base.replace(**{"schedule.kind": kind}), folder / f"{kind}.h5").path
            for kind in ("fixed", "mvg")}


def by_hand(h):
    """The epoch table from the history columns alone: blocks of PERIOD generations."""
    gen, solved = h["generation"], h["solved"]
    rows = []
    for start in range(0, len(gen), PERIOD):
        block = slice(start, min(start + PERIOD, len(gen)))
        hits = np.flatnonzero(solved[block])
        end = block.stop - 1
        rows.append({"start": start, "length": block.stop - start, "goal": h["goal"][start],
                     "solved": hits.size > 0,
                     "first_solved": int(hits[0]) if hits.size else -1,
                     "solved_at": start + int(hits[-1]) if hits.size else -1,
                     "fitness_end": h["fitness_best"][end], "q_end": h["q_best"][end]})
    return rows


@pytest.mark.parametrize("kind", ["fixed", "mvg"])
def test_epochs_are_the_history_summarised_by_goal_epoch(solved_runs, kind):
    h = load(solved_runs[kind])
    expected = by_hand(h)
    assert len(h.epochs["start"]) == len(expected) == 21 and h.epochs["length"][-1] == 11
    assert h.epochs["solved"].any() and h.epochs["first_solved"][0] > 0
    if kind == "mvg":
        assert not h.epochs["solved"].all()
    for name in expected[0]:
        assert np.array_equal(h.epochs[name], [row[name] for row in expected]), name
    assert np.array_equal(h.epochs["epoch"], np.arange(21))
    if kind == "mvg":
        assert np.array_equal(h.epochs["goal"] % 2, np.arange(21) % 2)


@pytest.mark.parametrize("kind", ["fixed", "mvg"])
def test_solving_networks_are_stored_and_measured(solved_runs, kind):
    """q_solved is the exact max Q (igraph's ILP) of the stored genome, which is the best of the
    generation solved_at and solves the epoch's goal; Qm as the modularity module computes it."""
    h = load(solved_runs[kind])
    task, e = LogicTask(), h.epochs
    seed = int(runner.seed_streams(2)["modularity"].generate_state(1)[0])
    for i in np.flatnonzero(e["solved"]):
        genome, at = h.epoch_genome[i], e["solved_at"][i]
        target = task.pack(h.goal_targets[e["goal"][i]][None])[0]
        assert task.performance(genome[None], target)[0] == 1.0
        adjacency = task.adjacency(genome)
        optimum = igraph.Graph.Adjacency(adjacency.tolist(), mode="undirected")
        assert e["q_solved"][i] == pytest.approx(
            optimum.community_optimal_modularity().modularity, abs=1e-9)
        assert e["q_solved"][i] == h["q_best"][at]
        assert e["n_edges_solved"][i] == h["n_edges_best"][at]
        if (i + 1) % 4 == 0 or i == len(e["solved"]) - 1:
            record = qm(adjacency, n_samples=4, rng=seed)
            assert np.array_equal([e["qm_solved"][i], e["z_solved"][i]], [record.qm, record.z],
                                  equal_nan=True)
            d = network_dependence(task, genome, halves_of(task))
            assert [e["one_sided_solved"][i], e["q_dependency_solved"][i],
                    e["q_dependency_exact"][i]] == [d.one_sided, d.q_dependency, d.q_exact]
        else:
            assert np.isnan([e["qm_solved"][i], e["one_sided_solved"][i],
                             e["q_dependency_solved"][i]]).all()
    if kind == "fixed":
        assert np.isfinite(e["qm_solved"]).sum() >= 4
    unsolved = ~e["solved"]
    assert np.isnan(e["q_solved"][unsolved]).all() and (e["solved_at"][unsolved] == -1).all()


def test_resume_in_the_middle_of_a_solved_epoch_gives_the_same_epochs(tmp_path, solved_runs):
    config = runner.cfg.loads(load(solved_runs["fixed"]).config_toml)
    whole = load(solved_runs["fixed"])
    # a checkpoint (every 30 generations) inside an epoch whose goal was already solved
    stops = [c for c in range(30, 400, 30)
             if c % PERIOD and whole["solved"][c - c % PERIOD:c].any()]
    assert stops
    stop = stops[0]

    def interrupt(progress):
        if progress.generation >= stop - 1:
            raise KeyboardInterrupt

    cut = runner.run(config, tmp_path / "cut.h5", progress=interrupt)
    assert cut.status == "interrupted" and load(cut.path).checkpoint_generation == stop
    runner.resume(cut.path)
    assert_same_run_files(solved_runs["fixed"], cut.path)


def test_gradient_epochs_are_goal_periods_over_training_epochs(tmp_path):
    """Gradient mode: periods cover the training epochs 1..N; epoch 0 (untrained) is in the
    first; 20 epochs with period 5 give 4 periods."""
    config = runner.cfg.Config().replace(**{
        "run.mode": "gradient", "run.generations": 20, "schedule.kind": "mvg",
        "schedule.period": 5, "modularity.every": 0, "modularity.qm_epochs": 0})
    h = load(runner.run(config, tmp_path / "g.h5").path)
    assert np.array_equal(h.epochs["start"], [0, 6, 11, 16])
    assert np.array_equal(h.epochs["length"], [6, 5, 5, 5])
    assert np.array_equal(h["goal"], [0] * 6 + [1] * 5 + [0] * 5 + [1] * 5)
    assert h.epoch_genome.shape == (4, h.snapshot_genome.shape[1])


def test_gradient_epochs_record_the_node_derivatives_where_qm_is_computed(tmp_path):
    """The dependence columns of a trained network's solved periods are ``evosim dependence``'s
    measures of its stored network where Qm is computed (every 2nd period and the last), NaN
    elsewhere."""
    from evosim.analysis.networks import unit_dependence

    config = runner.cfg.Config().replace(**{
        "run.mode": "gradient", "run.generations": 200, "schedule.kind": "mvg",
        "schedule.period": 50, "modularity.qm_epochs": 2, "modularity.qm_samples": 4})
    h = load(runner.run(config, tmp_path / "g.h5").path)
    e = h.epochs
    measured = np.isfinite(e["qm_solved"])
    assert measured[-1] and not measured.all()
    for i in np.flatnonzero(measured):
        d = unit_dependence(h, h.epoch_genome[i])
        assert [e["one_sided_solved"][i], e["q_dependency_solved"][i],
                e["q_dependency_exact"][i]] == [d.one_sided, d.q_dependency, d.q_exact]
    assert np.isfinite(e["q_dependency_solved"][measured]).all()
    assert np.isnan(e["q_dependency_solved"][~measured]).all()


def test_a_schema_2_run_resumes_and_its_old_epochs_read_as_not_computed(tmp_path, solved_runs):
    """A run interrupted under schema 2 (no dependence columns) resumes: its epochs before the
    cut read NaN/False, later ones are filled as in a run started today, and the file becomes
    schema 3; a schema-2 file that is not resumed reads the same way."""
    import h5py

    config = runner.cfg.loads(load(solved_runs["fixed"]).config_toml)

    def interrupt(progress):
        if progress.generation >= 209:
            raise KeyboardInterrupt

    cut = runner.run(config, tmp_path / "old.h5", progress=interrupt).path
    with h5py.File(cut, "a") as f:  # what a schema-2 evosim wrote
        f.attrs["schema_version"] = 2
        for name in ("one_sided_solved", "q_dependency_solved", "q_dependency_exact"):
            del f["epochs"][name]
    old = load(cut)
    kept = len(old.epochs["epoch"])
    assert kept > 0 and np.isnan(old.epochs["q_dependency_solved"]).all()
    assert not old.epochs["q_dependency_exact"].any()
    runner.resume(cut)
    resumed, whole = load(cut), load(solved_runs["fixed"])
    assert resumed.attrs["schema_version"] == SCHEMA_VERSION
    for name, column in whole.epochs.items():
        if name in ("one_sided_solved", "q_dependency_solved", "q_dependency_exact"):
            assert np.array_equal(resumed.epochs[name][kept:], column[kept:], equal_nan=True)
            blank = False if name == "q_dependency_exact" else np.nan
            assert np.array_equal(resumed.epochs[name][:kept], np.full(kept, blank),
                                  equal_nan=True), name
        else:
            assert np.array_equal(resumed.epochs[name], column, equal_nan=True), name
    assert np.isfinite(resumed.epochs["q_dependency_solved"][kept:]).any()
