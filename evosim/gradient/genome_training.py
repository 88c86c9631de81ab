"""Gradient training of models whose discretisation is a task's own genome, so that evolution
and gradient descent meet on one substrate: ``gradient.model = "nand-circuit"``
(``evosim.gradient.circuit``: the logic-gates circuit with learnt wiring) and
``"retina-network"`` (``evosim.gradient.retina_network``: the retina's 8-8-4-2-1 network with
rounded weights). Adam (or SGD) on the model's real parameters, on the goal's truth table, under
the same schedules as every run (periods in epochs; one epoch is one step on the whole table).

The run is recorded as evolution records its best: every epoch's *discretised* network (the
circuit's argmax wiring, the retina's rounded genes) is the row's genome, in the task's format,
and its own performance is ``fitness_best``; so ``evosim show``, ``draw``, the exact max Q, Qm,
``/epochs`` and every analysis script read it as they read an evolved run. The relaxed model's
loss and accuracy, the discretisation gap (relaxed accuracy minus the discretised network's)
and the temperature are extra columns.

Discretisation: the temperature anneals geometrically from ``gradient.temperature`` to
``gradient.temperature_end`` over the run (0: no annealing); the discretised network is recorded
at every epoch from the start.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from evosim.gradient.optim import SLOTS, make_optimizer
from evosim.gradient.trainer import check_checkpoint
from evosim.recording import Block, RunSource

EXTRA_COLUMNS = ("relaxed_loss", "relaxed_accuracy", "discretisation_gap", "temperature")
MODELS = {"nand-circuit": "logic-gates", "retina-network": "retina"}  # model -> its task
MLP_PRESSURES = ("l1", "l2", "dropout", "prune_fraction", "prune_every", "distance_cost",
                 "label_noise")


def make_model(task, config):
    """The model of ``gradient.model`` for the task."""
    if config.gradient.model == "nand-circuit":
        from evosim.gradient.circuit import CircuitModel
        return CircuitModel(task, config)
    from evosim.gradient.retina_network import RetinaModel
    return RetinaModel(task, config)


def check_config(config) -> None:
    """What a genome model allows: its own task (feed-forward circuits), NumPy, none of the
    MLP's pressures; circuits a weighted wiring length cost on a fixed layout (the count of wires
    does not depend on the logits), the retina no cost and the cross-entropy of its logit."""
    from evosim.config import ConfigError

    g, c, model = config.gradient, config.cost, config.gradient.model
    if config.task.name != MODELS[model]:
        allowed = [m for m, task in MODELS.items() if task == config.task.name] + ["mlp"]
        raise ConfigError(f"gradient.model: {model} trains {MODELS[model]} networks; allowed "
                          f"with task.name = {config.task.name}: {', '.join(allowed)}")
    if model == "nand-circuit":
        if config.task.feedback:
            raise ConfigError("task.feedback: gradient-trained circuits are feed-forward; "
                              "allowed with gradient.model = nand-circuit: false")
        if c.kind == "count":
            raise ConfigError("cost.kind: every gate has two wires whatever its logits, so the "
                              "count has no gradient; allowed with gradient.model = "
                              "nand-circuit: none, length")
        if c.layout not in ("line", "grid"):
            raise ConfigError(f"cost.layout: {c.layout!r}; allowed with gradient.model = "
                              "nand-circuit: line, grid")
        if c.kind == "length" and not c.weight:
            raise ConfigError("cost.weight: 0 leaves a trained circuit without wiring pressure; "
                              "allowed with gradient.model = nand-circuit and cost.kind = "
                              "length: > 0 (the penalty's weight)")
    else:
        if g.loss != "bce":
            raise ConfigError(f"gradient.loss: {g.loss!r}; the retina answers by the sign of its "
                              "output sum, a logit; allowed with gradient.model = "
                              "retina-network: bce")
        if c.kind != "none":
            raise ConfigError(f"cost.kind: {c.kind!r}; allowed with gradient.model = "
                              f"{model}: none")
    for name in MLP_PRESSURES:
        if getattr(g, name):
            raise ConfigError(f"gradient.{name}: a pressure of the MLP model; allowed with "
                              f"gradient.model = {model}: 0")
    if g.array_backend != "numpy":
        raise ConfigError(f"gradient.array_backend: {model} trains with NumPy; allowed with "
                          f"gradient.model = {model}: numpy")


@dataclass(frozen=True)
class GenomeModelState:
    """What such a run checkpoints: the next epoch, the model's real parameters, the
    optimiser's state arrays by name and its step count."""

    generation: int
    parameters: np.ndarray
    slots: dict[str, np.ndarray]
    step: int

    def arrays(self) -> dict[str, np.ndarray]:
        return {"parameters": self.parameters,
                **{f"optimizer_{name}": values for name, values in self.slots.items()},
                "step": np.array([self.step], dtype=np.int64)}


def checkpoint_layout(config, n_parameters: int) -> dict:
    """The names, shapes and types of a ``GenomeModelState``'s arrays."""
    flat = ((n_parameters,), np.dtype(np.float64))
    slots = {f"optimizer_{name}": flat for name in SLOTS[config.gradient.optimizer]}
    return {"parameters": flat, **slots, "step": ((1,), np.dtype(np.int64))}


def restore_state(config, n_parameters: int, generation: int,
                  arrays: dict[str, np.ndarray]) -> GenomeModelState:
    """The state a checkpoint holds; ValueError unless it is this config's, finite."""
    check_checkpoint(checkpoint_layout(config, n_parameters), arrays)
    slots = {name: arrays[f"optimizer_{name}"] for name in SLOTS[config.gradient.optimizer]}
    return GenomeModelState(generation, arrays["parameters"], slots, int(arrays["step"][0]))


def temperature_at(config, epoch: int) -> float:
    """The temperature of an epoch: geometric from the start value to the end value."""
    g, last = config.gradient, max(config.run.generations, 1)
    if not g.temperature_end:
        return g.temperature
    return float(g.temperature * (g.temperature_end / g.temperature) ** (epoch / last))


def train(model, task, schedule, config, seeds: np.random.SeedSequence, block_size: int,
          state: GenomeModelState | None = None) -> Iterator[Block]:
    """Blocks of epochs of one model, from ``state`` (None: the model's initial parameters from
    the run's init stream). Every random choice (initial parameters, input noise) comes from the
    run's SeedSequence and the epoch, so a resumed run continues exactly."""
    g = config.gradient
    init_seq, noise_seq = seeds.spawn(2)
    theta = model.init(np.random.default_rng(init_seq))
    optimizer = make_optimizer(g.optimizer, [(theta,)], g.learning_rate, g.momentum)
    start = 0
    if state is not None:
        start, theta = state.generation, state.parameters.copy()
        for name, slot in optimizer.slots.items():
            slot[0][0] = state.slots[name].copy()
        optimizer.t = state.step
    params = [(theta,)]
    last = config.run.generations
    rows: list[dict] = []
    for epoch in range(start, last + 1):
        goal = int(schedule.goal_index[epoch])
        table = schedule.targets[goal]
        y = table.astype(np.float64)
        temperature = temperature_at(config, epoch)
        if epoch > 0:
            x = model.x
            if g.input_noise:
                rng = np.random.default_rng(np.random.SeedSequence(
                    noise_seq.entropy, spawn_key=(*noise_seq.spawn_key, epoch)))
                x = model.noisy(x, rng.normal(0.0, g.input_noise, x.shape))
            _, grad = model.loss_and_grad(params[0][0], x, y, temperature)
            optimizer.step(params, [(grad,)])
            model.project(params[0][0])
        genome = model.genome(params[0][0])
        loss, accuracy = model.relaxed(params[0][0], y, temperature)
        performance = float(task.performance(genome[None], task.pack(table)[0])[0])
        rows.append({"generation": epoch, "goal": goal, "fitness": performance,
                     "genome": genome, "relaxed_loss": loss, "relaxed_accuracy": accuracy,
                     "discretisation_gap": accuracy - performance, "temperature": temperature})
        if epoch == last or (epoch + 1) % block_size == 0:
            state = GenomeModelState(epoch + 1, params[0][0].copy(),
                                     {name: slot[0][0].copy()
                                      for name, slot in optimizer.slots.items()}, optimizer.t)
            yield _block(rows, _costs(task, config, [r["genome"] for r in rows]), state)
            rows = []


def _costs(task, config, genomes: list[np.ndarray]) -> np.ndarray:
    """The connection cost of each discretised network, as evolution computes it (0: none)."""
    if config.cost.kind == "none":
        return np.zeros(len(genomes))
    from evosim import costs

    c = config.cost
    sq = costs.squared_distances(costs.positions(c.layout, task.n_inputs, task.max_gates))
    return costs.connection_costs_numpy(np.stack(genomes).astype(np.int64), task.n_inputs,
                                        task.max_gates, costs.kernel_kind(c.kind, c.layout), sq)


def _block(rows: list[dict], cost: np.ndarray, state: GenomeModelState) -> Block:
    def col(name, dtype=np.float64):
        return np.array([r[name] for r in rows], dtype=dtype)

    n = len(rows)
    return Block(generation=col("generation", np.int64), goal=col("goal", np.int32),
                 fitness_best=col("fitness"), fitness_mean=np.full(n, np.nan),
                 cost_best=cost, cost_mean=cost, front0_size=np.zeros(n, dtype=np.int32),
                 best_genome=np.stack([r["genome"] for r in rows]), state=state,
                 extra={name: col(name) for name in EXTRA_COLUMNS})


def genome_model_source(config, task, schedule, seeds: dict,
                        saved: tuple[int, dict[str, np.ndarray]] | None = None) -> RunSource:
    """What the runner records of such a run: its blocks, evolution's best-network meter
    (the same measures as an evolved run's), the file layout."""
    from evosim.measures import BestNetworkMeter

    model = make_model(task, config)
    state = restore_state(config, model.n_parameters, *saved) if saved is not None else None
    blocks = train(model, task, schedule, config, seeds["engine"], config.output.flush_every,
                   state)
    extra = {name: np.dtype(np.float64) for name in EXTRA_COLUMNS}
    return RunSource(blocks, BestNetworkMeter(task, config, schedule), (1, task.genome_length),
                     np.int16, extra, {}, checkpoint_layout(config, model.n_parameters))
