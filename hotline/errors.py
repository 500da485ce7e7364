"""The errors hotline raises.

``HotlineError``                base of everything below
  ├── ``ConfigError``           config.toml is missing a key, has a wrong type or an unknown key
  │                             (message: file, key, what was expected)
  ├── ``FlowError``             a flows/*.toml file is malformed or refers to a missing step/prompt
  ├── ``StoreError``            the database is missing, not at the newest schema, cannot be
  │                             opened, or its SQLite file left its path while in use
  ├── ``NotAllowed``            a party tried to act on a thread it is not assigned to (403)
  └── ``Invalid``               a request names an unknown code, order or seller, or its text
                                is empty or too long (400; the message names what)
"""

from __future__ import annotations


class HotlineError(Exception):
    """Base of hotline's own errors."""


class ConfigError(HotlineError):
    """The configuration is invalid; the message names the file, the key and what was expected."""


class FlowError(HotlineError):
    """A flow file is invalid; the message names the file and the step or prompt."""


class StoreError(HotlineError):
    """The database cannot be used; the message names it and the fix (`hotline db upgrade`...)."""


class NotAllowed(HotlineError):
    """The acting party may not do this (e.g. reply to a thread assigned to someone else)."""


class Invalid(HotlineError):
    """A request is malformed or names something unknown; the message says what (a 400)."""
