"""Typed, validated run configuration <-> TOML.

A config is a tree of frozen dataclasses, one section per module. Every field says what it accepts in
its metadata (``choices`` or a numeric range), so one validator gives every bad value the same kind of
one-line error: the dotted key, the value and what is allowed. Defaults follow SCIENCE.md's
Kashtan & Alon (2005) logic-gate card; the unverified ones are named in ``UNVERIFIED_DEFAULTS``.
"""
from __future__ import annotations

import dataclasses
import math
import stat
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w


class ConfigError(ValueError):
    """A bad config value, key or file; the message is one line meant for the user."""


def _choice(default: str, *choices: str, doc: str = "") -> Any:
    return field(default=default, metadata={"choices": choices, "doc": doc})


def _num(default: Any, low: float | None = None, high: float | None = None, doc: str = "") -> Any:
    return field(default=default, metadata={"low": low, "high": high, "doc": doc})


@dataclass(frozen=True)
class RunSection:
    seed: int = _num(0, 0, 2**63 - 1, "the run's seed: with the config it fixes the whole history")
    generations: int = _num(20000, 1, 10**8, "generations after the initial population (rows "
                                              "0..N)")
    population: int = _num(1000, 4, 65535, "individuals (K&A; some replications use 5000)")
    engine: str = _choice("numba", "numba", "numpy", "deap", "cupy",
                          doc="numba kernels, the NumPy reference, DEAP's operators, or the "
                              "batched array engine on a CUDA GPU (CuPy; evosim sweep batches "
                              "its runs)")
    mode: str = _choice("evolution", "evolution", "gradient",
                        doc="evolution, or networks trained by gradient descent ([gradient])")


@dataclass(frozen=True)
class TaskSection:
    name: str = _choice("logic-gates", "logic-gates", "retina", "digit-pairs",
                        doc="what is evolved or trained (digit-pairs: gradient mode only)")
    n_inputs: int = _num(4, 2, 10, "logic-gates: circuit inputs (4: x, y, z, w)")
    max_gates: int = _num(12, 2, 200, "logic-gates: NAND gates per circuit (K&A)")
    output: str = _choice("evolved", "evolved", "last-gate",
                          doc="logic-gates: what drives the output, an evolved address gene "
                              "(Kashtan et al. 2007 SI) or the last gate")
    feedback: bool = _num(False, doc="logic-gates: recurrent circuits, a gate may read any gate "
                                     "(run as a clocked circuit: all gates from 0, updated "
                                     "together task.steps times, the output read at the last)")
    steps: int = _num(0, 0, 10000, "logic-gates with feedback: synchronous updates (0: "
                                   "max_gates, after which every feed-forward circuit has settled)")
    activation: str = _choice("threshold", "threshold", "tanh",
                              doc="retina: threshold (K&A) or tanh(20 x) (Clune et al.)")
    init_density: float = _num(0.5, 0.0, 1.0, "retina: fraction of connections present at start")
    zero_output: str = _choice("no", "no", "wrong",
                               doc="retina: an output of exactly 0 means no, or is wrong for "
                                   "either answer (Clune lab code, for tanh)")


@dataclass(frozen=True)
class ScheduleSection:
    kind: str = _choice("fixed", "fixed", "mvg", "rmvg", "random", "rvg-c", "rvg-v", "vg0",
                        doc="fixed goal, modularly varying, random modularly varying, random "
                            "control; Kashtan, Noor & Alon 2007's controls, alternating the goal "
                            "with one random goal (rvg-c), a new random goal each time (rvg-v), "
                            "or no selection (vg0)")
    goal: str = _num("G1", doc="the goal of a fixed schedule, and the goal rvg-c, rvg-v and vg0 "
                               "alternate with")
    goals: tuple[str, ...] = _num(("G1", "G2"), doc="the goals an MVG schedule alternates between")
    period: int = _num(20, 1, None, "generations between goal switches (K&A: E = 20)")


@dataclass(frozen=True)
class SelectionSection:
    scheme: str = _choice("elitist", "elitist", "tournament", "nsga2",
                          doc="elitist: K&A truncation; tournament: k-tournaments fill the "
                              "non-elite; nsga2: performance and connection cost as objectives")
    elite_fraction: float = _num(0.3, 0.0, 0.5, "top fraction passed on unchanged (K&A)")
    tournament_size: int = _num(2, 1, 65535, "tournament size for scheme = tournament (at most "
                                             "the population)")
    unique: bool = _num(False, doc="nsga2: duplicate genomes only survive when nothing else is "
                                   "left to fill the population")
    diversity: bool = _num(False, doc="nsga2 on the retina: behavioural diversity as a third "
                                      "objective (Clune lab code): the mean normalised Hamming "
                                      "distance of a network's 256 answers to the others'")
    operator: str = _num("", doc="a deap.tools selection operator (e.g. deap.tools.selTournament) "
                                 "filling the non-elite; its keyword arguments go in this section "
                                 "too. Runs on the DEAP engine")
    operator_args: tuple = field(default=(), metadata={"internal": True})


@dataclass(frozen=True)
class VariationSection:
    mutation_rate: float = _num(0.3, 0.0, 1.0, "logic-gates: probability per genome of rewiring "
                                                "one gene")
    crossover_rate: float = _num(0.5, 0.0, 1.0, "probability per pair of one-point crossover")
    position_mutation_rate: float = _num(0.3, 0.0, 1.0, "logic-gates with cost.layout = evolved: "
                                                         "probability per genome of moving one "
                                                         "gate along x or y")
    add_connection_rate: float = _num(0.2, 0.0, 1.0, "retina: probability per genome of adding "
                                                     "a connection")
    delete_connection_rate: float = _num(0.2, 0.0, 1.0, "retina: probability per genome of "
                                                        "deleting a connection")
    weight_mutation_scale: float = _num(2.0, 0.0, None, "retina: each weight steps with "
                                                        "probability scale / #connections")
    bias_mutation_rate: float = _num(1 / 24, 0.0, 1.0, "retina: probability per bias of a step")
    value_mutation: str = _choice("step", "step", "sferes",
                                  doc="retina: how a weight or bias changes: a step to a "
                                      "neighbouring value, or as sferes does in Clune lab code "
                                      "(a weight steps clamped at -2 and 2, a bias is redrawn "
                                      "from -2..2, possibly to the same value)")


@dataclass(frozen=True)
class CostSection:
    kind: str = _choice("none", "none", "count", "length",
                        doc="connection cost: number of connections, or sum of squared lengths")
    weight: float = _num(0.0, 0.0, None, "penalty: selection sees performance - weight * cost "
                                         "(elitist and tournament schemes)")
    p: float = _num(0.25, 0.0, 1.0, "nsga2: probability that cost counts in a comparison "
                                     "(Clune et al. 2013: 0.25; used to 1/256)")
    coins: str = _choice("per-pair", "per-pair", "per-check",
                         doc="nsga2: one coin per pair of individuals a generation and mates "
                             "by front, then crowding; or a fresh coin at every dominance check "
                             "of fronts peeled round by round, and mates by the same stochastic "
                             "dominance, then crowding (Clune lab code's pnsga)")
    layout: str = _choice("line", "line", "grid", "evolved", "layered", "optimal",
                          doc="node positions for kind = length: logic-gates: addresses on a line "
                              "or a grid, or gate positions that evolve with the genome (in the "
                              "grid's box); retina: layered, or optimal (hidden neurons at the x "
                              "positions that minimise each network's summed squared length, "
                              "as Clune lab code's compute_optimal_length)")


@dataclass(frozen=True)
class GradientSection:
    hidden: tuple[int, ...] = _num((8, 4), 1, 4096, doc="hidden layer sizes (retina: 8, 4, 2; digit-pairs: "
                                               "64, 32, 2)")
    activation: str = _choice("tanh", "tanh", "relu", "sigmoid", doc="hidden units")
    optimizer: str = _choice("adam", "adam", "sgd", doc="Adam (Kingma & Ba) or SGD")
    learning_rate: float = _num(0.01, 0.0, None, "step size")
    momentum: float = _num(0.0, 0.0, 1.0, "sgd: momentum")
    loss: str = _choice("bce", "bce", "mse", doc="binary cross-entropy (truth tables) or mean "
                                                  "squared error (digit pairs)")
    batch_size: int = _num(32, 0, None, "samples per update (0: the whole set)")
    l1: float = _num(0.0, 0.0, None, "L1 penalty on the weights")
    l2: float = _num(0.0, 0.0, None, "L2 penalty on the weights")
    dropout: float = _num(0.0, 0.0, 0.95, "fraction of hidden units dropped in training")
    prune_fraction: float = _num(0.0, 0.0, 1.0, "magnitude pruning: fraction of the remaining "
                                                 "weights removed each time")
    prune_every: int = _num(0, 0, None, "prune every this many epochs (0: never)")
    distance_cost: float = _num(0.0, 0.0, None, "penalty on |w| times the distance between units "
                                                 "(layered positions)")
    input_noise: float = _num(0.0, 0.0, None, "std of Gaussian noise added to inputs, fresh at "
                                               "every evaluation")
    label_noise: float = _num(0.0, 0.0, None, "std of Gaussian noise added to targets")
    test_fraction: float = _num(0.2, 0.0, 0.9, "digit-pairs: share of images held out for test")
    n_pairs: int = _num(5000, 10, 10**7, "digit-pairs: training pairs")
    mnist_images: str = _num("", doc="digit-pairs: an MNIST IDX image file instead of "
                                     "scikit-learn's 8x8 digits")
    mnist_labels: str = _num("", doc="digit-pairs: the matching IDX label file")
    activation_every: int = _num(0, 0, None, "record the activation-change metric every this "
                                              "many epochs (and at the end; 0: only at the end)")
    weight_threshold: float = _num(0.0, 0.0, None, "|w| at or below this is no edge in the "
                                                    "weight graph whose Q is recorded")
    array_backend: str = _choice("numpy", "numpy", "cupy",
                                 doc="train with NumPy, or with CuPy on a GPU (extra gpu)")
    model: str = _choice("mlp", "mlp", "nand-circuit", "retina-network",
                         doc="a multilayer perceptron; or the task's own network trained as its "
                             "genome: (logic-gates) a NAND circuit of task.max_gates gates whose "
                             "wiring is learnt, (retina) the 8-8-4-2-1 network with weights "
                             "rounded to -2..2 (evosim.gradient.genome_training)")
    temperature: float = _num(1.0, 1e-3, 100.0, "nand-circuit, retina-network: temperature of "
                                                 "the relaxation (wiring softmax; tanh(sum / T)) "
                                                 "at the start")
    temperature_end: float = _num(0.0, 0.0, 100.0, "nand-circuit, retina-network: temperature at "
                                                    "the last epoch, annealed geometrically (0: "
                                                    "no annealing)")


@dataclass(frozen=True)
class ModularitySection:
    every: int = _num(1, 0, None, "record exact max Q of the best every this many generations, at "
                                  "epoch ends (0: never; /epochs always has it)")
    directed: bool = _num(False, doc="Leicht-Newman directed Q instead of undirected Newman Q")
    exact_limit: int = _num(24, 1, 64, "largest graph solved exactly; above it a heuristic, recorded")
    qm_epochs: int = _num(10, 0, None, "compute Qm (and z) every this many goal epochs and in "
                                       "the epoch before each where its goal differs (both goals "
                                       "of an alternation alike), of the epoch's solving network "
                                       "(/epochs) and of the best at its end (/history), and at "
                                       "the run's end (0: never)")
    qm_samples: int = _num(20, 2, 1000, "random networks of the null model for Q_rand and its sd")
    qmax_restarts: int = _num(4, 1, 100, "annealing restarts for Q_max")
    qmax_sweeps: int = _num(300, 1, 100_000, "annealing moves for Q_max per restart, per vertex "
                                             "and edge (or weight)")


@dataclass(frozen=True)
class OutputSection:
    snapshot_every: int = _num(100, 1, None, "store the best genome every this many generations "
                                             "(at epoch ends), and at the first and last")
    flush_every: int = _num(500, 1, None, "write buffered rows and a checkpoint this often")


@dataclass(frozen=True)
class Config:
    run: RunSection = field(default_factory=RunSection)
    task: TaskSection = field(default_factory=TaskSection)
    schedule: ScheduleSection = field(default_factory=ScheduleSection)
    selection: SelectionSection = field(default_factory=SelectionSection)
    variation: VariationSection = field(default_factory=VariationSection)
    cost: CostSection = field(default_factory=CostSection)
    gradient: GradientSection = field(default_factory=GradientSection)
    modularity: ModularitySection = field(default_factory=ModularitySection)
    output: OutputSection = field(default_factory=OutputSection)

    def replace(self, **overrides: Any) -> "Config":
        """A copy with dotted-key overrides applied, e.g. ``replace(**{"run.seed": 3})``.

        When the task or the mode changes, values that were only defaults (the card's, or the old
        task's or mode's) give way to the new task's and mode's defaults; values set on purpose
        stay."""
        data = _merge(to_dict(self), _nest(overrides))
        old = _defaults_for(self.task.name, self.run.mode)
        name = overrides.get("task.name", self.task.name)
        mode = overrides.get("run.mode")
        if mode is None:
            mode = self.run.mode
            if name != self.task.name and self.run.mode == old.get("run.mode", "evolution"):
                mode = _defaults_for(name, "evolution").get("run.mode", "evolution")
        if (name, mode) != (self.task.name, self.run.mode):
            current = _flat(to_dict(self))
            generic = _flat(to_dict(Config()))
            for key in set(old) | set(_defaults_for(name, mode)):
                if key not in overrides and current[key] in (generic[key], old.get(key)):
                    del data[key.split(".")[0]][key.split(".")[1]]
        return from_dict(data)

    def to_toml(self) -> str:
        return tomli_w.dumps(to_dict(self))


# Config values that differ from the logic-gate card when the task is another one.
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "logic-gates": {},
    "retina": {"schedule.goal": "and", "schedule.goals": ["and", "or"],
               "variation.crossover_rate": 0.0, "modularity.directed": True,
               "cost.layout": "layered", "gradient.hidden": [8, 4, 2]},
    "digit-pairs": {"run.mode": "gradient", "run.generations": 100, "schedule.goal": "1x+1y",
                    "schedule.goals": ["1x+1y", "1x-1y"], "schedule.period": 10,
                    "gradient.hidden": [64, 32, 2], "gradient.loss": "mse",
                    "gradient.activation": "relu", "gradient.learning_rate": 0.001,
                    "modularity.every": 5, "modularity.qm_epochs": 0},
}

# Gradient mode writes (and shows progress) more often: an epoch costs far more than a generation.
GRADIENT_DEFAULTS = {"output.flush_every": 10, "output.snapshot_every": 10}

UNVERIFIED_DEFAULTS = ("run.population", "task.max_gates", "selection.elite_fraction",
                       "variation.crossover_rate")


# What a run of one task and mode reads: sections that only one mode uses, keys that only some
# tasks use (every other key applies to every run of its section's mode).
SECTION_MODES = {"selection": ("evolution",), "variation": ("evolution",),
                 "cost": ("evolution",), "gradient": ("gradient",)}
_LOGIC, _RETINA, _DIGITS = ("logic-gates",), ("retina",), ("digit-pairs",)
TASK_KEYS = {
    "task.n_inputs": _LOGIC, "task.max_gates": _LOGIC, "task.output": _LOGIC,
    "task.feedback": _LOGIC, "task.steps": _LOGIC,
    "task.activation": _RETINA,
    "task.init_density": _RETINA, "task.zero_output": _RETINA, "variation.mutation_rate": _LOGIC,
    "variation.position_mutation_rate": _LOGIC, "variation.add_connection_rate": _RETINA,
    "variation.delete_connection_rate": _RETINA, "variation.weight_mutation_scale": _RETINA,
    "variation.bias_mutation_rate": _RETINA, "variation.value_mutation": _RETINA,
    "gradient.test_fraction": _DIGITS,
    "gradient.n_pairs": _DIGITS, "gradient.mnist_images": _DIGITS,
    "gradient.mnist_labels": _DIGITS,
}
_EVOLUTION = ("evolution",)
MODE_KEYS = {"run.population": _EVOLUTION, "run.engine": _EVOLUTION, "task.max_gates": _EVOLUTION,
             "task.output": _EVOLUTION, "task.feedback": _EVOLUTION, "task.steps": _EVOLUTION,
             "task.activation": _EVOLUTION, "task.init_density": _EVOLUTION,
             "task.zero_output": _EVOLUTION}


_GENOME_MODELS = ("nand-circuit", "retina-network")
_MLP = ("mlp",)
# Gradient mode: the keys that only some models read;
MODEL_KEYS = {"gradient.temperature": _GENOME_MODELS, "gradient.temperature_end": _GENOME_MODELS,
              **{f"gradient.{key}": _MLP for key in (
                  "hidden", "activation", "batch_size", "l1", "l2", "dropout", "prune_fraction",
                  "prune_every", "distance_cost", "label_noise", "activation_every",
                  "weight_threshold", "array_backend")}}
# and the keys of other sections a genome model reads: what its networks are, and their cost
GENOME_MODEL_KEYS = {"nand-circuit": ("task.max_gates", "task.output", "cost.kind",
                                      "cost.weight", "cost.layout"),
                     "retina-network": ("task.activation", "task.zero_output")}


def applicable(config: Config) -> dict[str, dict[str, Any]]:
    """The sections and keys of ``to_dict(config)`` that a run of its task and mode reads."""
    out = {}
    model = config.gradient.model if config.run.mode == "gradient" else None
    for section, values in to_dict(config).items():
        if config.run.mode not in SECTION_MODES.get(section, (config.run.mode,)) and not (
                section == "cost" and model == "nand-circuit"):
            continue
        out[section] = {
            key: value for key, value in values.items()
            if _reads(config, f"{section}.{key}", model)}
    return out


def _reads(config: Config, key: str, model: str | None) -> bool:
    if config.task.name not in TASK_KEYS.get(key, (config.task.name,)):
        return False
    own = GENOME_MODEL_KEYS.get(model, ())
    if key.startswith("cost."):
        return key in own or config.run.mode == "evolution"
    if key in own:
        return True
    if model is not None and model not in MODEL_KEYS.get(key, (model,)):
        return False
    return config.run.mode in MODE_KEYS.get(key, (config.run.mode,))


def to_dict(config: Config) -> dict[str, dict[str, Any]]:
    out = {f.name: {k: list(v) if isinstance(v, tuple) else v
                    for k, v in dataclasses.asdict(getattr(config, f.name)).items()}
           for f in dataclasses.fields(config)}
    out["selection"].update(out["selection"].pop("operator_args"))  # flat, as the user wrote them
    return out


def from_dict(data: dict[str, Any]) -> Config:
    """Build and validate a Config; any bad key or value raises ConfigError naming it."""
    if not isinstance(data, dict):
        raise ConfigError("config: expected a table of sections")
    for name, values in data.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{name}: expected a [{name}] table of keys, got {values!r}"[:200])
    data = _with_task_defaults(data)
    sections = {f.name: f for f in dataclasses.fields(Config)}
    built = {}
    for name, values in data.items():
        if name not in sections:
            raise ConfigError(f"unknown section '{name}'; allowed: {', '.join(sections)}")
        if not isinstance(values, dict):
            raise ConfigError(f"{name}: expected a table of keys, got {values!r}")
        built[name] = _build_section(name, sections[name].default_factory, values)
    config = Config(**built)
    _check_combinations(config)
    return config


MAX_CONFIG_BYTES = 1 << 20  # a config is a few dozen lines; anything this big is not one


def load(path: str | Path) -> Config:
    """Read and validate a TOML config file (UTF-8, a regular file of at most 1 MiB)."""
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: not a regular file; a config is a TOML file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {info.st_size} bytes; a config file has at most "
                              f"{MAX_CONFIG_BYTES}")
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config file ({err.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start}); TOML files are "
                          "UTF-8") from None
    return _parse(text, str(path))


def loads(text: str) -> Config:
    return _parse(text, "config")


def _parse(text: str, where: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{where}: not valid TOML ({err})") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply to be a config") from None
    return from_dict(data)


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``section.key=value`` from the command line; the value is read as TOML if it can be.

    Returns
    -------
    key : str
        The ``section.key`` part, stripped.
    value : Any
        The value parsed as a TOML value, or the stripped raw string if it is not valid TOML.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or key.count(".") != 1:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. run.seed=3")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def choices(section_cls: type, key: str) -> tuple[str, ...]:
    """The values a choice field allows (empty for other fields)."""
    return {f.name: f for f in dataclasses.fields(section_cls)}[key].metadata.get("choices", ())


def describe(section_cls: type, key: str) -> str:
    """What a field allows, for error messages and ``evosim config show``."""
    f = {f.name: f for f in dataclasses.fields(section_cls)}[key]
    meta = f.metadata
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    low, high = meta.get("low"), meta.get("high")
    kind = _type_name(_field_type(section_cls, key))
    each = " each" if typing.get_origin(_field_type(section_cls, key)) is tuple else ""
    if low is not None and high is not None:
        return f"{kind}{each} in [{low}, {high}]"
    if low is not None:
        return f"{kind}{each} >= {low}"
    return kind


def _build_section(name: str, cls: type, values: dict[str, Any]):
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    clean = {}
    if cls is SelectionSection and values.get("operator"):
        values, clean["operator_args"] = _operator_args(values, fields)
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"unknown key '{name}.{key}'; allowed: {', '.join(fields)}")
        clean[key] = _check_value(name, cls, key, value)
    return cls(**clean)


def _operator_args(values: dict[str, Any], fields) -> tuple[dict[str, Any], tuple]:
    """Split [selection] into its own keys and the named operator's keyword arguments (which
    the DEAP engine checks against the operator: ``deap_engine.check_config``)."""
    own = {k: v for k, v in values.items() if k in fields}
    extra = {k: v for k, v in values.items() if k not in fields}
    for key, value in extra.items():  # sizes beyond any population would take DEAP ages
        if isinstance(value, int) and not isinstance(value, bool) and value > 65535:
            raise ConfigError(f"selection.{key}: {value} is more than any population; allowed: "
                              "at most the population (run.population <= 65535)")
    return own, tuple(sorted(extra.items()))


def _check_value(section: str, cls: type, key: str, value: Any) -> Any:
    where = f"{section}.{key}"
    expected = _field_type(cls, key)
    allowed = describe(cls, key)
    value = _coerce(value, expected)
    if value is None:
        raise ConfigError(f"{where}: wrong type; allowed: {allowed}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {value!r} is not a finite number; allowed: {allowed}")
    meta = {f.name: f for f in dataclasses.fields(cls)}[key].metadata
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{where}: {value!r} is not allowed; allowed: {allowed}")
    low, high = meta.get("low"), meta.get("high")
    for item in value if isinstance(value, tuple) else (value,):
        if (low is not None and item < low) or (high is not None and item > high):
            raise ConfigError(f"{where}: {value!r} is out of range; allowed: {allowed}")
    return value


def _coerce(value: Any, expected: Any) -> Any:
    """Return value as the expected type, or None if it is not one."""
    if expected is bool:
        return value if isinstance(value, bool) else None
    if expected is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return float(value) if ok else None
    if expected is str:
        return value if isinstance(value, str) else None
    if typing.get_origin(expected) is tuple:
        item = typing.get_args(expected)[0]
        if isinstance(value, str) and item is str:
            value = [v.strip() for v in value.split(",") if v.strip()]
        ok = isinstance(value, (list, tuple)) and value and all(
            isinstance(v, item) and not isinstance(v, bool) for v in value)
        return tuple(value) if ok else None
    raise TypeError(f"unsupported config type {expected}")


def _field_type(cls: type, key: str) -> Any:
    return typing.get_type_hints(cls)[key]


def _type_name(t: Any) -> str:
    if typing.get_origin(t) is tuple:
        return f"list of {_type_name(typing.get_args(t)[0])}s"
    if isinstance(t, types.GenericAlias):
        return str(t)
    return {bool: "true/false", int: "integer", float: "number", str: "string"}.get(t, str(t))


def _check_combinations(config: Config) -> None:
    """Checks between the sections' own keys; what a task, an engine or gradient training
    allows is theirs to check (``evosim.validate``)."""
    if config.selection.scheme == "tournament" and \
            config.selection.tournament_size > config.run.population:
        raise ConfigError(f"selection.tournament_size: {config.selection.tournament_size} is more "
                          f"than the population ({config.run.population}); allowed: 1 to "
                          f"{config.run.population}")
    for key, value in config.selection.operator_args:
        if isinstance(value, int) and not isinstance(value, bool) and \
                value > config.run.population:
            raise ConfigError(f"selection.{key}: {value} is more than the population "
                              f"({config.run.population}); a selection operator's sizes are at "
                              "most the population")
    if config.selection.operator and config.selection.scheme == "nsga2":
        raise ConfigError("selection.operator replaces the built-in scheme; it cannot go with "
                          "selection.scheme = nsga2")
    if bool(config.gradient.mnist_images) != bool(config.gradient.mnist_labels):
        raise ConfigError("gradient.mnist_images and gradient.mnist_labels go together")


def _defaults_for(task: str, mode: str) -> dict[str, Any]:
    """The dotted keys a task (and gradient mode) set differently from the logic-gate card."""
    defaults = dict(TASK_DEFAULTS.get(task, {}))
    if defaults.get("run.mode", mode) == "gradient":
        defaults.update(GRADIENT_DEFAULTS)
    return defaults


def _flat(data: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {f"{section}.{key}": value for section, values in data.items()
            for key, value in values.items()}


def _with_task_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """Fill in the values a task changes from the logic-gate card, where the data is silent."""
    task = data.get("task", {})
    name = task.get("name", "logic-gates") if isinstance(task, dict) else None
    if not isinstance(name, str) or name not in TASK_DEFAULTS:
        return data  # the section's own check names the problem
    data = _merge(_nest(TASK_DEFAULTS[name]), data)
    if data.get("run", {}).get("mode") == "gradient":  # epochs cost more than generations
        data = _merge(_nest(GRADIENT_DEFAULTS), data)
    return data


def _nest(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = {}
    for dotted, value in flat.items():
        section, _, key = dotted.partition(".")
        if not key:
            raise ConfigError(f"{dotted!r}: expected section.key")
        nested.setdefault(section, {})[key] = value
    return nested


def _merge(base: dict[str, dict[str, Any]], extra: dict[str, dict[str, Any]]) -> dict:
    merged = {name: dict(values) for name, values in base.items()}
    for name, values in extra.items():
        merged.setdefault(name, {}).update(values)
    return merged
