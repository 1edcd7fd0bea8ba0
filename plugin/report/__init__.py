"""The readable discogram report: HTML, PDF and plain text of the same content."""
