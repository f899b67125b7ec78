"""Webhooks: signature schemes and the intake of provider webhooks."""
