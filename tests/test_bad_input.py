"""Every bad input a careless user or a flaky cluster gives is one line naming what is wrong,
exit code 2: never a traceback, a hang or a crash, and nothing recorded is touched."""
import shutil

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from evosim import resources
from evosim.cli import main

RUN = ["--generations", "10", "--population", "50", "--quiet"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "utf16.toml").write_bytes("[run]\nseed = 1\n".encode("utf-16"))
    (d / "latin1.toml").write_bytes("[run]\n# caf\xe9\nseed = 1\n".encode("latin-1"))
    (d / "section.toml").write_text("run = 5\n")
    (d / "nested.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    (d / "big.toml").write_text("# " + "x" * (2 << 20) + "\n")
    (d / "sweep").mkdir()
    (d / "sweep" / "sweep.toml").write_bytes(b"\x00\xff\xfe binary")
    (d / "sweep2").mkdir()
    (d / "sweep2" / "sweep.toml").write_text("runs = 5\n")
    ok = d / "ok.h5"
    assert CliRunner().invoke(main, ["run", "logic-gates", *RUN, "--out", str(ok)]).exit_code == 0
    edits = {"noconfig": lambda f: f.attrs.__delitem__("config"),
             "binconfig": lambda f: f.attrs.__setitem__("config", np.void(b"\xff\xfe\x01")),
             "active7": lambda f: f["checkpoint/active"].__setitem__(0, 7)}
    for name, edit in edits.items():
        shutil.copy(ok, d / f"{name}.h5")
        with h5py.File(d / f"{name}.h5", "r+") as f:
            f.attrs["status"] = "interrupted"
            edit(f)
    return d


# (arguments, words the one line must contain); {d} is the fixture folder
CASES = [
    (["run", "retina", "--set", "selection.diversity=true"],
     "selection.diversity: behavioural diversity is an NSGA-II objective"),
    (["run", "logic-gates", "--selection", "nsga2", "--set", "selection.diversity=true"],
     "selection.diversity: behavioural diversity is defined for the retina"),
    (["run", "logic-gates", "--set", "task.feedback=true", "--cost", "count"],
     "task.feedback: recurrent circuits run without a connection cost"),
    (["run", "logic-gates", "--set", "task.feedback=true", "--engine", "deap"],
     "task.feedback: recurrent circuits need run.engine numba or numpy"),
    (["run", "logic-gates", "--set", "schedule.kind=vg0", "--selection", "nsga2"],
     "schedule.kind: vg0 (epochs without selection) needs selection.scheme elitist or tournament"),
    (["run", "logic-gates", "--set", "schedule.kind=vg0", "--mode", "gradient"],
     "schedule.kind: vg0 (epochs without selection) is an evolution control"),
    (["run", "logic-gates", "--set", "schedule.kind=vg0", "--engine", "deap"],
     "schedule.kind: vg0 (epochs without selection) needs run.engine numba or numpy"),
    (["run", "logic-gates", "--selection", "nsga2", "--set", "cost.coins=per-check",
      "--engine", "deap"], "cost.coins: per-check coins need run.engine numba or numpy"),
    (["run", "retina", "--set", "cost.coins=each"], "cost.coins"),
    (["run", "logic-gates", "--set", "schedule.kind=rvg-c", "--set", "schedule.goal=G9"],
     "schedule.goal: 'G9' is not a goal of logic-gates"),
    (["run", "{d}/utf16.toml"], "not UTF-8"),
    (["run", "retina", "--engine", "deap"], "run.engine: deap runs the tasks logic-gates only"),
    (["run", "retina", "--set", "selection.operator=deap.tools.selBest"],
     "selection.operator: deap.tools.selBest runs the tasks logic-gates only"),
    (["config", "show", "{d}/utf16.toml"], "not UTF-8"),
    (["run", "{d}/latin1.toml"], "not UTF-8"),
    (["run", "{d}/section.toml"], "run: expected a [run] table"),
    (["run", "{d}/nested.toml"], "nested too deeply"),
    (["run", "{d}/big.toml"], "at most"),
    (["run", "/dev/zero"], "/dev/zero: not a task, a config file or a config's name"),
    (["run", "{d}/none.toml"], "cannot read config file"),
    (["run", "logic-gates", "--out", "x" * 300 + ".h5"], "cannot write here"),
    (["run", "logic-gates", "--out", "{d}/ok.h5/x.h5"], "cannot write here"),
    (["run", "logic-gates", "--mode", "gradient", "--set", "gradient.hidden=[-3]"],
     "gradient.hidden"),
    (["run", "logic-gates", "--mode", "gradient", "--set", "gradient.hidden=[0]"],
     "gradient.hidden"),
    (["run", "logic-gates", "--mode", "gradient", "--set", "gradient.hidden=[100000000]"],
     "gradient.hidden"),
    (["run", "digit-pairs", "--set", "gradient.mnist_images=/nonexistent",
      "--set", "gradient.mnist_labels=/nonexistent"], "gradient.mnist_images"),
    (["run", "digit-pairs", "--set", "gradient.mnist_images={d}/ok.h5"], "go together"),
    (["run", "logic-gates", "--generations", "10000000000"], "run.generations"),
    (["run", "digit-pairs", "--set", "gradient.n_pairs=10000000000"], "gradient.n_pairs"),
    (["run", "digit-pairs", "--set", "gradient.n_pairs=9000000"], "GiB of memory"),
    (["sweep", "logic-gates", "--seeds", "0-100000000", "--out", "{d}/s1"], "--seeds"),
    (["sweep", "logic-gates", "--seeds", "", "--out", "{d}/s2"], "--seeds"),
    (["sweep", "--status", "{d}/sweep"], "cannot read"),
    (["sweep", "--status", "{d}/sweep2"], "not a list of run names"),
    (["export", "{d}/ok.h5", "-o", "{d}/ok.h5/x.csv"], "not a folder"),
    (["export", "{d}/ok.h5", "-o", "{d}/p.xyz"], "suffixes .csv"),
    (["plot", "{d}/ok.h5", "-o", "{d}/p.xyz"], "suffixes .png"),
    (["draw", "{d}/ok.h5", "-o", "{d}/p.xyz"], "suffixes .png"),
    (["plot", "{d}/ok.h5", "-o", "{d}/ok.h5/p.png"], "not a folder"),
    (["show", "{d}/noconfig.h5"], "'config' attribute is missing"),
    (["run", "--resume", "{d}/noconfig.h5"], "'config' attribute is missing"),
    (["show", "{d}/binconfig.h5"], "'config' attribute is not text"),
    (["run", "--resume", "{d}/binconfig.h5"], "'config' attribute is not text"),
    (["run", "--resume", "{d}/active7.h5"], "active slot 7"),
    (["show", "{d}"], "is a directory"),
    (["run", "logic-gates", "--nosuch"], "No such option"),
    (["run", "logic-gates", "--set", "modularity.qm_samples=100000000"], "modularity.qm_samples"),
    (["run", "logic-gates", "--set", "modularity.qmax_sweeps=0"], "modularity.qmax_sweeps"),
    (["run", "logic-gates", "--set", "selection.operator=deap.tools.selTournament",
      "--set", "selection.tournsize=1000000000"], "selection.tournsize"),
    (["run", "logic-gates", "--population", "200", "--set",
      "selection.operator=deap.tools.selTournament", "--set", "selection.tournsize=1000"],
     "selection.tournsize: 1000 is more than the population (200)"),
    (["run", "logic-gates", "--selection", "tournament", "--population", "200",
      "--set", "selection.tournament_size=100000"], "selection.tournament_size"),
    (["run", "logic-gates", "--mvg", "--rmvg"], "--mvg and --rmvg exclude each other"),
    (["run", "logic-gates", "--goal", "table:2222222222222222"], "schedule.goal"),
    (["run", "logic-gates", "--goal", "G1", "--mvg"], "cannot go with --mvg"),
    (["run", "--resume", "{d}/ok.h5", "--seed", "3"], "--seed"),
    (["run", "--resume", "{d}/ok.h5", "logic-gates"], "TARGET"),
    (["run", "--resume", "{d}/ok.h5", "--generations", "5"], "extended, not shortened"),
    (["run", "logic-gates", "--set", "run.seed=-1"], "run.seed"),
    (["run", "logic-gates", "--set", "nosuch.key=1"], "unknown section"),
    (["run", "logic-gates", "--set", "cost.p=nan"], "cost.p"),
]


@pytest.mark.parametrize("args, words", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_is_one_line_naming_it(files, monkeypatch, args, words):
    monkeypatch.setattr(resources, "available_memory", lambda: 8 << 30)  # any machine: 8 GiB
    before = (files / "ok.h5").read_bytes()
    result = CliRunner().invoke(main, [a.format(d=files) for a in args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    assert words in result.output
    assert (files / "ok.h5").read_bytes() == before
