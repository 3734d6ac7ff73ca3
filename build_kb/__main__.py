"""`python -m build_kb` runs the `kb` command."""

from build_kb.app.cli.main import main

main()
