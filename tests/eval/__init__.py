"""Evaluation of the `kb` search commands on real pasted text: cases.yaml and the run_eval report."""
