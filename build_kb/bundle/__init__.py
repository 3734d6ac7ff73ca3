"""The offline bundle: one reproducible zip of the site, the PDF and the search data."""
