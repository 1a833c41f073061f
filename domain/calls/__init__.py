"""A call: its events, its state (a fold of them) and the status machine."""
