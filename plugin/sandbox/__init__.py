"""The sandbox EHR: a SMART authorization server, a FHIR R4 server on SQLite, an EHR page and
synthetic patients, in one FastAPI app that can also host the SMART app.

It is a development and integration-test tool: every patient in it is fictional, and it makes
no attempt at the hardening a production EHR needs (users are not authenticated).
"""

__all__: list[str] = []
