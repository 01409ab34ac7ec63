from __future__ import annotations

from michigan.cli import main

raise SystemExit(main())
