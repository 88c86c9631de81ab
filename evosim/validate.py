"""One check of a whole config before a run starts, each layer checking the facts it owns.

``evosim.config`` checks every section's keys and values and the relations between them, and
imports no other part of evosim; what a run's task allows (goals, schedules, layouts), what the
DEAP engine allows (the tasks it runs, its operators' arguments) and what gradient training
needs (its array backend) are checked by those layers, called from here. The command line, the
runner and sweeps call ``validate``: a config that passes it runs.
"""
from __future__ import annotations

from evosim.config import Config


def validate(config: Config) -> Config:
    """``config``, after every layer's check (ConfigError names the key and what is allowed)."""
    from evosim import engine, tasks  # imported here: `evosim --help` stays instant
    from evosim.gradient import trainer

    tasks.check_config(config)
    engine.check_config(config)
    trainer.check_config(config)
    return config
