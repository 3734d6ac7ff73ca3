"""Reading a content set: YAML with positions, schemas, validation, scaffolding, fingerprints."""
