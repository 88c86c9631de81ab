"""``python -m evosim`` is the ``evosim`` command."""
from evosim.cli import main

main()
