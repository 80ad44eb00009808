"""Guest configuration builders: pure functions from spec values to files, packages and commands."""
