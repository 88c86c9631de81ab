"""Gradient-mode training: the same tasks and goal schedules, counted in epochs, yielding the
same per-generation Blocks as the evolutionary engine so one runner records both.

Epoch 0 is recorded before any update (modularity at initialisation, experiment 7). Every
random choice (initial weights, batches, dropout, noise, resampled halves) comes from the run's
SeedSequence, so the same config and seed give the same history.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from evosim.engine import EngineState
from evosim.gradient import data as gdata
from evosim.gradient.measures import activation_change, layer_distances
from evosim.gradient.network import (Pressures, forward, init_params, loss_and_grad,
                                     loss_value)
from evosim.gradient.optim import make_optimizer


@dataclass(frozen=True)
class EpochBlock:
    """What the runner records of a block of epochs (the engine Block's fields, plus losses)."""

    generation: np.ndarray
    goal: np.ndarray
    fitness_best: np.ndarray       # training accuracy
    fitness_mean: np.ndarray       # NaN: one network, no population
    cost_best: np.ndarray          # sum |w| * distance (the wiring cost), for reference
    cost_mean: np.ndarray
    front0_size: np.ndarray
    best_genome: np.ndarray        # float64[B, n_params]: the weights, flattened
    state: EngineState
    extra: dict                    # loss_train, loss_test, accuracy_test, activation_change...


def flatten(params) -> np.ndarray:
    return np.concatenate([np.concatenate([w.ravel(), b.ravel()]) for w, b in params])


def unflatten(flat: np.ndarray, sizes: list[int]) -> list[tuple]:
    params, at = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = flat[at: at + n_in * n_out].reshape(n_in, n_out)
        at += n_in * n_out
        params.append((w, flat[at: at + n_out]))
        at += n_out
    return params


def network_sizes(config, n_inputs: int) -> list[int]:
    return [n_inputs, *config.gradient.hidden, 1]


def check_config(config) -> None:
    """What gradient training allows of a config: its array backend must be installed."""
    from evosim.config import ConfigError

    if config.run.mode == "gradient" and config.gradient.array_backend == "cupy":
        try:
            array_module("cupy")
        except ValueError as err:
            raise ConfigError(str(err)) from None


def array_module(name: str):
    """NumPy, or CuPy for training on a GPU (optional extra ``gpu``); the same code runs on both."""
    if name == "numpy":
        return np
    try:
        import cupy
    except ImportError:
        raise ValueError('gradient.array_backend: cupy is not installed; pip install '
                         '"evosim[gpu]" on a machine with a CUDA GPU, or use numpy') from None
    return cupy


def parameter_count(sizes: list[int]) -> int:
    """Weights and biases of a network with these layer sizes."""
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def state_size(sizes: list[int]) -> int:
    """Length of the checkpointed training state: weights, two optimiser slots, the pruning mask
    (all of the weights' size) and the optimiser's step count."""
    return 4 * parameter_count(sizes) + 1


def train(task, dataset: gdata.Dataset, schedule, config, seeds: np.random.SeedSequence,
          block_size: int, state: EngineState | None = None) -> Iterator[EpochBlock]:
    """Train on the device of ``gradient.array_backend``; every epoch's network is measured on a
    host copy (these networks are small). Every epoch draws from its own generators, made from the
    run's SeedSequence and the epoch, so a run resumed from a checkpoint (``state``: the next
    epoch and the packed training state) continues exactly."""
    g = config.gradient
    xp = array_module(g.array_backend)
    to_host = getattr(xp, "asnumpy", np.asarray)
    init_seq, batch_seq, measure_seq = seeds.spawn(3)
    sizes = network_sizes(config, dataset.x_train.shape[1])
    params = init_params(sizes, np.random.default_rng(init_seq), xp)
    optimizer = make_optimizer(g.optimizer, params, g.learning_rate, g.momentum)
    distances = layer_distances(sizes)
    pressures = Pressures(g.l1, g.l2, g.dropout, g.distance_cost,
                          [xp.asarray(d) for d in distances])
    start = 0
    if state is not None:
        start = state.generation
        params = _unpack(state.genomes[0], sizes, optimizer, pressures, xp)
    x_train = xp.asarray(dataset.x_train)
    n_hidden = len(sizes) - 2
    last = config.run.generations
    rows: list[dict] = []
    for epoch in range(start, last + 1):
        goal = int(schedule.goal_index[epoch])
        y_train = gdata.targets(dataset, dataset.key_train, schedule.targets[goal])
        if epoch > 0:
            _train_epoch(params, optimizer, pressures, x_train, xp.asarray(y_train), g,
                         _epoch_rng(batch_seq, epoch), xp)
            _prune(params, pressures, g, epoch, to_host, xp)
        host = [(to_host(w), to_host(b)) for w, b in params]
        rows.append(_measure(host, dataset, schedule.targets[goal], y_train, g, epoch, last,
                             distances, n_hidden, _epoch_rng(measure_seq, epoch))
                    | {"goal": goal})
        if epoch == last or (epoch + 1) % block_size == 0:
            yield _block(rows, epoch, _pack(params, optimizer, pressures, to_host))
            rows = []


def _epoch_rng(seq: np.random.SeedSequence, epoch: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seq.entropy,
                                                        spawn_key=(*seq.spawn_key, epoch)))


def _pack(params, optimizer, pressures, to_host) -> np.ndarray:
    """The whole training state as one float64 vector (see ``state_size``)."""
    def flat(pairs):
        return flatten([(to_host(w), to_host(b)) for w, b in pairs])

    slots = optimizer.slots + [[(0.0 * w, 0.0 * b) for w, b in params]] * (2 - len(optimizer.slots))
    mask = [(m, 1.0 + 0.0 * b) for m, (_, b) in zip(pressures.mask, params)] \
        if pressures.mask is not None else [(1.0 + 0.0 * w, 1.0 + 0.0 * b) for w, b in params]
    return np.concatenate([flat(params), *(flat(s) for s in slots), flat(mask),
                           [float(optimizer.t)]])


def _unpack(vector, sizes, optimizer, pressures, xp) -> list[tuple]:
    """Restore what ``_pack`` stored into the optimiser and pressures; return the parameters."""
    n = (len(vector) - 1) // 4
    parts = [unflatten(vector[k * n: (k + 1) * n], sizes) for k in range(4)]

    def device(pairs):
        return [(xp.asarray(w).copy(), xp.asarray(b).copy()) for w, b in pairs]

    for slot, saved in zip(optimizer.slots, parts[1:3]):
        slot[:] = [list(pair) for pair in device(saved)]
    masks = [w for w, _ in parts[3]]
    pressures.mask = None if all((m == 1.0).all() for m in masks) else \
        [xp.asarray(m).copy() for m in masks]
    optimizer.t = int(vector[-1])
    return device(parts[0])


def _train_epoch(params, optimizer, pressures, x, y, g, rng, xp) -> None:
    order = rng.permutation(len(x))
    size = g.batch_size or len(x)
    for start in range(0, len(x), size):
        batch = order[start: start + size]
        xb, yb = x[batch], y[batch]
        if g.input_noise:  # fresh noise at every evaluation (experiment 8)
            xb = xb + xp.asarray(rng.normal(0.0, g.input_noise, xb.shape))
        if g.label_noise:
            yb = yb + xp.asarray(rng.normal(0.0, g.label_noise, yb.shape))
        _, grads = loss_and_grad(params, xb, yb, g.activation, g.loss, pressures, rng, xp)
        optimizer.step(params, grads)
        if pressures.mask is not None:
            for (w, _), mask in zip(params, pressures.mask):
                w *= mask


def _prune(params, pressures, g, epoch: int, to_host, xp) -> None:
    """Magnitude pruning: every prune_every epochs, zero the prune_fraction smallest of the
    weights still present (and keep them at zero)."""
    if not (g.prune_fraction and g.prune_every and epoch % g.prune_every == 0):
        return
    weights = [to_host(w) for w, _ in params]
    masks = [np.ones_like(w) for w in weights] if pressures.mask is None else \
        [to_host(m) for m in pressures.mask]
    alive = np.concatenate([np.abs(w[m > 0]) for w, m in zip(weights, masks)])
    if alive.size:
        cut = np.quantile(alive, g.prune_fraction)
        for w, m in zip(weights, masks):
            m[np.abs(w) <= cut] = 0.0
    pressures.mask = [xp.asarray(m) for m in masks]
    for (w, _), m in zip(params, pressures.mask):
        w *= m


def _measure(params, dataset, goal_target, y_train, g, epoch, last, distances, n_hidden,
             rng) -> dict:
    y_test = gdata.targets(dataset, dataset.key_test, goal_target)
    row = {"generation": epoch}
    for split, x, y in (("train", dataset.x_train, y_train), ("test", dataset.x_test, y_test)):
        out, _ = forward(params, x, g.activation)
        row[f"loss_{split}"] = loss_value(out, y, g.loss)
        right = (out > 0) == (y > 0.5) if g.loss == "bce" else np.abs(out - y) < 0.5
        row[f"accuracy_{split}"] = float(right.mean())
    row["cost"] = float(sum((np.abs(w) * d).sum() for (w, _), d in zip(params, distances)))
    change = np.full(n_hidden + 1, np.nan)
    if epoch == last or (g.activation_every and epoch % g.activation_every == 0):
        halves = [activation_change(params, g.activation, dataset.x_test,
                                    gdata.resample_half(dataset, dataset.x_test, h, rng))
                  for h in (0, 1)]
        change = np.mean(halves, axis=0)
    row["activation_change"] = change
    row["weights"] = flatten(params)
    return row


def _block(rows: list[dict], epoch: int, packed_state: np.ndarray) -> EpochBlock:
    def col(name):
        return np.array([r[name] for r in rows])

    n = len(rows)
    change = np.stack([r["activation_change"] for r in rows])
    extra = {"loss_train": col("loss_train"), "loss_test": col("loss_test"),
             "accuracy_train": col("accuracy_train"), "accuracy_test": col("accuracy_test"),
             "activation_change": change[:, -1]}
    extra.update({f"activation_change_layer{k}": change[:, k] for k in range(change.shape[1] - 1)})
    weights = np.stack([r["weights"] for r in rows])
    return EpochBlock(generation=col("generation").astype(np.int64),
                      goal=col("goal").astype(np.int32), fitness_best=col("accuracy_train"),
                      fitness_mean=np.full(n, np.nan), cost_best=col("cost"),
                      cost_mean=col("cost"), front0_size=np.zeros(n, dtype=np.int32),
                      best_genome=weights,
                      state=EngineState(epoch + 1, packed_state[None, :]), extra=extra)
