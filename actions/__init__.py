"""The action catalogue and the executor that runs action requests."""
