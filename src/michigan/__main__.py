from __future__ import annotations

from michigan.cli import main

main()
