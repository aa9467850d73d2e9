"""Sheets and reports written for the crew."""
