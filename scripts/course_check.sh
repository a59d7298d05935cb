#!/usr/bin/env bash
# A new course's whole life, in a temporary folder outside this repository: `deckcheck init`,
# `make` and `make test` there, a deck added and published, then a build through npx with
# node_modules removed (that step needs the npm registry). Says how long each step took.
# `make course-check` runs it: a few minutes, since the course makes its own .venv with torch.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
deckcheck="${DECKCHECK:-$here/.venv/bin/deckcheck}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
started=$(date +%s)
lap() { echo "course-check: $1 after $(( $(date +%s) - started )) s"; }

$deckcheck init course --requirement "$here"
cd course
make
test -s site/01-example.html && test -s site/01-example.pdf && grep -q 01-example.html site/index.html
lap "init to published"
make test
lap "make test passed"

cat > slides/02-added.md <<'DECK'
---
marp: true
theme: deckcheck
paginate: true
headingDivider: 2
title: An added deck
---

# An added deck

## A sum

```python tags=["show-output"]
import torch

print(torch.ones(3).sum())
```
DECK
make
test -s site/02-added.html && grep -q 02-added.html site/index.html
lap "an added deck checked and published"

rm -rf node_modules
npm_config_cache="$work/npm-cache" .venv/bin/deckcheck build --formats html
test -s site/02-added.html
lap "built through npx without node_modules"
echo "course-check: passed"
