"""The shell of vpbx: Chalice blueprints, adapters (stores, mail, blobs) and the CLI."""
