"""Browser pages, one module per area; they read through frames.selectors and write only through
frames.services.

- datasets.py: dataset list, dataset page (version tree), version actions
- versions.py: the version page's header and its Statistics, Metadata and Info tabs
- frames.py:   the version's Frames tab (grid/table, filters, Group by URL) and its JSON (counts, labels)
- context.py:  one context as a film strip, and the frame page
- annotate.py: "Annotate in a new draft" on a published version's frame page (a draft child, then the frame in it)
- navigation.py: where the frame page's keys lead (1 or 10 frames on, in the filter or the context; JSON)
- export.py:   the filtered frames as streamed ClearML JSON
- system.py:   /healthz

viewer/urls.py refers to the modules (``datasets.home``), not to names re-exported here.
"""
