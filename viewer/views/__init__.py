"""Browser pages, one module per area; they read through frames.selectors and write only through
frames.services.

- datasets.py: dataset list, dataset page (version tree), version header actions, Statistics/Metadata/Info tabs
- frames.py:   the version's Frames tab (grid/table, filters, Group by URL, context view, export, frame page)
- system.py:   /healthz

viewer/urls.py refers to the modules (``datasets.home``), not to names re-exported here.
"""
