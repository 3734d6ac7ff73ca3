"""The bottom layer: the model, error codes, errors, files and the code view. Imports nothing of ours."""
