"""Fused generation loops: evaluate, record the best, select and vary, for a block of generations.

One compiled call runs a whole block (default 100 generations), so the hot loop never returns to
Python; ``*_numpy`` is the same loop over the NumPy reference kernels. Both leave the population of
the generation after the block in ``genomes`` and write one stats row per generation.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from evosim.engine import kernels, reference
from evosim.tasks.logic import count_correct, count_correct_numpy


@njit(cache=True)
def logic_block(genomes, spare, gen0, targets, n_inputs, input_words, row_mask, key, params,
                gene_low, gene_size, score_best, score_sum, best_genomes) -> None:
    n = genomes.shape[0]
    correct = np.empty(n, dtype=np.int64)
    current, other = genomes, spare
    for b in range(targets.shape[0]):
        count_correct(current, n_inputs, input_words, targets[b], row_mask, correct)
        order = kernels.rank_by_score(correct, key, gen0 + b)
        score_best[b] = correct[order[0]]
        score_sum[b] = correct.sum()
        for i in range(current.shape[1]):
            best_genomes[b, i] = current[order[0], i]
        kernels.next_generation(current, other, order, params, key, gen0 + b, gene_low, gene_size)
        current, other = other, current
    if targets.shape[0] % 2 == 1:
        genomes[:] = current


def logic_block_numpy(genomes, spare, gen0, targets, n_inputs, input_words, row_mask, key, params,
                      gene_low, gene_size, score_best, score_sum, best_genomes) -> None:
    current, other = genomes, spare
    for b in range(targets.shape[0]):
        correct = count_correct_numpy(current, n_inputs, input_words, targets[b], row_mask)
        order = reference.rank_by_score(correct, key, gen0 + b)
        score_best[b] = correct[order[0]]
        score_sum[b] = correct.sum()
        best_genomes[b] = current[order[0]]
        reference.next_generation(current, other, order, params, key, gen0 + b, gene_low, gene_size)
        current, other = other, current
    if targets.shape[0] % 2 == 1:
        genomes[:] = current
