"""Importers: pure readers from other tools' formats into ClearML frame JSON (see base.py); `FORMATS` names
them. Exporters live in frames.exporters."""
