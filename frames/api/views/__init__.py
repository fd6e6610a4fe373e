"""REST API views: thin; they parse the request, call a selector or service with the acting user, and shape
the response. One module per area: datasets (and members), versions, frames (and contexts), jobs."""
