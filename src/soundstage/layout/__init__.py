"""Blocking: one USD stage per shot with the set, stand-in characters on their marks and a
camera that frames the shot size (``framing`` decides, ``usd`` writes and reads)."""
