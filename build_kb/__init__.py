"""Build the knowledge base from YAML entries: validation, codes, rendering, PDF, bundle, CLI."""

__version__ = "0.1.0"
