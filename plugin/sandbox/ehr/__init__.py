"""The sandbox's EHR pages: the patient list that launches the app, and the chart page that
embeds it."""

__all__: list[str] = []
