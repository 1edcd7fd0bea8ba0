"""The discography plugin: candidacy, results capture, interpretation and FHIR reports."""

__all__: list[str] = []
