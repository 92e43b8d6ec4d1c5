"""Tools around leadgov, not part of its domain: the local Prefect supervisor behind ``leadgov ui`` and
the synthetic lead generator of the demo, the benchmarks and the tests."""
