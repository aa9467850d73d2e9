"""Planning: coverage rules turn scenes into a shot list with timings."""
