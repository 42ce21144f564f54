"""Imported first by every bench script: the project on the path, Django set up (DATABASE_URL
chooses the database, as for manage.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sangkien.settings")

import django

django.setup()
