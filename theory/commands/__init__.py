"""Subcommands of ``tts``: each module defines ``NAME``, ``HELP``, ``configure(parser)`` and ``run(args)``."""
