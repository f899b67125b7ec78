"""Provider adapters are found through the `gatewayhub.providers` entry-point group, so each
adapter is its own installable distribution and the core never imports one by name."""

from __future__ import annotations

from importlib.metadata import entry_points

from gatewayhub.errors import ConfigError
from gatewayhub.provider import Provider

GROUP = "gatewayhub.providers"


def provider_types() -> dict[str, type[Provider]]:
    """Installed adapters by type name ("sandbox", "stripe", ...)."""
    found: dict[str, type[Provider]] = {}
    for entry in entry_points(group=GROUP):
        try:
            cls = entry.load()
        except Exception as exc:
            raise ConfigError(
                f"provider plugin {entry.name!r} ({entry.value}) failed to load: {exc}"
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, Provider)):
            raise ConfigError(f"provider plugin {entry.name!r} is not a gatewayhub Provider")
        if entry.name in found and found[entry.name] is not cls:
            raise ConfigError(f"two installed plugins claim provider type {entry.name!r}")
        found[entry.name] = cls
    return found


def provider_type(name: str) -> type[Provider]:
    """The adapter class for `name`, or a `ConfigError` naming what is installed."""
    types = provider_types()
    try:
        return types[name]
    except KeyError:
        installed = ", ".join(sorted(types)) or "none"
        raise ConfigError(
            f"unknown provider type {name!r}; installed: {installed} "
            f"(adapters install as 'gatewayhub-{name}')"
        ) from None
