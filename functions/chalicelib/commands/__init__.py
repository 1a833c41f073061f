"""Subcommands of the ``vpbx`` console command, one module each."""
