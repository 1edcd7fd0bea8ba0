"""The readable discogram report: HTML, PDF and plain text of the same content.

Entry point: `plugin.report.render.render_report`. Imported from there, not from here, so
that importing `plugin.report.rendered` does not load Jinja2 and reportlab.
"""

__all__: list[str] = []
