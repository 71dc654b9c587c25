"""Zhengwu — 统一电子政务平台, a unified e-government platform."""

__version__ = "0.1.0"
