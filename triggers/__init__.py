"""Turns the outside world (webhooks, timers, other Kafka topics) into events on Kafka."""
