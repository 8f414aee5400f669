"""The operator's commands, run against STORE_URL's store: check, rebuild, export."""
