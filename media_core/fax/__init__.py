"""Fax over T.38: UDPTL/IFP/T.30/T.4 decoding (sans-I/O), rendering, and the per-session listener."""
