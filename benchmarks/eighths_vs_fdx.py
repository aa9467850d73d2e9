"""How well the pagination model agrees with the scene lengths Final Draft saved.

For every ``sample-*.fdx`` in the shared screenplays, compares ``page_eighths`` of the parsed
script with each scene's ``SceneProperties Length`` and prints one markdown table row per
file, then the totals (exact and within one eighth).

Run: ``.venv/bin/python benchmarks/eighths_vs_fdx.py``
"""

from __future__ import annotations

import platform
from pathlib import Path

from soundstage.script.eighths import format_eighths, page_eighths
from soundstage.script.fdx import parse_fdx

SCREENPLAYS = Path(__file__).resolve().parents[1] / ".." / "shared" / "screenplays"


def main() -> None:
    """Print the comparison table and the totals."""
    print(f"machine: {platform.platform()}, Python {platform.python_version()}")
    print()
    print("| file | scenes | exact | within 1/8 | saved | model |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    total = exact = close = 0
    for path in sorted(SCREENPLAYS.glob("sample-*.fdx")):
        script = parse_fdx(path.read_bytes(), str(path))
        pairs = [
            (scene.saved_eighths, model)
            for scene, model in zip(script.scenes, page_eighths(script), strict=True)
            if scene.saved_eighths is not None
        ]
        file_exact = sum(saved == model for saved, model in pairs)
        file_close = sum(abs(saved - model) <= 1 for saved, model in pairs)
        saved_text = ", ".join(format_eighths(saved) for saved, _ in pairs)
        model_text = ", ".join(format_eighths(model) for _, model in pairs)
        print(f"| {path.name} | {len(pairs)} | {file_exact} | {file_close} | {saved_text} | {model_text} |")
        total, exact, close = total + len(pairs), exact + file_exact, close + file_close
    print()
    print(f"matched {exact} of {total} scenes exactly; {close} of {total} within ±1 eighth")


if __name__ == "__main__":
    main()
