"""The app's screens and dialogs, one a module."""
