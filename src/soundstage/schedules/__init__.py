"""Stages and schedules: the exact talent-scheduling solver, the CP-SAT production model, and
what people look at (stripboard, day out of days, stage occupancy, bookings as iCalendar).

Pure functions over typed values: nothing here knows the database, the web or the CLI.
"""
