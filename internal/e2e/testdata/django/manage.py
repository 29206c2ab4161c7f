#!/usr/bin/env python3
"""Django's command-line utility for the minimal project the e2e test runs."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hooksite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
