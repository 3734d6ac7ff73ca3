"""Theme overrides for mkdocs-material, shipped in the package as `build_kb.site.theme`.

The kb plugin adds this folder to the theme itself, so a project needs no `custom_dir` for it. MkDocs does not
publish `.py` files from theme folders.
"""
