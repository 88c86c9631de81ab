"""Gradient-trained NAND circuits (gradient.model = nand-circuit): the relaxed circuit against
finite differences and against the evolved circuit of the same genome, and runs recorded as
evolved runs are."""
import numpy as np
import pytest
from click.testing import CliRunner
from helpers import assert_resumes_to_the_same_file

from evosim import config as cfg
from evosim import runner
from evosim.cli import main
from evosim.gradient import circuit
from evosim.io import load
from evosim.tasks.logic import LogicTask

TASK = LogicTask()
SHAPE = circuit.CircuitShape.of(TASK)
X = circuit.inputs(4)


def evolved_output(genome):
    """The circuit's output on row r by direct simulation, gate by gate, with Python ints."""
    out = []
    for r in range(16):
        signal = [(r >> i) & 1 for i in range(4)]
        for g in range(TASK.max_gates):
            signal.append(1 - (signal[genome[2 * g]] & signal[genome[2 * g + 1]]))
        out.append(signal[genome[2 * TASK.max_gates]])
    return np.array(out)


def central_difference(f, theta, eps=1e-6):
    grad = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (f(theta + step) - f(theta - step)) / (2 * eps)
    return grad


@pytest.mark.parametrize("loss,temperature", [("bce", 1.0), ("bce", 0.3), ("mse", 2.0)])
def test_the_gradient_equals_finite_differences(loss, temperature):
    rng = np.random.default_rng(7)
    theta = rng.normal(size=SHAPE.n_parameters)
    y = rng.integers(0, 2, 16).astype(float)
    value, grad, _ = circuit.loss_and_grad(SHAPE, theta, X, y, loss, temperature)
    fd = central_difference(
        lambda t: circuit.loss_and_grad(SHAPE, t, X, y, loss, temperature)[0], theta)
    assert value == pytest.approx(circuit.loss_value(circuit.forward(
        SHAPE, theta, X, temperature)[0], y, loss))
    assert np.abs(grad - fd).max() < 1e-7 * max(1.0, np.abs(fd).max())
    assert np.abs(fd).max() > 1e-4  # the check has something to check


def test_the_expected_wiring_length_and_its_gradient():
    from evosim import costs

    sq = costs.squared_distances(costs.positions("line", 4, TASK.max_gates))
    theta = np.random.default_rng(3).normal(size=SHAPE.n_parameters)
    value, grad = circuit.expected_length(SHAPE, theta, sq, 0.7)
    by_hand = 0.0
    for gene in range(2 * TASK.max_gates):
        logits = theta[SHAPE.offset[gene]: SHAPE.offset[gene + 1]] / 0.7
        p = np.exp(logits) / np.exp(logits).sum()
        gate = 4 + gene // 2
        by_hand += sum(p[s] * (s - gate) ** 2 for s in range(len(p)))  # line: x = address
    assert value == pytest.approx(by_hand)
    fd = central_difference(lambda t: circuit.expected_length(SHAPE, t, sq, 0.7)[0], theta)
    assert np.allclose(grad, fd, atol=1e-5)


def test_noisy_inputs_stay_in_the_unit_interval():
    model = circuit.CircuitModel(TASK, cfg.Config())
    noisy = model.noisy(X, np.random.default_rng(0).normal(0, 0.5, X.shape))
    assert noisy.min() == 0.0 and noisy.max() == 1.0 and ((noisy > 0) & (noisy < 1)).any()
    out, _ = circuit.forward(SHAPE, np.random.default_rng(1).normal(size=SHAPE.n_parameters),
                             noisy, 1.0)
    assert ((out >= 0) & (out <= 1)).all()


def test_one_hot_logits_compute_the_evolved_circuit_on_every_row():
    for genome in TASK.random_genomes(40, np.uint64(11)):
        theta = circuit.one_hot(SHAPE, genome)
        out, _ = circuit.forward(SHAPE, theta, X, 1.0)
        assert np.allclose(out, evolved_output(genome), atol=1e-12)
        assert np.array_equal(circuit.discretise(SHAPE, theta), genome)


def _circuit_config(**overrides):
    return cfg.Config().replace(**{
        "run.mode": "gradient", "gradient.model": "nand-circuit", "schedule.goal": "XOR",
        "gradient.learning_rate": 0.1, "run.generations": 150, "modularity.qm_samples": 4,
        **overrides})


def test_a_short_run_solves_xor_from_most_seeds_with_a_few_gates(tmp_path):
    solved, gates = 0, []
    for seed in range(8):
        h = load(runner.run(_circuit_config(**{"run.seed": seed, "modularity.every": 0,
                                               "modularity.qm_epochs": 0}),
                            tmp_path / f"s{seed}.h5").path)
        hits = np.flatnonzero(h["solved"])
        if hits.size:
            solved += 1
            nodes, _ = TASK.functional_network(h.epoch_genome[np.flatnonzero(
                h.epochs["solved"])[0]])
            gates.append(int((nodes >= 4).sum()))
    assert solved >= 6, solved
    assert max(gates) <= TASK.max_gates and min(gates) >= 4  # XOR takes 4 NAND gates at least


def test_the_records_are_evolved_circuits_and_their_performance(tmp_path):
    """Snapshots and /epochs hold genomes in the evolved format; fitness_best is the logic
    task's own evaluation of the discretised circuit; Q is its functional network's."""
    h = load(runner.run(_circuit_config(**{"schedule.kind": "mvg",
                                           "schedule.goals": ["XOR", "table:0111011101110111"],
                                           "schedule.period": 30}),
                        tmp_path / "c.h5").path)
    assert h.snapshot_genome.dtype == np.int16 and not h.trained_weights
    assert TASK.genome_problem(h.snapshot_genome) is None
    rows = np.searchsorted(h["generation"], h.snapshot_generation)
    for genome, row in zip(h.snapshot_genome, rows):
        target = TASK.pack(h.goal_targets[h["goal"][row]])[0]
        assert h["fitness_best"][row] == TASK.performance(genome[None], target)[0]
        assert h["discretisation_gap"][row] == pytest.approx(
            h["relaxed_accuracy"][row] - h["fitness_best"][row])
    for i in np.flatnonzero(h.epochs["solved"]):
        target = TASK.pack(h.goal_targets[h.epochs["goal"][i]])[0]
        assert TASK.performance(h.epoch_genome[i][None], target)[0] == 1.0
    assert h.epochs["solved"].any() and np.isfinite(h.epochs["q_solved"]).any()
    runner_cli = CliRunner()
    shown = runner_cli.invoke(main, ["show", str(h.path)])
    assert shown.exit_code == 0 and "discretised network's performance" in shown.output
    assert "relaxed network: loss" in shown.output


def test_an_interrupted_circuit_run_resumes_to_the_same_file(tmp_path):
    config = _circuit_config(**{"output.flush_every": 20, "gradient.temperature_end": 0.1,
                                "gradient.input_noise": 0.1})
    whole = assert_resumes_to_the_same_file(config, tmp_path, 70)
    h = load(whole)
    assert h["temperature"][0] == 1.0 and h["temperature"][-1] == pytest.approx(0.1)


@pytest.mark.parametrize("setting,message", [
    (["--set", "task.name=retina"], "gradient.model: nand-circuit trains logic-gates networks"),
    (["--cost", "count"], "cost.kind: every gate has two wires"),
    (["--cost", "length"], "cost.weight: 0 leaves a trained circuit without wiring pressure"),
    (["--set", "gradient.l1=0.01"], "gradient.l1: a pressure of the MLP model"),
    (["--set", "gradient.model=tree"], "gradient.model"),
])
def test_settings_a_circuit_cannot_train_with_are_one_line(tmp_path, setting, message):
    result = CliRunner().invoke(main, ["run", "logic-gates", "--mode", "gradient", "--set",
                                       "gradient.model=nand-circuit", *setting, "--out",
                                       str(tmp_path / "x.h5")])
    assert result.exit_code == 2 and message in result.output
    assert result.output.strip().count("\n") == 0 and not (tmp_path / "x.h5").exists()


def test_evolved_and_trained_circuits_are_compared_as_one_graph_type(tmp_path):
    import importlib.util
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("evo_vs_gradient_circuits",
                                                  root / "analysis" / "evo_vs_gradient.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    spec.loader.exec_module(script)
    for seed in (0, 1):
        runner.run(_circuit_config(**{"run.seed": seed, "run.generations": 60}),
                   tmp_path / f"trained{seed}.h5")
        runner.run(cfg.Config().replace(**{"schedule.goal": "XOR", "run.seed": seed,
                                           "run.population": 100, "run.generations": 60,
                                           "modularity.qm_samples": 4}),
                   tmp_path / f"evolved{seed}.h5")
    out = tmp_path / "report"
    script.main([str(tmp_path), "-o", str(out), "--bootstrap", "50"])
    text = (out / "evo_vs_gradient.md").read_text()
    assert "**One graph type.**" in text and "Different graph types" not in text
    assert "run.mode=gradient" in text and "`n_nodes_solved`" in text
