"""The batched array engine (the cupy engine's code, run here with NumPy) against the Numba
engine run by run, and the batch's run files against single runs'."""
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from click.testing import CliRunner

from evosim import batch, batch_recording, runner
from evosim import config as cfg
from evosim import sweep as sw
from evosim import xp
from evosim.cli import main
from evosim.config import Config, ConfigError
from evosim.engine import array_kernels as AK
from evosim.engine import check_config, evolve
from evosim.engine.batched import batch_signature, evolve_batch, on_gpu
from evosim.io import load
from evosim.io.lock import RunLock
from evosim.tasks import get_task
from tests.helpers import assert_same_run_files, datasets

COLUMNS = ("generation", "goal", "fitness_best", "fitness_mean", "cost_best", "cost_mean",
           "front0_size", "best_genome")


@pytest.fixture
def on_numpy(monkeypatch):
    """The cupy engine with NumPy for CuPy: its own code, on the CPU."""
    monkeypatch.setattr(xp, "gpu_module", lambda: np)


def _columns(blocks) -> dict[str, np.ndarray]:
    return {name: np.concatenate([getattr(b, name) for b in blocks]) for name in COLUMNS}


def _small(**overrides) -> Config:
    return Config().replace(**{"run.population": 120, "run.generations": 160,
                               "schedule.kind": "mvg", "schedule.period": 20,
                               "output.flush_every": 50, "modularity.qm_samples": 3,
                               **overrides})


@pytest.mark.parametrize("overrides", [
    {},
    {"selection.scheme": "tournament", "selection.tournament_size": 3},
    {"cost.kind": "count", "cost.weight": 0.01},
    {"cost.kind": "length", "cost.weight": 0.002, "cost.layout": "grid"},
    {"cost.kind": "length", "cost.weight": 0.002, "cost.layout": "evolved",
     "run.population": 40},
    {"schedule.kind": "vg0", "schedule.period": 10},
    {"task.output": "last-gate", "task.n_inputs": 7, "task.max_gates": 20},
    {"task.name": "retina", "run.population": 60},
    {"task.name": "retina", "run.population": 60, "selection.scheme": "tournament",
     "cost.kind": "length", "cost.weight": 0.002, "variation.value_mutation": "sferes"},
    {"selection.scheme": "nsga2", "cost.kind": "count", "cost.p": 0.25},
    {"selection.scheme": "nsga2", "cost.kind": "count", "cost.p": 0.25,
     "cost.coins": "per-check"},
    {"selection.scheme": "nsga2", "cost.kind": "length", "cost.layout": "evolved",
     "run.population": 40},
    {"selection.scheme": "nsga2"},
    {"task.name": "retina", "run.population": 60, "selection.scheme": "nsga2",
     "cost.kind": "count", "cost.p": 0.5, "cost.coins": "per-check"},
    {"task.name": "retina", "run.population": 60, "task.activation": "tanh",
     "task.zero_output": "wrong", "cost.kind": "count", "cost.weight": 0.01,
     "variation.crossover_rate": 0.5},
])
def test_every_run_of_a_batch_is_the_numba_engines_run_alone(overrides):
    """Three runs that differ in seed, schedule and rates (mutation, crossover, the retina's
    connection and value mutations, cost weight) evolve as one batch; each run's every column equals the Numba engine's, and a batch of one
    gives the same."""
    base = _small(**overrides)
    configs = [base.replace(**{"run.seed": 0}),
               base.replace(**{"run.seed": 1, "variation.mutation_rate": 0.6,
                               "variation.crossover_rate": 0.1,
                               "variation.add_connection_rate": 0.5,
                               "variation.weight_mutation_scale": 3.0,
                               "variation.bias_mutation_rate": 0.2}),
               base.replace(**{"run.seed": 2, "schedule.kind": "rmvg", "cost.weight": 0.0})]
    task = get_task(base.task, base.cost.layout)
    schedules = [runner.build_schedule(c, task) for c in configs]
    keys = [runner.run_key(c) for c in configs]
    together = list(evolve_batch(task, schedules, configs, keys, block_size=50))
    for r, config in enumerate(configs):
        alone = _columns(list(evolve(task, schedules[r], config.replace(**{"run.engine": "numba"}),
                                     keys[r], block_size=50)))
        batched = _columns([blocks[r] for blocks in together])
        for name in COLUMNS:
            assert np.array_equal(alone[name], batched[name]), (r, name)
    one = _columns([b[0] for b in evolve_batch(task, schedules[1:2], configs[1:2], keys[1:2],
                                               block_size=50)])
    assert all(np.array_equal(one[n], _columns([b[1] for b in together])[n]) for n in COLUMNS)


@pytest.mark.parametrize("scheme", ["elitist", "nsga2"])
def test_resuming_a_batch_from_its_block_states_continues_each_run(scheme):
    configs = [_small(**{"run.seed": s, "selection.scheme": scheme, "cost.kind": "count"})
               for s in range(2)]
    task = get_task(configs[0].task, configs[0].cost.layout)
    schedules = [runner.build_schedule(c, task) for c in configs]
    keys = [runner.run_key(c) for c in configs]
    full = list(evolve_batch(task, schedules, configs, keys, block_size=50))
    states = [b.state for b in full[1]]
    resumed = list(evolve_batch(task, schedules, configs, keys, states, block_size=50))
    assert len(resumed) == len(full) - 2
    for a, b in zip(full[2:], resumed):
        for r in range(2):
            assert np.array_equal(a[r].best_genome, b[r].best_genome)
            assert np.array_equal(a[r].fitness_mean, b[r].fitness_mean)
            assert np.array_equal(a[r].state.genomes, b[r].state.genomes)


def test_runs_that_differ_in_more_than_seeds_schedules_and_rates_do_not_batch():
    a, b = _small(), _small(**{"run.population": 100})
    assert batch_signature(a) == batch_signature(a.replace(**{"run.seed": 5,
                                                              "schedule.kind": "rmvg",
                                                              "cost.weight": 0.3}))
    assert batch_signature(a) != batch_signature(b)
    task = get_task(a.task, a.cost.layout)
    with pytest.raises(ValueError, match="cannot share a batch"):
        next(evolve_batch(task, [runner.build_schedule(c, task) for c in (a, b)], [a, b],
                          [np.uint64(1), np.uint64(2)]))


@pytest.mark.parametrize("overrides, key", [
    ({"selection.scheme": "nsga2", "cost.kind": "count", "selection.unique": True},
     "selection.unique"),
    ({"task.name": "retina", "selection.scheme": "nsga2", "selection.diversity": True},
     "selection.diversity"),
    ({"task.name": "retina", "cost.kind": "length", "cost.layout": "optimal"}, "task"),
    ({"task.feedback": True}, "task"),
])
def test_what_the_cupy_engine_does_not_run_is_refused_naming_the_key(overrides, key):
    with pytest.raises(ConfigError, match=f"^{key}"):
        check_config(_small(**overrides, **{"run.engine": "cupy"}))


def test_sort_keys_made_unique_give_the_stable_order():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 8, size=(4, 300)).astype(np.uint64)  # many equal keys
    assert np.array_equal(AK.order_of(keys), np.argsort(keys, axis=1, kind="stable"))


def test_dense_scores_per_run_are_numpys_unique_inverse():
    rng = np.random.default_rng(2)
    correct = rng.integers(10, 16, size=(3, 200))
    cost = rng.integers(0, 4, size=(3, 200)).astype(float)
    weight = np.array([[0.01], [0.0], [0.5]])
    dense = AK.scores(correct, cost, 16, weight)
    for r in range(3):
        fitness = correct[r] / 16 - weight[r, 0] * cost[r]
        assert np.array_equal(dense[r], np.unique(fitness, return_inverse=True)[1])


@pytest.mark.parametrize("scheme", [{}, {"selection.scheme": "nsga2", "cost.kind": "count",
                                         "cost.p": 0.25}])
def test_a_batch_writes_the_files_its_runs_write_alone(tmp_path, on_numpy, scheme):
    base = _small(**{"run.engine": "cupy", "run.generations": 120, **scheme})
    configs = [base.replace(**{"run.seed": 0}),
               base.replace(**{"run.seed": 1, "variation.mutation_rate": 0.5,
                               "schedule.kind": "rmvg"})]
    paths = [tmp_path / f"batch{r}.h5" for r in range(2)]
    results = batch.run_batch(configs, paths)
    assert [r.status for r in results] == ["complete", "complete"]
    for r, config in enumerate(configs):
        alone = runner.run(config, tmp_path / f"alone{r}.h5").path
        assert_same_run_files(paths[r], alone)
        numba = runner.run(config.replace(**{"run.engine": "numba"}), tmp_path / f"numba{r}.h5")
        theirs, ours = datasets(numba.path), datasets(paths[r])
        assert sorted(theirs) == sorted(ours)
        for name in ours:
            assert np.array_equal(ours[name], theirs[name],
                                  equal_nan=ours[name].dtype.kind == "f"), name
    with pytest.raises(runner.RunError, match="exists"):
        batch.run_batch(configs, paths)


@pytest.mark.parametrize("processes", [1, 2])
def test_an_interrupted_batch_leaves_each_run_resumable_alone(tmp_path, on_numpy, monkeypatch,
                                                              processes):
    """Three runs recorded here or by two processes of their own; a Ctrl-C after the second
    block stops them all, each resumable alone; the finished files equal single runs'."""
    base = _small(**{"run.engine": "cupy", "run.generations": 200})
    configs = [base.replace(**{"run.seed": s}) for s in range(3)]
    whole = batch.run_batch(configs, [tmp_path / f"p{s}.h5" for s in range(3)],
                            processes=processes)
    assert [r.status for r in whole] == ["complete"] * 3
    original, calls = batch_recording.Recorders.write, []

    def write(self, blocks):  # a Ctrl-C while the second block is recorded
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, blocks)

    monkeypatch.setattr(batch_recording.Recorders, "write", write)
    cut = batch.run_batch(configs, [tmp_path / f"cut{s}.h5" for s in range(3)],
                          processes=processes)
    monkeypatch.setattr(batch_recording.Recorders, "write", original)
    assert [(r.status, r.generation) for r in cut] == [("interrupted", 100)] * 3
    for s, result in enumerate(cut):
        runner.resume(result.path)
        alone = runner.run(configs[s], tmp_path / f"alone{s}.h5").path
        assert_same_run_files(result.path, alone)
        assert_same_run_files(tmp_path / f"p{s}.h5", alone)


KILLED_BATCH = """
from evosim import batch
from evosim.config import Config
base = Config().replace(**{{"run.generations": 3000, "run.population": 100, "run.engine": "numpy",
                           "schedule.kind": "mvg", "output.flush_every": 100}})
batch.run_batch([base.replace(**{{"run.seed": s}}) for s in range(2)],
                [r"{folder}/k0.h5", r"{folder}/k1.h5"], processes=2)
"""


def test_a_batch_killed_9_leaves_its_recording_processes_to_close_each_file(tmp_path):
    """kill -9 of the engine's process: the recording processes see their pipes close, close
    their files at the last checkpoint and exit; each run resumes to its uninterrupted file."""
    engine = subprocess.Popen([sys.executable, "-c", KILLED_BATCH.format(folder=tmp_path)])
    paths = [tmp_path / "k0.h5", tmp_path / "k1.h5"]
    deadline = time.monotonic() + 120
    while not all(p.exists() and len(load(p)) >= 300 for p in paths):
        assert engine.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    engine.kill()
    engine.wait()
    while not all(load(p).attrs["status"] == "interrupted" for p in paths):
        assert time.monotonic() < deadline + 60
        time.sleep(0.2)
    config = Config().replace(**{"run.generations": 3000, "run.population": 100,
                                 "run.engine": "numpy", "schedule.kind": "mvg",
                                 "output.flush_every": 100})
    for s, path in enumerate(paths):
        assert runner.resume(path).status == "complete"
        alone = runner.run(config.replace(**{"run.seed": s}), tmp_path / f"alone{s}.h5")
        assert_same_run_files(path, alone.path)


def test_a_cupy_sweep_batches_its_new_runs_and_resumes_begun_ones_alone(tmp_path, on_numpy,
                                                                        monkeypatch):
    plan = sw.expand(_small(**{"run.engine": "cupy", "run.generations": 100}),
                     sw.parse_grid(["variation.mutation_rate=0.3,0.5"]), [0, 1, 2])
    groups = []
    original = batch.run_batch
    monkeypatch.setattr(batch, "run_batch",
                        lambda configs, paths, **kw: groups.append(len(configs))
                        or original(configs, paths, **kw))
    folder = tmp_path / "sweep"
    spec = plan.runs[0]
    sw.prepare_folder(plan, folder)
    runner.run(cfg.loads(spec.config_toml), folder / spec.file, progress=_stop_at(50))
    summaries = sw.run_sweep(plan, folder, sw.Backend(sw.SerialExecutor(), 1, "here"), batch=4)
    assert [s["status"] for s in summaries] == ["complete"] * 6
    assert groups == [4]  # five new runs: a batch of 4, then one alone; the begun one resumed
    for spec in plan.runs:
        alone = runner.run(cfg.loads(spec.config_toml), tmp_path / f"{spec.name}.h5")
        assert_same_run_files(folder / spec.file, alone.path)


def test_a_batch_leaves_the_runs_another_driver_holds_or_wrote_and_runs_the_rest(tmp_path,
                                                                                 on_numpy):
    configs = [_small(**{"run.engine": "cupy", "run.generations": 60, "run.seed": s})
               for s in range(3)]
    paths = [tmp_path / f"held{s}.h5" for s in range(3)]
    written = runner.run(configs[2], paths[2])  # another driver's, finished meanwhile
    with RunLock(paths[0]):
        with pytest.raises(runner.RunLocked):
            batch.run_batch(configs, paths)
        held, ran, done = batch.run_batch(configs, paths, skip_locked=True)
        with pytest.raises(runner.RunExists):
            batch.run_batch(configs[1:], [tmp_path / "new.h5", paths[2]])
        summaries = sw.run_group(["a", "b", "c"], [c.to_toml() for c in configs],
                                 [str(paths[0]), str(tmp_path / "other.h5"), str(paths[2])])
    assert held is None and done is None and not paths[0].exists()
    assert ran.status == "complete" and written.status == "complete"
    assert_same_run_files(paths[1], runner.run(configs[1], tmp_path / "alone.h5").path)
    assert [s["status"] for s in summaries] == ["elsewhere", "complete", "elsewhere"]
    assert summaries[1]["batch"] == 1 and "batch" not in summaries[0]  # its time is its own


def test_an_error_in_a_batch_closes_every_file_resumable(tmp_path, on_numpy, monkeypatch):
    configs = [_small(**{"run.engine": "cupy", "run.generations": 150, "run.seed": s})
               for s in range(2)]
    original = batch.batched.evolve_batch

    def failing(*args, **kwargs):  # the engine dies after its first block
        blocks = original(*args, **kwargs)
        yield next(blocks)
        raise RuntimeError("the engine failed")

    paths = [tmp_path / f"err{s}.h5" for s in range(2)]
    with monkeypatch.context() as patched, pytest.raises(RuntimeError, match="engine failed"):
        patched.setattr(batch.batched, "evolve_batch", failing)
        batch.run_batch(configs, paths)
    for config, path in zip(configs, paths):
        assert load(path).attrs["status"] == "interrupted" and len(load(path)) == 50
        runner.resume(path)
        assert_same_run_files(path, runner.run(config, tmp_path / f"whole-{path.name}").path)


def test_leaving_the_prefetch_does_not_wait_for_the_item_in_the_making():
    release, made = threading.Event(), []

    def items():
        yield 1
        release.wait(timeout=60)  # the next item takes until the test releases it
        made.append(2)
        yield 2

    with batch._ahead(items()) as ahead:
        assert next(ahead) == 1
    assert not made  # left while the producer was still making its second item
    release.set()


def test_gradient_runs_never_batch_nor_ask_for_a_gpu(tmp_path):
    config = Config().replace(**{"task.name": "retina", "run.mode": "gradient",
                                 "run.engine": "cupy", "run.generations": 5})
    assert not on_gpu(config) and on_gpu(_small(**{"run.engine": "cupy"}))
    plan = sw.expand(config, {}, [0, 1])
    assert set(sw._batch_signatures(plan.runs).values()) == {None}
    runner.check_fits(config)  # no GPU wanted: raises nothing without CuPy
    with pytest.raises(runner.RunError, match="^run.mode: the batched engine evolves"):
        batch.run_batch([config], [tmp_path / "g.h5"])


def _stop_at(generation):
    def progress(p):
        if p.generation >= generation:
            raise KeyboardInterrupt
    return progress


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None,
                    reason="CuPy is installed here")
def test_without_cupy_the_cupy_engine_is_one_line_and_exit_2(tmp_path):
    for command in (["run", "logic-gates", "--engine", "cupy", "--out", str(tmp_path / "a.h5")],
                    ["sweep", "logic-gates", "--engine", "cupy", "--seeds", "0-1",
                     "--out", str(tmp_path / "s")],
                    ["sweep", "logic-gates", "--engine", "cupy", "--seeds", "0-1", "--dask",
                     "local", "--out", str(tmp_path / "d")]):  # local: this machine's GPU
        done = subprocess.run([sys.executable, "-m", "evosim", *command], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [
            'error: --engine cupy needs CuPy and a CUDA GPU; pip install ".[gpu]" '
            "(CuPy: ModuleNotFoundError: No module named 'cupy')"]
        assert not (tmp_path / "a.h5").exists()


def test_a_logged_cupy_sweep_says_its_runs_share_their_batchs_seconds(tmp_path, on_numpy):
    result = CliRunner().invoke(main, ["sweep", "logic-gates", "--engine", "cupy", "--seeds",
                                       "0-2", "--generations", "40", "--population", "60",
                                       "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "complete (" in line]
    assert len(lines) == 3
    assert all(line.endswith(" s for its batch of 3 runs)") for line in lines)


def test_batch_without_the_cupy_engine_is_refused_in_one_line(tmp_path):
    result = CliRunner().invoke(main, ["sweep", "logic-gates", "--seeds", "0-1", "--batch", "2",
                                       "--out", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: --batch: only runs evolving on the cupy engine "
                                     "(--engine cupy) batch; these do not")
    assert not (tmp_path / "s").exists()

