"""Call center domain: agents and presence, queues and strategies, callbacks. Pure folds and decisions."""
