"""What a job works with: the settings, the store, and the senders it builds when first needed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotline.config.settings import Settings
from hotline.store.database import Store
from hotline.twilio_rest.client import rest_client


@dataclass
class JobContext:
    """The scheduler's resources; ``twilio`` builds hotline's Client at the first SMS."""

    settings: Settings
    store: Store
    twilio_factory: Callable[[], Any] = rest_client
    _twilio: Any = field(default=None, init=False, repr=False)

    def twilio(self) -> Any:
        """twilio's Client (``ConfigError`` naming what is missing from the environment)."""
        if self._twilio is None:
            self._twilio = self.twilio_factory()
        return self._twilio
