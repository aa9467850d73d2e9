"""Blocking: one USD stage per shot with the set, stand-in characters on their marks and a
camera that frames the shot size (``framing`` decides, ``usd`` writes and reads), readable
stand-ins (``standins``), and blocking in time: ``action`` reads moves and looks off the
page, ``camera_moves`` performs the shot's move, ``animation`` writes them as time samples."""
