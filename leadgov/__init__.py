"""leadgov: lead-purchase contracts turned into code.

The domain (reading, normalising and validating deliveries) lives in this package as plain
Python over dataframes; `models/` stores it, `tasks/` and `flows/` orchestrate it with Prefect,
and `leadgov.cli` is the analysts' command line.
"""
