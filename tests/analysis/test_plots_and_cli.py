"""`evosim plot`, `draw`, `export` on small run files, and the figures and networks behind them."""
import csv
import importlib.util

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from evosim import runner
from evosim.analysis.export import column_order
from evosim.analysis.networks import network, run_network, snapshot_at, task_of
from evosim.analysis.plots import draw_network, network_layout, plot_distributions
from evosim.cli_analysis import draw, export, plot
from evosim.config import Config
from evosim.io import load
from evosim.modularity import newman_q
from evosim.tasks import get_task

PNG = b"\x89PNG\r\n\x1a\n"
QUICK = {"run.generations": 200, "run.population": 100, "modularity.qm_epochs": 5,
         "modularity.qm_samples": 3, "output.snapshot_every": 50}


@pytest.fixture(scope="module")
def logic_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("logic") / "x.h5"
    runner.run(Config().replace(**QUICK, **{"schedule.kind": "mvg"}), path)
    return path


@pytest.fixture(scope="module")
def retina_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("retina") / "r.h5"
    runner.run(Config().replace(**{"task.name": "retina", "schedule.kind": "mvg", **QUICK,
                                   "run.generations": 100}), path)
    return path


def invoke(command, args):
    return CliRunner().invoke(command, [str(a) for a in args])


def is_png(path):
    return path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG


def assert_one_line_error(result, *words):
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    for word in words:
        assert word in result.output


def test_plot(logic_run, tmp_path):
    out = tmp_path / "h.png"
    result = invoke(plot, [logic_run, "-o", out])
    assert result.exit_code == 0, result.output
    assert is_png(out)
    assert invoke(plot, [logic_run]).exit_code == 0  # default: beside the run file
    assert is_png(logic_run.with_suffix(".png"))


def drawn(monkeypatch):
    """Capture the figures plots.py makes instead of letting it close them."""
    from evosim.analysis import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append(fig) or path)
    return plots, figures


def lines(fig, label):
    return [line for ax in fig.axes for line in ax.get_lines() if line.get_label() == label]


@pytest.mark.parametrize("period, qm_epochs, shaded", [(20, 1, True), (2, 10, False)])
def test_plot_history_draws_epochs(monkeypatch, tmp_path, period, qm_epochs, shaded):
    """Per-epoch values at their generations; epochs shaded only when there are few of them."""
    path = tmp_path / "run.h5"
    runner.run(Config().replace(**{**QUICK, "schedule.kind": "mvg",
                                   "schedule.period": period, "modularity.qm_epochs": qm_epochs,
                                   "schedule.goals": ["XOR", "table:0111011101110111"]}), path)
    h = load(path)
    plots, figures = drawn(monkeypatch)
    plots.plot_history(h, tmp_path / "h.png")
    [fig] = figures
    e = h.epochs
    assert (len(e["epoch"]) <= plots.SHADE_MAX_EPOCHS) == shaded
    shading = [c for ax in fig.axes for c in ax.collections if c.get_label() ==
               "alternate goal epochs"]
    assert bool(shading) == shaded
    assert bool(lines(fig, "best (each row)")) == shaded
    [ends] = lines(fig, "best at epoch end")
    assert np.array_equal(ends.get_xdata(), e["start"] + e["length"] - 1)
    assert np.array_equal(ends.get_ydata(), e["fitness_end"])
    solved = e["solved"]
    [q] = lines(fig, "Q of the epoch's last solving network")
    assert np.array_equal(q.get_xdata(), e["solved_at"][solved])
    assert np.array_equal(q.get_ydata(), e["q_solved"][solved])
    [rug] = [line for line in fig.axes[0].get_lines()
             if line.get_label().startswith("solved epochs")]
    assert len(rug.get_xdata()) == solved.sum()
    assert solved.any() and not solved.all()
    qm = np.isfinite(e["qm_solved"])
    assert qm.any() or not shaded  # (2-generation epochs here solve only NAND: no Qm)
    points = lines(fig, "Qm (solving network)")
    assert [len(p.get_xdata()) for p in points] == ([qm.sum()] if qm.any() else [])
    assert all(p.get_linestyle() == "None" for p in points)  # points, not lines
    plots.plt.close(fig)


def test_draw_logic_at_a_generation(logic_run):
    result = invoke(draw, [logic_run, "--generation", 149])
    assert result.exit_code == 0, result.output
    out = logic_run.with_name("x-g149.png")  # snapshots at 0, 49, 99, 149, 199, 200
    assert str(out) in result.output and is_png(out)
    result = invoke(draw, [logic_run, "--generation", 170])
    assert "no network is stored for generation 170" in result.output
    assert is_png(logic_run.with_name("x-g149.png"))
    assert_one_line_error(invoke(draw, [logic_run, "--generation", -1]), "no network stored")


def test_draw_defaults_to_the_last_solving_network(tmp_path):
    config = Config().replace(**{**QUICK, "run.population": 200, "schedule.goal": "XOR",
                                 "run.seed": 2})
    path = runner.run(config, tmp_path / "xor.h5").path
    h = load(path)
    last = int(h.epochs["solved_at"][np.flatnonzero(h.epochs["solved"])[-1]])
    result = invoke(draw, [path])
    assert result.exit_code == 0, result.output
    assert f"drew generation {last}: the last solving network" in result.output
    assert is_png(path.with_name(f"xor-g{last}.png"))


def test_draw_retina(retina_run, tmp_path):
    out = tmp_path / "r.png"
    assert invoke(draw, [retina_run, "-o", out]).exit_code == 0
    assert is_png(out)


def test_network_partition_matches_recorded_q(logic_run):
    h = load(logic_run)
    task, directed = task_of(h)
    gen, genome = snapshot_at(h, 100)
    net = network(task, genome, directed)
    labels = np.array([net.communities[int(n)] for n in net.nodes])
    assert net.q == pytest.approx(newman_q(net.adjacency, labels, directed))
    assert net.q == pytest.approx(h["q_best"][h["generation"] == gen][0])


def test_retina_network_uses_positions_and_weights(tmp_path):
    task = get_task(Config().replace(**{"task.name": "retina"}).task)
    genomes = task.random_genomes(30, np.uint64(5))
    genome = max(genomes, key=lambda g: len(task.functional_network(g)[1]))
    net = network(task, genome, directed=True)
    assert net.graph.number_of_edges() > 0
    assert set(np.abs(net.weights[net.weights != 0])) <= {1.0, 2.0}
    pos = network_layout(net.graph)
    assert all(pos[n] == net.graph.nodes[n]["position"] for n in net.graph)
    assert is_png(draw_network(net.graph, net.communities, tmp_path / "net.png", "retina"))


def test_distributions_plot(tmp_path, monkeypatch):
    groups = {"Q": {"a": [0.1, 0.2, float("nan")], "b": []}, "Qm": {"a": [0.3], "b": [0.4, 0.5]},
              "T": {"a": [5.0, 300.0, 300.0], "b": [3.0, 4.0, 9.0]}}
    cis = {"Q": {"a": (0.1, 0.2), "b": (float("nan"), float("nan"))}}
    censored = {"T": {"a": [False, True, True], "b": [False] * 3}}
    assert is_png(plot_distributions(groups, tmp_path / "d.png", cis=cis, censored=censored))
    plots, figures = drawn(monkeypatch)
    plots.plot_distributions(groups, tmp_path / "e.png", cis=cis, censored=censored)
    [fig] = figures
    t_panel = next(ax for ax in fig.axes if ax.get_title() == "T")
    hollow = [line for line in t_panel.get_lines() if line.get_markerfacecolor() == "none"
              and len(line.get_xdata())]
    assert [sorted(line.get_xdata()) for line in hollow] == [[300.0, 300.0]]
    q_panel = next(ax for ax in fig.axes if ax.get_title() == "Q")
    assert any(list(line.get_xdata()) == [0.1, 0.2] for line in q_panel.get_lines())  # the CI
    plots.plt.close(fig)


def test_export_csv(logic_run, tmp_path):
    out = tmp_path / "x.csv"
    result = invoke(export, [logic_run, "--format", "csv", "-o", out])
    assert result.exit_code == 0, result.output
    h = load(logic_run)
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == column_order(h) and rows[0][0] == "generation"
    assert len(rows) == 1 + len(h) == 202
    table = {name: [r[i] for r in rows[1:]] for i, name in enumerate(rows[0])}
    assert np.array_equal(np.array(table["q_best"], float), h["q_best"])
    assert np.array_equal(np.array(table["qm_best"], float), h["qm_best"], equal_nan=True)
    assert table["solved"] == [str(int(v)) for v in h["solved"]]
    assert table["goal_name"] == [h.goal_names[g] for g in h["goal"]]
    assert rows[0].index("goal_name") == rows[0].index("goal") + 1
    stdout = invoke(export, [logic_run, "-o", "-"])
    assert stdout.exit_code == 0 and stdout.output.splitlines()[0] == ",".join(rows[0])


def test_export_extra_columns_and_default_path(logic_run, tmp_path):
    copy = tmp_path / "g.h5"
    copy.write_bytes(logic_run.read_bytes())
    with h5py.File(copy, "a") as f:
        f["history/activation_change"] = np.linspace(0, 1, len(f["history/generation"]))
    assert invoke(export, [copy]).exit_code == 0
    header = copy.with_suffix(".csv").read_text().splitlines()[0].split(",")
    assert header[-1] == "activation_change"


def test_export_parquet(logic_run, tmp_path):
    out = tmp_path / "x.parquet"
    result = invoke(export, [logic_run, "--format", "parquet", "-o", out])
    if importlib.util.find_spec("pyarrow") is None:
        assert_one_line_error(result, "pyarrow")
    else:
        assert result.exit_code == 0
        import pyarrow.parquet as pq
        back, h = pq.read_table(out).to_pydict(), load(logic_run)
        assert list(back) == column_order(h)
        assert back["goal_name"] == [h.goal_names[g] for g in h["goal"]]
        assert np.array_equal(back["q_best"], h["q_best"])


@pytest.mark.parametrize("args, words", [
    (["--format", "xlsx"], ["unknown format", "csv"]),
    (["--format", "parquet", "-o", "-"], ["stdout"]),
])
def test_export_errors(logic_run, args, words):
    assert_one_line_error(invoke(export, [logic_run, *args]), *words)


def test_errors_are_one_line(logic_run, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    for command in (plot, draw, export):
        assert_one_line_error(invoke(command, [tmp_path / "missing.h5"]), "no such run file")
        assert_one_line_error(invoke(command, [bad]), "bad.h5")
    assert_one_line_error(invoke(draw, [logic_run, "--generation", -5]), "no network stored")


def test_gradient_run_snapshot_is_the_weight_graph(tmp_path):
    """Gradient runs store flattened MLP weights; their network is the |w| graph Q was taken of."""
    path = tmp_path / "g.h5"
    runner.run(Config().replace(**{"task.name": "retina", "run.mode": "gradient",
                                   "run.generations": 4, "schedule.kind": "mvg",
                                   "modularity.qm_epochs": 0, "modularity.every": 2,
                                   "output.snapshot_every": 2}), path)
    h = load(path)
    gen, flat = snapshot_at(h, 3)
    net = run_network(h, flat)
    assert gen == 2 and net.graph.number_of_nodes() == 8 + 8 + 4 + 2 + 1
    assert net.q == pytest.approx(h["q_best"][h["generation"] == gen][0])
    out = tmp_path / "g.png"
    assert invoke(draw, [path, "-o", out]).exit_code == 0 and is_png(out)
    assert invoke(plot, [path, "-o", tmp_path / "gh.png"]).exit_code == 0
