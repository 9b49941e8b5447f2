"""Standard MATPOWER cases shipped as package data (see README.md beside this file)."""
