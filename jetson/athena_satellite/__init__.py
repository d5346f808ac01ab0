"""Athena satellite: wake words, VAD, STT and TTS on the device; answers from HA."""
