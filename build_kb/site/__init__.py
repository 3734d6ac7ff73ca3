"""The website: the MkDocs plugin and the pure functions that render entries to Markdown."""
