"""Mutational robustness of evolved networks against direct enumeration with an independent
circuit evaluator."""

import numpy as np
import pytest
from click.testing import CliRunner

from evosim import config as cfg
from evosim import runner
from evosim.broadness import mutational_robustness, random_mutants, single_mutants
from evosim.cli import main
from evosim.tasks.logic import LogicTask
from evosim.tasks.retina import RetinaTask
from tests.tasks.test_logic import _evaluate_by_rows

XOR = [0, 1, 0, 2, 1, 2, 3, 4, 5]  # a, b -> g0 = nand(a, b), g1, g2, g3 = xor; output g3


def test_single_mutations_of_a_hand_built_xor_are_enumerated_exactly():
    task = LogicTask(n_inputs=2, max_gates=4)
    genome = np.array(XOR, dtype=np.int16)
    target = np.array([0, 1, 1, 0])
    assert np.array_equal(_evaluate_by_rows(genome, 2), target)
    ranges = [range(2 + g) for g in range(4) for _ in range(2)] + [range(2, 6)]
    kept, total = 0, 0
    for gene, values in enumerate(ranges):
        for v in values:
            if v == genome[gene]:
                continue
            mutant = genome.copy()
            mutant[gene] = v
            total += 1
            kept += np.array_equal(_evaluate_by_rows(mutant, 2), target)
    result = mutational_robustness(task, genome, task.pack(target)[0])
    assert result.performance == 1.0 and result.n_single == total
    assert result.single == kept / total
    assert len(single_mutants(genome, task.alleles())) == total


@pytest.mark.parametrize("task", [LogicTask(), RetinaTask()])
def test_random_mutants_change_exactly_k_genes_to_allowed_values(task):
    rng = np.random.default_rng(1)
    genome = task.random_genomes(1, np.uint64(3))[0]
    alleles = task.alleles()
    for k in (2, 3):
        mutants = random_mutants(genome, alleles, k, 200, rng)
        changed = mutants != genome
        assert (changed.sum(axis=1) == k).all()
        for row in mutants:
            assert all(row[g] in alleles[g] for g in range(len(alleles)))
        assert task.genome_problem(mutants) is None
    again = random_mutants(genome, alleles, 2, 50, np.random.default_rng(4))
    assert np.array_equal(again, random_mutants(genome, alleles, 2, 50, np.random.default_rng(4)))


def test_more_mutations_keep_performance_less_often():
    task = LogicTask()
    genome = np.array(XOR[:-1] + list(range(24 - 8)) + [5], dtype=np.int16)  # any valid circuit
    genome = np.clip(genome, task.gene_low, task.gene_low + task.gene_size - 1).astype(np.int16)
    result = mutational_robustness(task, genome, task.pack(np.arange(16) % 2)[0], draws=400)
    assert result.kept[0] >= result.kept[1] >= result.kept[2]
    assert result.loss[0] <= result.loss[1] <= result.loss[2]


def test_the_command_writes_its_figures_for_evolved_and_trained_networks(tmp_path):
    small = {"run.generations": 50, "run.population": 40, "modularity.qm_epochs": 0}
    run = runner.run(cfg.Config().replace(**small), tmp_path / "r.h5").path
    result = CliRunner().invoke(main, ["broadness", str(run), "--draws", "50"])
    assert result.exit_code == 0, result.output
    assert "1 mutation  (all" in result.output
    assert (tmp_path / "r-broadness-g50.png").exists() and (tmp_path / "r-broadness-g50.h5").exists()
    gradient = runner.run(cfg.Config().replace(**{**small, "run.mode": "gradient",
                                                  "run.generations": 2}), tmp_path / "g.h5").path
    trained = CliRunner().invoke(main, ["broadness", str(gradient), "--draws", "5"])
    assert trained.exit_code == 0, trained.output
    assert "output Jacobian: 81 parameters" in trained.output  # 4-8-4-1 on the truth table
    assert (tmp_path / "g-broadness-g2.png").exists() and (tmp_path / "g-broadness-g2.h5").exists()
