"""The stateless engine: matches events to rules and runs workflow state machines."""
