"""Many runs of one experiment: a base config x a grid of overrides x seeds, one run file each.

The papers' claims are about distributions over seeds and conditions, so experiments are sweeps of
tens to hundreds of runs. A sweep is just a folder: ``sweep.toml`` (what the sweep is: the base
config, the grid, the seeds, the run names), one HDF5 file per run named after its settings
(``schedule.kind=mvg__seed=3.h5``) and a ``<name>.failed`` note for each run that kept failing. The
folder is the whole state, so the same command run again is idempotent: complete runs are skipped,
interrupted or killed ones resumed (``runner.resume``), missing or failed ones started.

Where the runs happen (in this process, a local process pool, a Dask cluster, SLURM through
dask-jobqueue) is the executor's business only: a worker gets a run's config as TOML text and its
file path, writes the file and returns a small summary. A run's seed alone fixes its history, so
results never depend on the executor or the number of workers. Dask is imported only when asked.
"""
from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import os
import re
import signal
import tempfile
import threading
import time
import tomllib
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from evosim import config as cfg
from evosim.io.lock import remove_if_stale
from evosim.resources import usable_cores
from evosim.validate import validate

MANIFEST = "sweep.toml"
MAX_RUNS = 100_000  # a sweep's runs are expanded and validated up front
DASK_HINT = 'pip install "evosim[dask]"'


class SweepError(ValueError):
    """A sweep that cannot be set up or run (bad seeds, grid, folder, cluster); one line for users."""


# ---------------------------------------------------------------------------------- expansion

@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its name (the file stem), its overrides and its full config as TOML."""

    name: str
    overrides: dict[str, Any]
    config_toml: str

    @property
    def file(self) -> str:
        return f"{self.name}.h5"


@dataclass(frozen=True)
class Sweep:
    base: cfg.Config
    grid: dict[str, list[Any]]
    seeds: list[int]
    runs: list[RunSpec]

    def manifest(self) -> dict[str, Any]:
        """What sweep.toml holds; two sweeps are the same sweep iff their manifests are equal."""
        return {"seeds": self.seeds, "runs": [r.name for r in self.runs], "grid": self.grid,
                "base": cfg.to_dict(self.base)}


def parse_seeds(text: str) -> list[int]:
    """``0-49``, ``1,5,9`` or ``0-9,20`` -> the seeds, in the order given, each once."""
    seeds: list[int] = []
    if not text.strip():
        raise SweepError("--seeds '': no seeds; expected e.g. 0-49, 1,5,9 or 0-9,20")
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise SweepError(f"--seeds {text!r}: expected e.g. 0-49, 1,5,9 or 0-9,20")
        low, high = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if high < low:
            raise SweepError(f"--seeds {text!r}: range {part.strip()} runs backwards")
        if len(seeds) + high - low + 1 > MAX_RUNS:
            raise SweepError(f"--seeds {text!r}: more than {MAX_RUNS} seeds; a sweep has at most "
                             f"{MAX_RUNS} runs")
        seeds.extend(range(low, high + 1))
    seen: set[int] = set()
    for seed in seeds:
        if seed in seen:
            raise SweepError(f"--seeds {text!r}: seed {seed} is given twice")
        seen.add(seed)
    return seeds


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``KEY=V1,V2,...`` items -> {key: values}; each value is read like a ``--set`` value (TOML
    if it parses: ``0.5``, ``true``, ``["G1","XOR"]``; else a string). Commas inside brackets or
    quotes do not split values."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key.count(".") != 1 or not raw.strip():
            raise SweepError(f"--grid {item!r}: expected section.key=V1,V2,..., "
                             "e.g. schedule.kind=fixed,mvg")
        if key == "run.seed":
            raise SweepError("--grid run.seed: give seeds with --seeds, e.g. --seeds 0-9")
        if key in grid:
            raise SweepError(f"--grid {key}: given twice; list all its values in one --grid")
        values = [cfg.parse_assignment(f"{key}={v}")[1] for v in _split_values(raw)]
        if len({_label(v) for v in values}) < len(values):
            raise SweepError(f"--grid {item!r}: a value is repeated")
        grid[key] = values
    return grid


def expand(base: cfg.Config, grid: dict[str, list[Any]], seeds: Sequence[int]) -> Sweep:
    """Every combination of the grid's values (cartesian product, keys in the order given) for
    every seed, each validated now: a bad key or value fails before anything runs."""
    if not seeds:
        raise SweepError("--seeds: no seeds")
    points = int(np.prod([len(v) for v in grid.values()])) if grid else 1
    if points * len(seeds) > MAX_RUNS:
        raise SweepError(f"--grid x --seeds: {points * len(seeds)} runs; a sweep has at most "
                         f"{MAX_RUNS}")
    runs = []
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values))
        for seed in seeds:
            name = "__".join([*(f"{k}={_label(v)}" for k, v in point.items()), f"seed={seed}"])
            overrides = {**point, "run.seed": seed}
            try:
                config = validate(base.replace(**overrides))
            except cfg.ConfigError as err:
                raise cfg.ConfigError(f"sweep run {name}: {err}") from None
            runs.append(RunSpec(name, overrides, config.to_toml()))
    return Sweep(base, {k: list(v) for k, v in grid.items()}, list(seeds), runs)


def _split_values(raw: str) -> list[str]:
    values, depth, quote, current = [], 0, "", ""
    for char in raw:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            values.append(current)
            current = ""
            continue
        current += char
    return [v.strip() for v in [*values, current] if v.strip()]


def _label(value: Any) -> str:
    """A value as it appears in a run's file name: readable, and safe in any file system."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, (list, tuple)):
        text = "+".join(_label(v) for v in value)
    else:
        text = str(value)
    return re.sub(r"[^A-Za-z0-9._+=-]", "-", text)


# ------------------------------------------------------------------------------ folder, status

@dataclass(frozen=True)
class RunState:
    """Where one run of a sweep stands: complete, running (or killed), interrupted, failed or
    pending; ``generation`` is the last one recorded, ``error`` the last line of a failure."""

    name: str
    state: str
    generation: int | None = None
    error: str = ""


def prepare_folder(sweep: Sweep, folder: Path) -> None:
    """Write the manifest, or check that the folder holds this very sweep."""
    path = folder / MANIFEST
    wanted = tomllib.loads(tomli_w.dumps(sweep.manifest()))  # as it reads back
    if path.exists():
        found = read_manifest(folder)
        if found != wanted:
            what = ", ".join(k for k in wanted if found.get(k) != wanted[k]) or "its contents"
            raise SweepError(f"{folder}: holds a different sweep (its {MANIFEST} differs in "
                             f"{what}); use another --out")
        return
    if folder.exists() and not folder.is_dir():
        raise SweepError(f"{folder}: is not a folder")
    if folder.is_dir() and any(folder.glob("*.h5")):
        raise SweepError(f"{folder}: holds run files but no {MANIFEST}; use another --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # a name of this driver's own: two starting at once (on any host) must not share it
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f"{MANIFEST}.", suffix=".new")
        with os.fdopen(fd, "w") as f:
            f.write(tomli_w.dumps(sweep.manifest()))
        os.replace(temporary, path)
    except OSError as err:
        raise SweepError(f"{folder}: cannot write here ({err.strerror or err})") from None
    if read_manifest(folder) != wanted:  # another driver wrote another sweep at the same time
        raise SweepError(f"{folder}: another sweep was started in it at the same time; use "
                         "another --out")


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SweepError(f"{folder}: no {MANIFEST}; not a sweep folder") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise SweepError(f"{path}: cannot read ({err})") from None


def run_state(folder: Path, name: str) -> RunState:
    """A run's state from its file and its lock: a file marked running that no process holds
    was killed (shown as interrupted: the same command resumes it); a damaged one says why."""
    from evosim.io import RunFileError, load
    from evosim.io.lock import holder

    path, failed = folder / f"{name}.h5", folder / f"{name}.failed"
    status, generation, note = "pending", None, ""
    if path.exists():
        try:
            history = load(path)
            status = history.attrs.get("status", "running")
            generation = int(history["generation"][-1]) if len(history) else None
        except RunFileError as err:
            return RunState(name, "damaged", None, str(err))
        writer = holder(path)
        if status == "running" and writer is None:
            status, note = "interrupted", "killed (no process writes it)"
        elif writer is not None:
            status, note = "running", f"by {writer}"
    if status != "complete" and failed.exists():
        lines = failed.read_text().strip().splitlines()
        return RunState(name, "failed", generation, lines[-1] if lines else "")
    return RunState(name, status, generation, note)


def folder_status(folder: str | Path) -> list[RunState]:
    """The state of every run the folder's manifest lists."""
    folder = Path(folder)
    runs = read_manifest(folder).get("runs", [])
    if not isinstance(runs, list) or not all(isinstance(r, str) for r in runs):
        raise SweepError(f"{folder / MANIFEST}: 'runs' is not a list of run names")
    return [run_state(folder, name) for name in runs]


# ------------------------------------------------------------------------------------ workers

def run_one(name: str, config_toml: str, path: str) -> dict[str, Any]:
    """Run (or resume, or skip if complete) one run of a sweep in whatever process executes it;
    return a small summary. Never raises for a failing run: its traceback is in ``error``."""
    def action():
        from evosim import runner
        from evosim.io import RunFileError, load

        target = Path(path)
        try:
            empty = target.exists() and len(load(target)) == 0
        except RunFileError:
            empty = False  # damaged: the run's own error below names it, nothing is replaced
        if target.exists() and not empty:
            return [runner.resume(target)]
        return [runner.run(cfg.loads(config_toml), target)]  # new, or stopped at once

    return _attempt(action, [name])[0]


def run_group(names: list[str], config_tomls: list[str], paths: list[str]) -> list[dict]:
    """New runs of one batch (``evosim.batch``: the batched engine evolves them together); one
    summary per run, as ``run_one`` gives, with ``batch``: how many runs shared the batch's
    ``seconds`` (a batch that fails fails each of its runs; a run another driver holds is left
    to it, 'elsewhere', and the rest run)."""
    def action():
        from evosim import batch
        return batch.run_batch([cfg.loads(t) for t in config_tomls], paths, skip_locked=True)

    summaries = _attempt(action, names)
    held = sum(s["status"] != "elsewhere" for s in summaries)  # the runs that shared the time
    return [summary if summary["status"] == "elsewhere" else {**summary, "batch": held}
            for summary in summaries]


_ELSEWHERE = {"status": "elsewhere", "generations": None,
              "error": "another driver holds its file"}


def _attempt(action: Callable[[], list], names: list[str]) -> list[dict[str, Any]]:
    """The summaries of the runs ``action`` records (its RunResults; None: a run another
    driver holds), or of how it failed."""
    from evosim import runner

    start = time.perf_counter()
    _WORKER.busy = True
    try:
        summaries = [_ELSEWHERE if result is None else
                     {"status": result.status, "generations": result.generation - 1}
                     for result in action()]
    except runner.RunLocked as err:  # another driver runs it: not this one's to run
        summaries = [{**_ELSEWHERE, "error": str(err)}] * len(names)
    except runner.WriteFailed as err:  # a full disk: resumable once there is space
        summaries = [{"status": "interrupted", "generations": None, "error": str(err)}] * len(names)
    except Exception:  # noqa: BLE001 - the run's own failure: reported, retried by the driver
        summaries = [{"status": "error", "generations": None,
                      "error": traceback.format_exc()}] * len(names)
    finally:
        _WORKER.busy = False
    seconds = round(time.perf_counter() - start, 3)
    return [{"name": name, **summary, "seconds": seconds}
            for name, summary in zip(names, summaries)]


class SerialExecutor(cf.Executor):
    """Runs each task in this process when it is submitted: for debugging (pdb, monkeypatching)
    and for one worker, where a process pool would only add start-up time."""

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:  # noqa: BLE001 - handed to the caller, as futures do
            future.set_exception(err)
        return future


@dataclass
class Backend:
    """An executor and how many runs to hand it at once (runs queued beyond that wait here)."""

    executor: cf.Executor
    in_flight: int
    description: str


class _WorkerState:
    """Whether this process is inside a run (a worker never exits in the middle of one)."""

    busy = False


_WORKER = _WorkerState()


def _init_worker() -> None:
    """Pool workers ignore Ctrl-C and SIGTERM while idle (a signal to the process group is the
    driver's to handle); a run in progress catches them and stops cleanly after its block.  A
    worker whose driver died (kill -9) stops its run the same way and exits."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    if _WORKER.busy:
        os.kill(os.getpid(), signal.SIGTERM)  # the run checkpoints and stops
        while _WORKER.busy:
            time.sleep(every)
    os._exit(0)


@contextmanager
def local_backend(workers: int | None = None) -> Iterator[Backend]:
    """A process pool (spawn) of ``workers`` processes (default: one per core this process may
    use, ``resources.usable_cores``); 1: in-process."""
    workers = workers or usable_cores()
    if workers == 1:
        yield Backend(SerialExecutor(), 1, "in this process")
        return
    with cf.ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                mp_context=multiprocessing.get_context("spawn")) as pool:
        # no more runs handed out than workers: none is queued in the pool to start after Ctrl-C
        yield Backend(pool, workers, f"{workers} local processes")


@contextmanager
def dask_backend(address: str, workers: int | None = None) -> Iterator[Backend]:
    """An existing Dask scheduler at ``address``, or ``"local"``: a LocalCluster of ``workers``
    single-threaded processes. evosim must be importable on the workers."""
    distributed = _import_dask("distributed")
    if address == "local":
        n = workers or usable_cores()
        cluster = distributed.LocalCluster(n_workers=n, processes=True, threads_per_worker=1,
                                           dashboard_address=None)
        with cluster, _client(distributed, cluster, f"a Dask LocalCluster of {n} processes") as b:
            yield b
        return
    with _client(distributed, address, f"Dask at {address}") as backend:
        yield backend


SLURM_DEFAULTS = {"jobs": 1, "cores": 1, "walltime": "24:00:00"}


def slurm_options(table: dict[str, Any], flags: dict[str, Any]) -> dict[str, Any]:
    """SLURM settings: the defaults, then the config file's ``[sweep]`` table, then the flags
    given (``None`` means not given). Keys besides jobs/cores/memory/walltime go to
    dask_jobqueue.SLURMCluster as they are (queue, account, job_extra_directives, ...)."""
    return {**SLURM_DEFAULTS, **table, **{k: v for k, v in flags.items() if v is not None}}


@contextmanager
def slurm_backend(options: dict[str, Any]) -> Iterator[Backend]:
    """dask-jobqueue's SLURMCluster: ``jobs`` batch jobs of ``cores`` single-threaded workers."""
    distributed = _import_dask("distributed")
    jobqueue = _import_dask("dask_jobqueue")
    options = dict(options)
    jobs, cores = int(options.pop("jobs")), int(options.pop("cores"))
    try:
        cluster = jobqueue.SLURMCluster(cores=cores, processes=cores, **options)
    except (TypeError, ValueError) as err:
        raise SweepError(f"--slurm: {err}") from None
    with cluster, _client(distributed, cluster, f"SLURM: {jobs} jobs x {cores} cores") as b:
        cluster.scale(jobs=jobs)
        yield b


@contextmanager
def _client(distributed, target, description: str) -> Iterator[Backend]:
    try:
        client = distributed.Client(target, timeout="20s")
    except (OSError, TimeoutError) as err:
        raise SweepError(f"cannot connect to the Dask scheduler {target} ({err})") from None
    with client:
        # pure=False: a retried run must be a new task, not the failed one again
        yield Backend(client.get_executor(pure=False), 1 << 30, description)


def _import_dask(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise SweepError(f"this needs dask ({module} is not installed): {DASK_HINT}") from None


# ------------------------------------------------------------------------------------- driver

def run_sweep(sweep: Sweep, folder: str | Path, backend: Backend, *, retries: int = 2,
              on_result: Callable[[dict[str, Any]], None] | None = None,
              batch: int | None = None) -> list[dict[str, Any]]:
    """Bring every run of the sweep to completion in ``folder``; return one summary per run.

    A run that fails is retried up to ``retries`` times, then written up in ``<name>.failed``
    with status ``failed``; the other runs go on. Ctrl-C or SIGTERM: no new runs start, the ones
    in progress checkpoint and stop (status ``interrupted``); the same call again continues.

    Runs on the cupy engine that have not started and can share a batch (seeds, schedules and
    rates apart, equal configs) are handed out together, at most ``batch`` at once (None: all),
    and evolve as one population; a run already begun resumes alone."""
    folder = Path(folder)
    prepare_folder(sweep, folder)
    summaries, queue = [], deque()
    for spec in sweep.runs:
        state = run_state(folder, spec.name)
        if state.state == "complete":
            remove_if_stale(folder / spec.file)
            summaries.append({"name": spec.name, "status": "complete", "skipped": True,
                              "generations": state.generation, "seconds": 0.0})
            if on_result:
                on_result(summaries[-1])
        else:
            (folder / f"{spec.name}.failed").unlink(missing_ok=True)
            queue.append(spec)
    attempts = {spec.name: 0 for spec in queue}
    signatures = _batch_signatures(queue)
    running: dict[cf.Future, list[RunSpec]] = {}
    stopping = False
    with _sigterm_as_interrupt():
        while queue or running:
            while queue and not stopping and len(running) < backend.in_flight:
                group = _take_group(queue, signatures, folder, batch)
                for spec in group:
                    attempts[spec.name] += 1
                paths = [str(folder / spec.file) for spec in group]
                running[backend.executor.submit(
                    run_group, [s.name for s in group], [s.config_toml for s in group], paths)
                    if len(group) > 1 else
                    backend.executor.submit(run_one, group[0].name, group[0].config_toml,
                                            paths[0])] = group
            if not running:
                break
            try:
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            except KeyboardInterrupt:
                if stopping:
                    raise
                stopping = True  # runs not started stay pending; started ones checkpoint
                for future in [f for f in running if f.cancel()]:
                    del running[future]
                continue
            for future, spec, summary in _finished(done, running, stopping):
                if summary["status"] == "error":
                    if attempts[spec.name] <= retries and not stopping:
                        queue.append(spec)
                        continue
                    try:
                        (folder / f"{spec.name}.failed").write_text(
                            f"failed {attempts[spec.name]} times; last error:\n"
                            f"{summary['error']}")
                    except OSError:  # a full disk: the summary still says it failed
                        pass
                    summary["status"] = "failed"
                stopping = stopping or summary["status"] == "interrupted"
                summaries.append(summary)
                if on_result:
                    on_result(summary)
    order = {spec.name: i for i, spec in enumerate(sweep.runs)}
    return sorted(summaries, key=lambda s: order[s["name"]])


def _finished(done, running: dict[cf.Future, list[RunSpec]], stopping: bool):
    """(future, spec, summary) of every run of the finished tasks, taken out of ``running``."""
    for future in done:
        group = running.pop(future)
        for spec, summary in zip(group, _summaries(future, group, stopping)):
            yield future, spec, summary


def _summaries(future: cf.Future, group: list[RunSpec], stopping: bool) -> list[dict[str, Any]]:
    """The worker's summaries, or failures if the task itself died (a worker lost, a pickling
    error): an attempt that failed, or an interruption if the sweep is being stopped."""
    try:
        result = future.result()
        return [result] if isinstance(result, dict) else result
    except Exception as err:  # noqa: BLE001 - anything the executor raises
        return [{"name": spec.name, "status": "interrupted" if stopping else "error",
                 "generations": None, "seconds": 0.0, "error": f"{type(err).__name__}: {err}"}
                for spec in group]


def _batch_signatures(specs) -> dict[str, str | None]:
    """Each run's batch signature (``engine.batched``), or None for a run that runs alone (not
    evolving on the cupy engine)."""
    from evosim.engine import batched

    signatures = {}
    for spec in specs:
        config = cfg.loads(spec.config_toml)
        signatures[spec.name] = (batched.batch_signature(config)
                                 if batched.on_gpu(config) else None)
    return signatures


def _take_group(queue: deque, signatures: dict[str, str | None], folder: Path,
                batch: int | None) -> list[RunSpec]:
    """The next run off the queue, with the queued runs that can share its batch: not begun
    (no file yet), the same signature, at most ``batch`` in all."""
    first = queue.popleft()
    signature = signatures[first.name]
    if signature is None or (folder / first.file).exists() or batch == 1:
        return [first]
    group = [first]
    for spec in list(queue):
        if batch is not None and len(group) >= batch:
            break
        if signatures[spec.name] == signature and not (folder / spec.file).exists():
            queue.remove(spec)
            group.append(spec)
    return group


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A SIGTERM (a cluster's or a user's kill) stops the driver the way Ctrl-C does."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
