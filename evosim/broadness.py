"""Broadness of evolved optima (source document 000, experiments 2 and 10): how much of a
network's neighbourhood in genome space keeps its performance.

Mutational robustness: every single mutation (each gene the task's mutation changes, set to each
of its other values) enumerated exactly, and k random mutations (k distinct genes, each to a
random other value) sampled, for k up to ``max_mutations``. A flat optimum keeps its performance
under many of them. Gradient-trained networks' broadness is in ``evosim.gradient.broadness``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Robustness:
    """Mutational robustness of one genome under one goal."""

    performance: float        # the genome's own performance
    n_single: int             # single mutations enumerated
    kept: np.ndarray          # [k - 1]: fraction of k-mutants whose performance is not lower
    loss: np.ndarray          # [k - 1]: mean performance lost (0 where a mutant is better)

    @property
    def single(self) -> float:
        """The fraction of all single mutations that keep performance (exact)."""
        return float(self.kept[0])


def single_mutants(genome: np.ndarray, alleles: list[np.ndarray]) -> np.ndarray:
    """Every genome one mutation away: gene g set to each of ``alleles[g]`` but its own value."""
    genome = np.asarray(genome)
    rows = []
    for g, values in enumerate(alleles):
        for v in values[values != genome[g]]:
            mutant = genome.copy()
            mutant[g] = v
            rows.append(mutant)
    return np.array(rows, dtype=genome.dtype).reshape(-1, genome.size)


def random_mutants(genome: np.ndarray, alleles: list[np.ndarray], k: int, draws: int,
                   rng: np.random.Generator) -> np.ndarray:
    """``draws`` genomes k mutations away: k distinct genes, each to a random other value."""
    genome = np.asarray(genome)
    mutable = np.array([g for g, values in enumerate(alleles) if values.size > 1])
    out = np.repeat(genome[None, :], draws, axis=0)
    for d in range(draws):
        for g in rng.choice(mutable, size=k, replace=False):
            others = alleles[g][alleles[g] != genome[g]]
            out[d, g] = others[rng.integers(others.size)]
    return out


def mutational_robustness(task, genome: np.ndarray, target_words: np.ndarray,
                          max_mutations: int = 3, draws: int = 1000,
                          rng: np.random.Generator | None = None) -> Robustness:
    """Robustness of ``genome`` (a genome of ``task``) to mutations, under the goal whose packed
    truth table is ``target_words`` (``task.pack``).

    Parameters
    ----------
    task
        A task with ``alleles()`` and ``performance(genomes, target_words)``.
    max_mutations : int
        The largest k; k = 1 is enumerated, k >= 2 sampled.
    draws : int
        Random k-mutants per k >= 2.
    rng : numpy.random.Generator, optional
        The draws' generator (default: seeded 0, so a call is reproducible).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    alleles = task.alleles()
    own = float(task.performance(np.asarray(genome)[None, :], target_words)[0])
    kept, loss = [], []
    n_single = 0
    for k in range(1, max_mutations + 1):
        mutants = (single_mutants(genome, alleles) if k == 1
                   else random_mutants(genome, alleles, k, draws, rng))
        n_single = n_single or len(mutants)
        performance = task.performance(mutants, target_words)
        kept.append(float(np.mean(performance >= own)))
        loss.append(float(np.mean(np.maximum(own - performance, 0.0))))
    return Robustness(own, n_single, np.array(kept), np.array(loss))


def write(path, result: Robustness, **attrs) -> None:
    """``/broadness/kept`` and ``/broadness/loss`` (index k - 1), with what was measured in the
    attributes (``write_group``)."""
    write_group(path, {"performance": result.performance, "n_single": result.n_single, **attrs},
                {"kept": (result.kept, "fraction of k-mutants (index k - 1) whose performance is "
                                       "not lower; k = 1 exact"),
                 "loss": (result.loss, "mean performance lost by k-mutants (0 where a mutant is "
                                       "better)")})


def write_group(path, attrs: dict, datasets: dict[str, tuple[np.ndarray, str]]) -> None:
    """A file of its own holding ``/broadness``: each dataset with its description, ``attrs``
    on the group (a run file is never opened for writing here)."""
    import h5py

    with h5py.File(path, "w") as f:
        group = f.create_group("broadness")
        group.attrs.update(attrs)
        for name, (values, description) in datasets.items():
            group.create_dataset(name, data=values).attrs["description"] = description
