"""Figures about a trained classifier's decisions (confusion matrices, misclassified examples)."""
from __future__ import annotations

__all__: list = []
