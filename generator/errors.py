"""Errors that are not bugs and not the spec's fault; the CLI maps each to its exit code."""


class MissingPrerequisite(Exception):
    """A tool or setting a command needs is missing or wrong (terraform not on PATH, a provider
    mirror that is not one): exit 3, and the message says what to install or set."""
