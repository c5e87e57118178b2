"""Synthetic national population of children and the feeds each source system would send."""

from contactpoint.synth.generate import Manifest, generate

__all__ = ["Manifest", "generate"]
