"""The sandbox's FHIR R4 REST server on SQLite."""

__all__: list[str] = []
