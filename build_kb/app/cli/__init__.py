"""The `kb` command: thin click commands over the library."""

from build_kb.app.cli.main import main

__all__ = ["main"]
