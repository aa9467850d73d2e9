"""Provenance: content credentials (C2PA) on every take image and animatic Soundstage writes out,
and the disclosure report of a cut (what is AI made, by which system, approved by whom)."""
