"""gatewayhub's local sandbox provider: an emulator (`server`) and its adapter (`provider`)."""

from gatewayhub_sandbox.provider import SandboxProvider, SandboxSettings
from gatewayhub_sandbox.server import Emulator, EmulatorConfig

__all__ = ["Emulator", "EmulatorConfig", "SandboxProvider", "SandboxSettings"]
