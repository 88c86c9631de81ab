"""Gradient mode's side of the runner: the training blocks, and the measures of each epoch's
network (exact max Q of the |w| weight graph, Qm now and then), in the run file's schema."""
from __future__ import annotations

import numpy as np

from evosim.gradient import data as gdata
from evosim.gradient.measures import weight_graph
from evosim.gradient.trainer import (network_sizes, parameter_count, state_size, train,
                                     unflatten)
from evosim.io import HISTORY_COLUMNS
from evosim.measures import modularity_seed
from evosim.modularity import ModularityCache

EXTRA_COLUMNS = ("loss_train", "loss_test", "accuracy_train", "accuracy_test",
                 "activation_change")


def gradient_source(config, task, schedule, seeds: dict, state=None):
    """What the runner records of a gradient run (a ``runner.RunSource``): the training blocks
    from ``state`` (the next epoch and the packed training state) when resuming, the meter, the
    file layout, and the data split under /gradient/."""
    from evosim.runner import RunSource  # the runner imports this module only when it needs it

    g = config.gradient
    if config.task.name == "digit-pairs":
        mnist = (g.mnist_images, g.mnist_labels) if g.mnist_images else None
        dataset = gdata.pairs_dataset(g.n_pairs, g.test_fraction,
                                      np.random.default_rng(seeds["schedule"].spawn(1)[0]), mnist)
    else:
        dataset = gdata.table_dataset(task)
    sizes = network_sizes(config, dataset.x_train.shape[1])
    extra = {name: np.dtype(np.float64) for name in EXTRA_COLUMNS}
    extra.update({f"activation_change_layer{k}": np.dtype(np.float64)
                  for k in range(len(sizes) - 2)})
    blocks = train(task, dataset, schedule, config, seeds["engine"], config.output.flush_every,
                   state)
    split = {f"gradient/{name}": values for name, values in dataset.split.items()}
    split["gradient/layer_sizes"] = np.array(sizes)
    return RunSource(blocks, WeightGraphMeter(config, sizes), (1, parameter_count(sizes)),
                     np.float64, extra, split, (1, state_size(sizes)))


class WeightGraphMeter:
    """Per epoch: the network's weight graph (|w| above gradient.weight_threshold), its exact max
    Q (a recorded heuristic above modularity.exact_limit units), Qm every qm_every epochs."""

    def __init__(self, config, sizes: list[int]):
        m = config.modularity
        self.sizes, self.threshold = sizes, config.gradient.weight_threshold
        self.every, self.qm_every, self.qm_samples = m.every, m.qm_every, m.qm_samples
        self.last = config.run.generations
        self.cache = ModularityCache(directed=m.directed, exact_limit=m.exact_limit)
        self.qm_seed = modularity_seed(config.run.seed)
        self.q_methods: set[str] = set()
        self.null_models: set[str] = set()

    def measure(self, block) -> dict[str, np.ndarray]:
        n = len(block.generation)
        rows = {name: np.full(n, np.nan) if dtype.kind == "f" else np.zeros(n, dtype=dtype)
                for name, dtype in HISTORY_COLUMNS.items()}
        rows.update(generation=block.generation, goal=block.goal,
                    fitness_best=block.fitness_best, fitness_mean=block.fitness_mean,
                    cost_best=block.cost_best, cost_mean=block.cost_mean,
                    front0_size=block.front0_size, solved=block.fitness_best == 1.0)
        rows.update(block.extra)
        for i, epoch in enumerate(block.generation):
            adjacency = weight_graph(unflatten(block.best_genome[i], self.sizes), self.threshold)
            rows["n_nodes_best"][i] = int((adjacency.sum(axis=0) > 0).sum())
            rows["n_edges_best"][i] = int((adjacency > 0).sum() // 2)
            if self.every and epoch % self.every == 0:
                result = self.cache.max_q(adjacency)
                self.q_methods.add(result.method)
                rows["q_best"][i], rows["q_exact"][i] = result.q, result.exact
            if self.qm_every and (epoch % self.qm_every == 0 or epoch == self.last):
                qm = self.cache.qm(adjacency, n_samples=self.qm_samples, seed=self.qm_seed)
                self.null_models.add(qm.null_model)
                rows["qm_best"][i] = qm.qm
        return rows
