"""The composition root: settings, CLI, REST API and process roles."""
