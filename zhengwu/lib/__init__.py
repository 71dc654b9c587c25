"""Pure helpers without models."""
