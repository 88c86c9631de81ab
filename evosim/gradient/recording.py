"""Gradient mode's side of the runner: the training blocks, and the measures of each epoch's
network (exact max Q of the |w| weight graph, Qm at goal-period ends, /epochs), in the run
file's schema."""
from __future__ import annotations

import numpy as np

from evosim.gradient import data as gdata
from evosim.gradient.measures import weight_graph
from evosim.gradient.trainer import (checkpoint_layout, network_sizes, parameter_count,
                                     restore_state, train, unflatten)
from evosim.dependence import Dependence, trained_dependence
from evosim.epochs import NetworkMeasures, qm_due
from evosim.io import HISTORY_COLUMNS
from evosim.recording import Measured, NetworkMeter, RunSource
from evosim.modularity import LayerPermutation

EXTRA_COLUMNS = ("loss_train", "loss_test", "accuracy_train", "accuracy_test",
                 "activation_change")


def gradient_source(config, task, schedule, seeds: dict,
                    saved: tuple[int, dict[str, np.ndarray]] | None = None) -> RunSource:
    """What the runner records of a gradient run: the training blocks (from a checkpoint's
    epoch and named arrays, ``saved``, when resuming; one that does not fit the config is
    refused with ValueError), the meter, the file layout, and the data split under /gradient/."""
    if config.gradient.model != "mlp":  # a model whose networks are the task's genomes
        from evosim.gradient.genome_training import genome_model_source
        return genome_model_source(config, task, schedule, seeds, saved)
    dataset = run_dataset(config, task, seeds)
    sizes = network_sizes(config, dataset.x_train.shape[1])
    extra = {name: np.dtype(np.float64) for name in EXTRA_COLUMNS}
    extra.update({f"activation_change_layer{k}": np.dtype(np.float64)
                  for k in range(len(sizes) - 2)})
    state = restore_state(config, sizes, *saved) if saved is not None else None
    blocks = train(task, dataset, schedule, config, seeds["engine"], config.output.flush_every,
                   state)
    split = {f"gradient/{name}": values for name, values in dataset.split.items()}
    split["gradient/layer_sizes"] = np.array(sizes)
    return RunSource(blocks, WeightGraphMeter(config, sizes, schedule, dataset),
                     (1, parameter_count(sizes)),
                     np.float64, extra, split, checkpoint_layout(config, sizes))


def run_dataset(config, task, seeds: dict) -> gdata.Dataset:
    """A gradient run's data: the task's truth table, or its digit pairs (drawn from the run's
    schedule stream)."""
    g = config.gradient
    if config.task.name != "digit-pairs":
        return gdata.table_dataset(task)
    mnist = (g.mnist_images, g.mnist_labels) if g.mnist_images else None
    return gdata.pairs_dataset(g.n_pairs, g.test_fraction,
                               np.random.default_rng(seeds["schedule"].spawn(1)[0]), mnist)


def trained_network(config, task, flat: np.ndarray) -> tuple[list, gdata.Dataset]:
    """(params, data) of a gradient run's flattened network (a snapshot or /epochs genome) and
    of the run's own data: what its derivatives and broadness are measured on."""
    from evosim.counter_rng import seed_streams

    dataset = run_dataset(config, task, seed_streams(config.run.seed))
    sizes = network_sizes(config, dataset.x_train.shape[1])
    return unflatten(np.asarray(flat, dtype=np.float64), sizes), dataset


class WeightGraphMeter(NetworkMeter):
    """Per epoch: the network's weight graph (|w| above gradient.weight_threshold) and its exact
    max Q (a recorded heuristic above modularity.exact_limit units); Qm against the layer
    permutation null at goal-period ends; and /epochs, one row per goal period."""

    def __init__(self, config, sizes: list[int], schedule, dataset: gdata.Dataset):
        self.sizes, self.threshold = sizes, config.gradient.weight_threshold
        self.dataset, self.activation = dataset, config.gradient.activation
        super().__init__(config, schedule, LayerPermutation(tuple(sizes)),
                         parameter_count(sizes), np.float64)

    def measure(self, block) -> Measured:
        n = len(block.generation)
        rows = {name: np.full(n, np.nan) if dtype.kind == "f" else np.zeros(n, dtype=dtype)
                for name, dtype in HISTORY_COLUMNS.items()}
        rows.update(generation=block.generation, goal=block.goal,
                    fitness_best=block.fitness_best, fitness_mean=block.fitness_mean,
                    cost_best=block.cost_best, cost_mean=block.cost_mean,
                    front0_size=block.front0_size, solved=block.fitness_best == 1.0)
        rows.update(block.extra)
        gens = block.generation
        measured = self.measured_rows(gens)
        graphs = []
        for i in range(n):
            adjacency = self.weight_graph(block.best_genome[i])
            graphs.append(adjacency)
            rows["n_nodes_best"][i] = int((adjacency.sum(axis=0) > 0).sum())
            rows["n_edges_best"][i] = int((adjacency > 0).sum() // 2)
            if measured[i]:
                result = self.cache.max_q(adjacency)
                self.q_methods.add(result.method)
                rows["q_best"][i], rows["q_exact"][i] = result.q, result.exact
        self.qm_meter.fill(rows, qm_due(self.schedule, gens, self.last, self.qm_epochs),
                           graphs.__getitem__)
        epochs, genomes = self.epochs.add(gens, block.fitness_best, block.cost_best,
                                          block.best_genome, block.goal)
        return Measured(rows, {**epochs, "genome": genomes}, self.epochs.solving_genome)

    def weight_graph(self, flat: np.ndarray) -> np.ndarray:
        return weight_graph(unflatten(flat, self.sizes), self.threshold)

    def network(self, flat: np.ndarray) -> NetworkMeasures:
        """A flattened network's weight graph and its max Q."""
        adjacency = self.weight_graph(flat)
        result = self.cache.max_q(adjacency)
        self.q_methods.add(result.method)
        return NetworkMeasures(int((adjacency.sum(axis=0) > 0).sum()),
                               int((adjacency > 0).sum() // 2), adjacency, result.q,
                               bool(result.exact))

    def dependence(self, flat: np.ndarray) -> Dependence:
        """Node derivatives mean |d a / d x| of its hidden units over the training data."""
        return trained_dependence(unflatten(flat, self.sizes), self.dataset.x_train,
                                  self.activation, self.dataset.halves)
