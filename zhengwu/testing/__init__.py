"""Test support shared by every app: the cast of characters and browser helpers."""
