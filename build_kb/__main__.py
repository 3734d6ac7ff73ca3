"""`python -m build_kb` runs the `kb` command."""

from build_kb.cli import main

main()
