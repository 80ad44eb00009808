"""Allow `python -m generator` (the same process end as the installed command: cli.run)."""

from generator.cli import run

run()
