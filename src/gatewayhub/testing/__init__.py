"""gatewayhub's test kit: the adapter contract suite, a scriptable fake provider, verbatim
fixture helpers and a fixed clock. Import the suite from `gatewayhub.testing.contract`
(it needs pytest)."""

from gatewayhub.testing.clock import FixedClock
from gatewayhub.testing.fake import FakeProvider, FakeSettings, charge_then
from gatewayhub.testing.fixtures import Fixtures

__all__ = ["FakeProvider", "FakeSettings", "Fixtures", "FixedClock", "charge_then"]
