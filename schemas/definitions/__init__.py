"""Definitions: Mistral workbooks plus Squall hooks, rules and timers."""
