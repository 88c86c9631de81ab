"""Gradient mode end to end: learning, the activation-change metric, Q of weight graphs, data."""
import shutil

import h5py
import numpy as np
import pytest

from evosim import runner
from evosim.config import Config
from evosim.gradient import data as gdata
from evosim.tasks.digit_pairs import DigitGoals, digit_schedule
from evosim.gradient.measures import activation_change, weight_graph
from evosim.io import load
from evosim.modularity import max_q
from evosim.tasks import get_task
from helpers import assert_same_run_files

QUICK = {"modularity.every": 0, "modularity.qm_epochs": 0}


def test_mlp_learns_retina_and_to_full_accuracy(tmp_path):
    config = Config().replace(**{"task.name": "retina", "run.mode": "gradient",
                                 "run.generations": 300, **QUICK})
    h = load(runner.run(config, tmp_path / "r.h5").path)
    assert h.attrs["mode"] == "gradient"
    first = h.first_solved()["and"]
    assert first is not None and h["accuracy_train"][-20:].min() == 1.0
    assert h["accuracy_train"][0] < 1.0  # epoch 0 is the untrained network


def test_mlp_learns_digit_pairs_sum_well_below_the_mean_predictor(tmp_path):
    config = Config().replace(**{"task.name": "digit-pairs", "run.generations": 30, **QUICK})
    h = load(runner.run(config, tmp_path / "d.h5").path)
    dataset = gdata.pairs_dataset(config.gradient.n_pairs, config.gradient.test_fraction,
                                  np.random.default_rng(
                                      runner.seed_streams(0)["schedule"].spawn(1)[0]))
    mean_mse = gdata.targets(dataset, dataset.key_test, np.array([1, 1])).var()
    assert h["loss_test"][-1] < 0.3 * mean_mse
    assert np.isfinite(h["activation_change"][-1]) and np.isnan(h["activation_change"][0])
    with h5py.File(tmp_path / "d.h5", "r") as f:  # the split is in the file
        held_out = f["gradient/test_images"][()]
        assert np.array_equal(f["gradient/layer_sizes"][()], [128, 64, 32, 2, 1])
    assert len(held_out) == round(0.2 * 1797)
    assert np.array_equal(held_out, np.unique(held_out))  # distinct image indices


def test_same_seed_same_history_and_q_of_the_weight_graph(tmp_path):
    config = Config().replace(**{"task.name": "retina", "run.mode": "gradient",
                                 "schedule.kind": "mvg", "run.generations": 20,
                                 "modularity.every": 10, "modularity.qm_epochs": 0,
                                 "gradient.dropout": 0.2, "gradient.input_noise": 0.1})
    a = runner.run(config, tmp_path / "a.h5").path
    b = runner.run(config, tmp_path / "b.h5").path
    assert_same_run_files(a, b)
    h = load(a)
    assert np.isfinite(h["q_best"][[0, 10, 20]]).all() and np.isnan(h["q_best"][5])
    assert h.snapshot_genome.dtype == np.float64 and h.snapshot_genome.shape[1] == 8 * 8 + 8 \
        + 8 * 4 + 4 + 4 * 2 + 2 + 2 * 1 + 1
    other = load(runner.run(config.replace(**{"run.seed": 1}), tmp_path / "c.h5").path)
    assert not np.array_equal(other["loss_train"], h["loss_train"])



@pytest.mark.parametrize("optimizer,pressures", [
    ("adam", {"gradient.dropout": 0.2, "gradient.input_noise": 0.1}),
    ("sgd", {"gradient.momentum": 0.9, "gradient.prune_fraction": 0.2,
             "gradient.prune_every": 5, "gradient.l1": 0.001}),
])
def test_interrupted_gradient_run_resumes_to_the_same_file(tmp_path, optimizer, pressures):
    config = Config().replace(**{"task.name": "retina", "run.mode": "gradient",
                                 "schedule.kind": "mvg", "run.generations": 40,
                                 "output.flush_every": 10, "modularity.every": 20,
                                 "modularity.qm_epochs": 0, "gradient.optimizer": optimizer,
                                 "gradient.activation_every": 5, **pressures})
    whole = runner.run(config, tmp_path / "whole.h5").path

    def stop(progress):
        if progress.generation >= 19:
            raise KeyboardInterrupt

    cut = runner.run(config, tmp_path / "cut.h5", progress=stop)
    assert cut.status == "interrupted" and len(load(cut.path)) == 20
    slots = {"adam": ["optimizer_m", "optimizer_v"], "sgd": ["optimizer_velocity"]}[optimizer]
    with h5py.File(cut.path, "r") as f:  # the checkpoint's arrays are named, not packed
        assert f["checkpoint"].attrs["state"].split(",") == ["weights", *slots, "mask", "step"]
        assert f["checkpoint/step"][int(f["checkpoint/active"][0])][0] > 0
    legacy = tmp_path / "legacy.h5"
    shutil.copy(cut.path, legacy)
    _pack_checkpoint_as_before(legacy, slots)
    for path in (cut.path, legacy):
        assert runner.resume(path).status == "complete"
        assert_same_run_files(whole, path)


def _pack_checkpoint_as_before(path, slots) -> None:
    """Rewrite a checkpoint as files written before its arrays were named held it: one vector
    of weights, two optimiser slots (zeros for SGD's second), the pruning mask and the step."""
    with h5py.File(path, "r+") as f:
        ckpt = f["checkpoint"]
        arrays = {name: ckpt[name][()] for name in ckpt.attrs["state"].split(",")}
        zeros = np.zeros_like(arrays["weights"])
        parts = [arrays["weights"], *(arrays[s] for s in slots), *[zeros] * (2 - len(slots)),
                 arrays["mask"], arrays["step"].astype(np.float64)]
        for name in arrays:
            del ckpt[name]
        del ckpt.attrs["state"]
        ckpt["genomes"] = np.concatenate(parts, axis=1)[:, None, :]


def test_a_gradient_checkpoint_that_does_not_fit_is_refused_in_one_line(tmp_path):
    config = Config().replace(**{"task.name": "retina", "run.mode": "gradient",
                                 "run.generations": 20, "output.flush_every": 10, **QUICK})

    def stop(progress):
        if progress.generation >= 9:
            raise KeyboardInterrupt

    path = runner.run(config, tmp_path / "cut.h5", progress=stop).path
    with h5py.File(path, "r+") as f:
        f["checkpoint/optimizer_v"][int(f["checkpoint/active"][0]), 3] = np.nan
    with pytest.raises(runner.RunError, match="checkpoint's optimizer_v is not 121 finite values"):
        runner.resume(path)


def test_activation_change_of_a_perfectly_split_network_by_hand():
    # one hidden layer of 4 relu units, unit i = relu(x_i): two disjoint halves
    params = [(np.eye(4), np.zeros(4)), (np.ones((4, 1)), np.zeros(1))]
    x = np.array([[1.0, 1.0, 1.0, 1.0]])
    x_left_resampled = np.array([[2.0, 0.0, 1.0, 1.0]])
    # v = (1, 1, 1, 1), w = (2, 0, 1, 1): |v - w| = sqrt(2), |v| = 2, |w| = sqrt(6)
    expected = np.sqrt(2) / np.sqrt(2 * np.sqrt(6))
    got = activation_change(params, "relu", x, x_left_resampled)
    assert got == pytest.approx([expected, expected])


def test_block_diagonal_weight_graph_is_more_modular_than_a_dense_one():
    rng = np.random.default_rng(0)
    block = np.zeros((6, 6))
    block[:3, :3], block[3:, 3:] = rng.uniform(0.5, 1, (3, 3)), rng.uniform(0.5, 1, (3, 3))
    head = np.zeros((6, 2))
    head[:3, 0], head[3:, 1] = 1.0, 1.0
    split = [(block, np.zeros(6)), (head, np.zeros(2)), (np.ones((2, 1)), np.zeros(1))]
    dense = [(rng.uniform(0.5, 1, (6, 6)), np.zeros(6)), (rng.uniform(0.5, 1, (6, 2)), np.zeros(2)),
             (np.ones((2, 1)), np.zeros(1))]
    q_split = max_q(weight_graph(split))[0]
    q_dense = max_q(weight_graph(dense))[0]
    assert q_split > q_dense + 0.1
    assert (weight_graph(split, threshold=0.75) > 0).sum() < (weight_graph(split) > 0).sum()


def test_digit_pair_schedules():
    rmvg = digit_schedule("rmvg", 100, 10, "1x+1y", (), np.random.default_rng(3))
    coefficients = rmvg.targets[rmvg.goal_index]
    assert np.array_equal(rmvg.switches()[rmvg.switches() < 90] % 10, np.zeros(
        (rmvg.switches() < 90).sum()))
    assert (coefficients[90:] == 1).all()  # the last 10 epochs: x + y
    assert (coefficients != 0).all() and np.abs(coefficients).max() <= 8
    fixed = digit_schedule("fixed", 30, 10, "3x-5y", (), None)
    assert fixed.names == ("3x-5y",) and fixed.targets.tolist() == [[3, -5]]
    with pytest.raises(ValueError, match="not of the form ax\\+by"):
        DigitGoals().target("x+y")


def test_mnist_idx_files_are_read(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(60, 6, 6), dtype=np.uint8)
    labels = rng.integers(0, 10, size=60, dtype=np.uint8)
    (tmp_path / "img.idx").write_bytes(np.array([2051, 60, 6, 6], ">u4").tobytes()
                                       + images.tobytes())
    (tmp_path / "lab.idx").write_bytes(np.array([2049, 60], ">u4").tobytes() + labels.tobytes())
    x, y = gdata.load_mnist(str(tmp_path / "img.idx"), str(tmp_path / "lab.idx"))
    assert np.array_equal(x, images / 255.0) and np.array_equal(y, labels)
    config = Config().replace(**{"task.name": "digit-pairs", "run.generations": 2,
                                 "gradient.n_pairs": 50, "gradient.hidden": [8, 2],
                                 "gradient.mnist_images": str(tmp_path / "img.idx"),
                                 "gradient.mnist_labels": str(tmp_path / "lab.idx"), **QUICK})
    h = load(runner.run(config, tmp_path / "m.h5").path)
    assert len(h) == 3
    with pytest.raises(ValueError, match="not an IDX file"):
        gdata.load_mnist(str(tmp_path / "lab.idx"), str(tmp_path / "lab.idx"))


@pytest.mark.parametrize("task, kind", [("digit-pairs", "rmvg"), ("digit-pairs", "mvg"),
                                        ("digit-pairs", "fixed"), ("retina", "mvg"),
                                        ("retina", "rmvg"), ("logic-gates", "mvg"),
                                        ("logic-gates", "rmvg")])
def test_gradient_schedules_count_training_epochs(task, kind):
    """Periods run over the training epochs 1..N; epoch 0 (the untrained network) is measured
    under the first goal: --epochs 100 --period 10 gives 10 periods, and digit pairs' RMVG
    trains epochs 91-100 on x + y."""
    config = Config().replace(**{"task.name": task, "run.mode": "gradient",
                                 "run.generations": 100, "schedule.kind": kind,
                                 "schedule.period": 10})
    schedule = runner.build_schedule(config, get_task(config.task))
    goal = schedule.goal_index
    assert len(goal) == 101 and goal[0] == goal[1]
    periods = [goal[1 + 10 * k: 11 + 10 * k] for k in range(10)]
    assert all((p == p[0]).all() for p in periods)
    if kind != "fixed":
        assert all(a[0] != b[0] for a, b in zip(periods, periods[1:]))
        assert np.array_equal(schedule.switches(), np.arange(11, 101, 10))
    if task == "digit-pairs" and kind == "rmvg":
        assert schedule.names[goal[91]] == "1x+1y" and (goal[91:] == goal[91]).all()
        assert schedule.names[goal[90]] != "1x+1y"
    assert np.array_equal(schedule.epoch_of(np.arange(101)),
                          [0] + [e for e in range(10) for _ in range(10)])
