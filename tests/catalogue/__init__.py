"""Wrong-answer catalogues: for each lab, plausible wrong implementations that must lose points, and
correct alternatives that must keep them. The round-trip test submits them through real nbgrader."""
