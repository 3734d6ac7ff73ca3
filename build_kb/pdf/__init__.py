"""The PDF runbook: Typst markup and the template, compiled through the typst package."""
