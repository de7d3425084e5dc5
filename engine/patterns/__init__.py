"""Rule patterns in AWS EventBridge's event-pattern syntax, and a fast matcher.

``RuleMatcher`` compiles any number of patterns into one structure whose cost per
event barely depends on the number of rules; ``matches`` checks one pattern against
one event; ``validate_pattern`` reports an invalid pattern as a ``PatternError``
naming the offending path.
"""

from __future__ import annotations

from engine.patterns._errors import PatternError
from engine.patterns._rules import RuleMatcher, matches, validate_pattern

__all__ = ["PatternError", "RuleMatcher", "matches", "validate_pattern"]
