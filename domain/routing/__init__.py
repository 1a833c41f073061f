"""Routing: plans (data), the action registry and the engine that walks a plan for a call."""
