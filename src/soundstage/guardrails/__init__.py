"""Guardrails: the AI terms of the union agreements and laws that bind a production, as rule
packs (data), the records they ask for (consents, notices, disclosures), and the checks that
gate generating, approving, cutting, exporting and sending a draft to a writer.

Pure: no database, web or CLI. ``model`` holds the records and uses, ``names`` finds people's
names in prompts, ``uses`` works out what a take uses of people, ``rules`` loads and selects
the packs, ``evaluate`` checks uses against them (the rules of each area in ``performers``, ``crew``,
``writers`` and ``releases``; ``consents`` says whether a consent holds, ``items`` what a rule
applies to, ``outcome`` what a check finds), ``report`` writes the compliance report.
"""
