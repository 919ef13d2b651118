"""Talking to devices: the serial protocol (pure parsing) and, later, targets and transports."""
