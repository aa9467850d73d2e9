"""Review: the rules people decide by (workflow.py) and the trail their decisions leave (audit.py);
records.py keeps both in the production's database."""
