"""The top layer: build orchestration and the command line."""
