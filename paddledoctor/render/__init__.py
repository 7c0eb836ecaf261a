"""Renderers: a Report to terminal text (terminal.py) or JSON (Report.to_json)."""
