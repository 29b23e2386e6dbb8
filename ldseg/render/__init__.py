"""Rendering: the plan, drift and smoke-test documents in text, Markdown and JSON (``table``), the
apply report (``report``), and their shared pieces (``common``)."""
