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

from evosim import xp

from evosim.gradient import data as gdata
from evosim.gradient.measures import activation_change, layer_distances
from evosim.gradient.network import (Pressures, forward, init_params, loss_and_grad,
                                     loss_value)
from evosim.gradient.optim import SLOTS, make_optimizer
from evosim.recording import Block


@dataclass(frozen=True)
class TrainingState:
    """What a gradient run checkpoints: the next epoch, the flattened weights, the optimiser's
    state arrays by name (flattened like the weights), the pruning mask (1: kept, 0: pruned) and
    the optimiser's step count."""

    generation: int
    weights: np.ndarray
    slots: dict[str, np.ndarray]
    mask: np.ndarray
    step: int

    def arrays(self) -> dict[str, np.ndarray]:
        """The state's arrays, as the run file checkpoints them (``checkpoint_layout``)."""
        return {"weights": self.weights,
                **{f"optimizer_{name}": values for name, values in self.slots.items()},
                "mask": self.mask, "step": np.array([self.step], dtype=np.int64)}


def checkpoint_layout(config, sizes: list[int]) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The names, shapes and types of a ``TrainingState``'s arrays for this config."""
    flat = ((parameter_count(sizes),), np.dtype(np.float64))
    slots = {f"optimizer_{name}": flat for name in SLOTS[config.gradient.optimizer]}
    return {"weights": flat, **slots, "mask": flat, "step": ((1,), np.dtype(np.int64))}


def restore_state(config, sizes: list[int], generation: int,
                  arrays: dict[str, np.ndarray]) -> TrainingState:
    """The training state a checkpoint holds, refused (ValueError) unless its arrays are the ones
    this config trains, of their shapes, and finite."""
    check_checkpoint(checkpoint_layout(config, sizes), arrays)
    slots = {name: arrays[f"optimizer_{name}"] for name in SLOTS[config.gradient.optimizer]}
    return TrainingState(generation, arrays["weights"], slots, arrays["mask"],
                         int(arrays["step"][0]))


def check_checkpoint(layout: dict, arrays: dict[str, np.ndarray]) -> None:
    """ValueError unless the checkpoint's arrays are the layout's, of its shapes, and finite."""
    if set(arrays) != set(layout):
        raise ValueError(f"the checkpoint holds {', '.join(sorted(arrays))} where this config "
                         f"trains from {', '.join(sorted(layout))}")
    for name, (shape, _) in layout.items():
        if arrays[name].shape != shape or not np.isfinite(arrays[name]).all():
            raise ValueError(f"the checkpoint's {name} is not {shape[0]} finite values")


def named_arrays(config, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A checkpoint slot as evosim names its arrays today: files written before they were named
    hold one packed vector (``genomes``, float64[1, 4 P + 1]: the weights, two optimiser slots,
    the pruning mask, the step); others pass unchanged.  A vector of any other length is left
    as it is, for ``restore_state`` to refuse."""
    if set(arrays) != {"genomes"} or (arrays["genomes"].shape[-1] - 1) % 4:
        return arrays
    vector = arrays["genomes"].reshape(-1)
    n = (len(vector) - 1) // 4
    parts = [vector[k * n: (k + 1) * n] for k in range(4)]
    slots = [f"optimizer_{name}" for name in SLOTS[config.gradient.optimizer]]
    return {"weights": parts[0], **dict(zip(slots, parts[1:3])), "mask": parts[3],
            "step": np.array([vector[-1]]).astype(np.int64)}


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
    """What gradient training allows of a config: a schedule with a goal in every epoch, and an
    array backend that is installed."""
    from evosim.config import ConfigError

    if config.run.mode == "gradient" and config.schedule.kind == "vg0":
        raise ConfigError("schedule.kind: vg0 (epochs without selection) is an evolution control; "
                          "gradient mode trains on a goal in every epoch")
    if config.run.mode == "gradient" and config.gradient.model != "mlp":
        from evosim.gradient.genome_training import check_config as check_genome_model
        check_genome_model(config)
        return
    if config.run.mode == "gradient" and config.gradient.array_backend == "cupy":
        try:
            array_module("cupy")
        except ValueError as err:
            raise ConfigError(str(err)) from None


def array_module(name: str):
    """NumPy, or CuPy for training on a GPU (optional extra ``gpu``); the same code runs on both.
    ValueError (one line) where CuPy or a GPU is missing."""
    if name == "numpy":
        return np
    try:
        return xp.gpu_module("gradient.array_backend = cupy")
    except xp.GPUUnavailable as err:
        raise ValueError(f"{err}; or use numpy") from None


def parameter_count(sizes: list[int]) -> int:
    """Weights and biases of a network with these layer sizes."""
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def train(task, dataset: gdata.Dataset, schedule, config, seeds: np.random.SeedSequence,
          block_size: int, state: TrainingState | None = None) -> Iterator[Block]:
    """Train on the device of ``gradient.array_backend``; every epoch's network is measured on a
    host copy (these networks are small). Every epoch draws from its own generators, made from the
    run's SeedSequence and the epoch, so a run resumed from a checkpoint (``state``) continues
    exactly.  Blocks carry the losses, accuracies and activation change in ``extra``."""
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
        params = _restore(state, sizes, optimizer, pressures, xp)
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
            yield _block(rows, _state(epoch + 1, params, optimizer, pressures, to_host))
            rows = []


def _epoch_rng(seq: np.random.SeedSequence, epoch: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seq.entropy,
                                                        spawn_key=(*seq.spawn_key, epoch)))


def _state(epoch: int, params, optimizer, pressures, to_host) -> TrainingState:
    """The whole training state before ``epoch``, on the host."""
    def flat(pairs):
        return flatten([(to_host(w), to_host(b)) for w, b in pairs])

    weights = flat(params)
    mask = np.ones_like(weights) if pressures.mask is None else \
        flat([(m, 1.0 + 0.0 * b) for m, (_, b) in zip(pressures.mask, params)])
    return TrainingState(epoch, weights,
                         {name: flat(slot) for name, slot in optimizer.slots.items()}, mask,
                         optimizer.t)


def _restore(state: TrainingState, sizes, optimizer, pressures, xp) -> list[tuple]:
    """Put ``state`` into the optimiser and pressures; return the parameters (on the device)."""
    def device(flat):
        return [(xp.asarray(w).copy(), xp.asarray(b).copy()) for w, b in unflatten(flat, sizes)]

    for name, slot in optimizer.slots.items():
        slot[:] = [list(pair) for pair in device(state.slots[name])]
    pressures.mask = None if (state.mask == 1.0).all() else [w for w, _ in device(state.mask)]
    optimizer.t = state.step
    return device(state.weights)


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


def _block(rows: list[dict], state: TrainingState) -> Block:
    def col(name):
        return np.array([r[name] for r in rows])

    n = len(rows)
    change = np.stack([r["activation_change"] for r in rows])
    extra = {"loss_train": col("loss_train"), "loss_test": col("loss_test"),
             "accuracy_train": col("accuracy_train"), "accuracy_test": col("accuracy_test"),
             "activation_change": change[:, -1]}
    extra.update({f"activation_change_layer{k}": change[:, k] for k in range(change.shape[1] - 1)})
    weights = np.stack([r["weights"] for r in rows])
    return Block(generation=col("generation").astype(np.int64),
                 goal=col("goal").astype(np.int32), fitness_best=col("accuracy_train"),
                 fitness_mean=np.full(n, np.nan), cost_best=col("cost"),
                 cost_mean=col("cost"), front0_size=np.zeros(n, dtype=np.int32),
                 best_genome=weights, state=state, extra=extra)
