"""The sandbox EHR as a CDS Hooks 2.0 client: it signs its calls, builds the order-select and
order-sign requests for a draft discography order, and shows the cards the service returns."""

__all__: list[str] = []
