"""``evosim sample``: random baselines of the network measures (``evosim.sample``)."""
from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from evosim import config as cfg
from evosim.cli_options import UserError, build_config, config_options
from evosim.io import RunFileError


@click.command()
@click.argument("target")
@config_options
@click.option("--n", "n", type=click.IntRange(1, 10**6), default=200, show_default=True,
              help="Random networks to measure.")
@click.option("--qm/--no-qm", default=True, show_default=True,
              help="Compute Qm and z (a null model per network: about 0.1 s a circuit).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Sample file (default samples/TASK-MODE-seedS-nN.h5); a histogram PNG beside it.")
@click.option("--against", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Run files whose row 0 (a gradient run's untrained network) the histogram marks.")
@click.option("--quiet", is_flag=True, help="No progress.")
def sample(target, n, qm, out, against, quiet, **flags) -> None:
    """The measures of N random networks of TARGET (a task or a config file): random genomes
    (the first are the seed's initial population), or in gradient mode the untrained networks of
    seeds S, S+1, ... Writes /sample/<measure> to HDF5 and a histogram of each measure."""
    from evosim import sample as sampling

    try:
        config = build_config(target, **flags)
        from evosim.validate import validate
        validate(config)
        runs = sampling.run_starts(list(against))
    except (cfg.ConfigError, RunFileError, OSError) as err:
        raise UserError(str(err)) from None
    path = Path(out or f"samples/{config.task.name}-{config.run.mode}-seed{config.run.seed}"
                       f"-n{n}.h5")
    tick = None if quiet else (lambda i: click.echo(f"\r{i}/{n} networks", nl=False, err=True))
    columns, methods = sampling.sample(config, n, qm, tick)
    if not quiet:
        click.echo(err=True)
    sampling.write(path, columns, methods, config, n)
    what = {"n": n, "task": config.task.name, "mode": config.run.mode, "seed": config.run.seed}
    figure = sampling.histogram(columns, what, path.with_suffix(".png"), runs)
    for name in ("q", "qm", "z", "fitness"):
        values = columns[name][np.isfinite(columns[name])]
        if values.size:
            sd = values.std(ddof=1) if values.size > 1 else 0.0
            click.echo(f"{name:<8} mean {values.mean():.3f}  sd {sd:.3f}  (n = {values.size})")
    click.echo(f"wrote {path} and {figure}")
