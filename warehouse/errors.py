"""Errors that map onto the `pad` exit codes (CONTRACTS §2)."""
from __future__ import annotations


class BadInput(Exception):
    """Bad input or bad usage: exit 2, one line on stderr naming file / column / line."""


class RunFailure(Exception):
    """A failure during the run that is not the input's fault: exit 1."""
