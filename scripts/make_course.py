"""Write a course of small decks, the kind whose cost is mostly deckcheck's own per-deck work.

Each deck imports torch, makes a little data and trains a tiny MLP for 200 Adam steps
(about 0.1 s of compute once torch is warm), then checks that the loss went down.
Usage: python scripts/make_course.py FOLDER [--decks 30]
"""

from __future__ import annotations

import argparse
from pathlib import Path

DECK = """---
marp: true
title: Small deck {number}
---

# Small deck {number}

```python
import torch
from torch import nn

torch.manual_seed({number})
x = torch.randn(256, 8)
y = (x.sum(dim=1, keepdim=True) > 0).float()
```

---

## Training

```python
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.BCEWithLogitsLoss()
first = None
for step in range(200):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    first = first if first is not None else loss.item()
assert loss.item() < first
```
"""


def write_course(folder: Path, decks: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, decks + 1):
        path = folder / f"deck-{number:02d}.md"
        path.write_text(DECK.format(number=number), "utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--decks", type=int, default=30)
    args = parser.parse_args()
    write_course(args.folder, args.decks)


if __name__ == "__main__":
    main()
