"""Offline search over the knowledge base (whoosh)."""
