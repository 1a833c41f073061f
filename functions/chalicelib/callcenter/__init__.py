"""Call-center shell: gathers agent/queue/callback streams, asks the pure domain, appends conditionally,
and drives the gateway through the Calls REST API port."""
