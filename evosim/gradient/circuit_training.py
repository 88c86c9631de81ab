"""Gradient training of NAND circuits (``gradient.model = "nand-circuit"``): Adam on the wiring
logits of ``evosim.gradient.circuit``, on the truth table of the goal in force, under the same
schedules as every run (periods in epochs; one epoch is one pass over the table's rows).

The run is recorded as evolution records its best: every epoch's *discretised* circuit (the
argmax wiring) is the row's genome, in the evolved circuits' format, and its performance is
``fitness_best``; so ``evosim show``, ``draw``, the exact max Q, Qm, ``/epochs`` and every
analysis script read it as they read an evolved run. The relaxed circuit's loss and accuracy,
the discretisation gap (relaxed accuracy minus the discretised circuit's) and the temperature
are extra columns.

Discretisation: the softmax temperature anneals geometrically from ``gradient.temperature`` to
``gradient.temperature_end`` over the run (0: no annealing), so the distributions harden as the
logits grow; the argmax is recorded at every epoch from the start.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from evosim import costs
from evosim.gradient import circuit
from evosim.gradient.optim import SLOTS, make_optimizer
from evosim.gradient.trainer import check_checkpoint
from evosim.recording import Block, RunSource

EXTRA_COLUMNS = ("relaxed_loss", "relaxed_accuracy", "discretisation_gap", "temperature")


@dataclass(frozen=True)
class CircuitState:
    """What a circuit run checkpoints: the next epoch, the logits, the optimiser's state arrays
    by name and its step count."""

    generation: int
    logits: np.ndarray
    slots: dict[str, np.ndarray]
    step: int

    def arrays(self) -> dict[str, np.ndarray]:
        return {"logits": self.logits,
                **{f"optimizer_{name}": values for name, values in self.slots.items()},
                "step": np.array([self.step], dtype=np.int64)}


def checkpoint_layout(config, shape: circuit.CircuitShape) -> dict:
    """The names, shapes and types of a ``CircuitState``'s arrays."""
    flat = ((shape.n_parameters,), np.dtype(np.float64))
    slots = {f"optimizer_{name}": flat for name in SLOTS[config.gradient.optimizer]}
    return {"logits": flat, **slots, "step": ((1,), np.dtype(np.int64))}


def restore_state(config, shape: circuit.CircuitShape, generation: int,
                  arrays: dict[str, np.ndarray]) -> CircuitState:
    """The state a checkpoint holds; ValueError unless it is this config's, finite."""
    check_checkpoint(checkpoint_layout(config, shape), arrays)
    slots = {name: arrays[f"optimizer_{name}"] for name in SLOTS[config.gradient.optimizer]}
    return CircuitState(generation, arrays["logits"], slots, int(arrays["step"][0]))


MLP_PRESSURES = ("l1", "l2", "dropout", "prune_fraction", "prune_every", "distance_cost",
                 "label_noise")


def check_config(config) -> None:
    """What a gradient-trained circuit allows: a feed-forward logic-gates circuit, a wiring
    length cost on a fixed layout (the count of wires does not depend on the logits), NumPy,
    and none of the MLP's pressures."""
    from evosim.config import ConfigError

    g, c = config.gradient, config.cost
    if config.task.name != "logic-gates":
        raise ConfigError(f"gradient.model: nand-circuit trains logic-gates circuits; allowed "
                          f"with task.name = {config.task.name}: mlp")
    if config.task.feedback:
        raise ConfigError("task.feedback: gradient-trained circuits are feed-forward; allowed "
                          "with gradient.model = nand-circuit: false")
    if c.kind == "count":
        raise ConfigError("cost.kind: every gate has two wires whatever its logits, so the count "
                          "has no gradient; allowed with gradient.model = nand-circuit: none, "
                          "length")
    if c.layout not in ("line", "grid"):
        raise ConfigError(f"cost.layout: {c.layout!r}; allowed with gradient.model = "
                          "nand-circuit: line, grid")
    for name in MLP_PRESSURES:
        if getattr(g, name):
            raise ConfigError(f"gradient.{name}: a pressure of the MLP model; allowed with "
                              "gradient.model = nand-circuit: 0")
    if g.array_backend != "numpy":
        raise ConfigError("gradient.array_backend: circuits train with NumPy; allowed with "
                          "gradient.model = nand-circuit: numpy")


def temperature_at(config, epoch: int) -> float:
    """The softmax temperature of an epoch: geometric from the start value to the end value."""
    g, last = config.gradient, max(config.run.generations, 1)
    if not g.temperature_end:
        return g.temperature
    return float(g.temperature * (g.temperature_end / g.temperature) ** (epoch / last))


def train(task, schedule, config, seeds: np.random.SeedSequence, block_size: int,
          state: CircuitState | None = None) -> Iterator[Block]:
    """Blocks of epochs of one circuit, from ``state`` (None: fresh logits N(0, 1) from the run's
    init stream). Every random choice (the initial logits, input noise) comes from the run's
    SeedSequence and the epoch, so a resumed run continues exactly."""
    g, c = config.gradient, config.cost
    shape = circuit.CircuitShape.of(task)
    init_seq, noise_seq = seeds.spawn(2)
    theta = np.random.default_rng(init_seq).normal(0.0, 1.0, shape.n_parameters)
    optimizer = make_optimizer(g.optimizer, [(theta,)], g.learning_rate, g.momentum)
    start = 0
    if state is not None:
        start, theta = state.generation, state.logits.copy()
        for name, slot in optimizer.slots.items():
            slot[0][0] = state.slots[name].copy()
        optimizer.t = state.step
    params = [(theta,)]
    x = circuit.inputs(task.n_inputs)
    kind = costs.kernel_kind(c.kind, c.layout)
    sq_dist = costs.squared_distances(costs.positions(c.layout, task.n_inputs, task.max_gates))
    last = config.run.generations
    rows: list[dict] = []
    for epoch in range(start, last + 1):
        goal = int(schedule.goal_index[epoch])
        y = schedule.targets[goal].astype(np.float64)
        temperature = temperature_at(config, epoch)
        if epoch > 0:
            xb = x
            if g.input_noise:
                rng = np.random.default_rng(np.random.SeedSequence(
                    noise_seq.entropy, spawn_key=(*noise_seq.spawn_key, epoch)))
                xb = x + rng.normal(0.0, g.input_noise, x.shape)
            _, grad, _ = circuit.loss_and_grad(shape, params[0][0], xb, y, g.loss, temperature)
            if kind == costs.LENGTH and c.weight:
                grad = grad + c.weight * circuit.expected_length(
                    shape, params[0][0], sq_dist, temperature)[1]
            optimizer.step(params, [(grad,)])
        rows.append(_measure(task, shape, params[0][0], x, y, g.loss, temperature, kind, sq_dist,
                             epoch, goal))
        if epoch == last or (epoch + 1) % block_size == 0:
            yield _block(rows, task, CircuitState(
                epoch + 1, params[0][0].copy(),
                {name: slot[0][0].copy() for name, slot in optimizer.slots.items()},
                optimizer.t))
            rows = []


def _measure(task, shape, theta, x, y, loss, temperature, kind, sq_dist, epoch, goal) -> dict:
    genome = circuit.discretise(shape, theta)
    full = np.zeros(task.genome_length, dtype=np.int16)
    full[:genome.size] = genome
    performance = float(task.performance(full[None], task.pack(y.astype(np.uint8))[0])[0])
    out, _ = circuit.forward(shape, theta, x, temperature)
    relaxed = float(((out > 0.5) == (y > 0.5)).mean())
    cost = float(costs.connection_costs_numpy(full[None].astype(np.int64), task.n_inputs,
                                              task.max_gates, kind, sq_dist)[0])
    return {"generation": epoch, "goal": goal, "fitness": performance, "cost": cost,
            "genome": full, "relaxed_loss": circuit.loss_value(out, y, loss),
            "relaxed_accuracy": relaxed, "discretisation_gap": relaxed - performance,
            "temperature": temperature}


def _block(rows: list[dict], task, state: CircuitState) -> Block:
    def col(name, dtype=np.float64):
        return np.array([r[name] for r in rows], dtype=dtype)

    n = len(rows)
    return Block(generation=col("generation", np.int64), goal=col("goal", np.int32),
                 fitness_best=col("fitness"), fitness_mean=np.full(n, np.nan),
                 cost_best=col("cost"), cost_mean=col("cost"),
                 front0_size=np.zeros(n, dtype=np.int32),
                 best_genome=np.stack([r["genome"] for r in rows]), state=state,
                 extra={name: col(name) for name in EXTRA_COLUMNS})


def circuit_source(config, task, schedule, seeds: dict,
                   saved: tuple[int, dict[str, np.ndarray]] | None = None) -> RunSource:
    """What the runner records of a circuit run: its blocks, evolution's best-network meter
    (the same measures as an evolved run's), the file layout."""
    from evosim.measures import BestNetworkMeter

    shape = circuit.CircuitShape.of(task)
    state = restore_state(config, shape, *saved) if saved is not None else None
    blocks = train(task, schedule, config, seeds["engine"], config.output.flush_every, state)
    extra = {name: np.dtype(np.float64) for name in EXTRA_COLUMNS}
    return RunSource(blocks, BestNetworkMeter(task, config, schedule), (1, task.genome_length),
                     np.int16, extra, {}, checkpoint_layout(config, shape))
