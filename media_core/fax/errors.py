"""Errors raised by the fax decoder; each names the layer and the offending value."""

from __future__ import annotations


class FaxError(Exception):
    """Base class: malformed input or an illegal protocol step."""


class UdptlError(FaxError):
    """A datagram that is not a valid UDPTL packet (T.38 Annex, §9.1)."""


class IfpError(FaxError):
    """An IFP packet that does not parse (T.38 §7, ASN.1 PER)."""


class IllegalTransition(FaxError):
    """A T.30 event that the current phase does not allow; the state is left unchanged."""
