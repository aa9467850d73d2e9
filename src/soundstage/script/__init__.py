"""Screenplays: reading Fountain and Final Draft, writing them back, breaking scenes down."""
