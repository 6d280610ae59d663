"""Use cases. Views, the CLI and the API call these; they own the transaction."""
