"""Self-contained HTML reports: templates, charts and the data each report shows."""
