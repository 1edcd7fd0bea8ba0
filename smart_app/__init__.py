"""The SMART on FHIR app: launch, OAuth client, EHR FHIR client, pages."""
