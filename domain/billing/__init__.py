"""Billing: tariffs as versioned data and rating of a month's CDRs into an invoice (Decimal money)."""
