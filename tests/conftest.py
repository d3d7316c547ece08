"""Test-suite settings shared by every test file.

Hypothesis draws its examples at random. In CI (``CI=true``) it draws them from a fixed seed
(``derandomize``), so a run is repeatable: a red CI run can be reproduced exactly, and a change is
never blamed for an example that a previous run happened not to draw. Locally it explores freely.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "explore")
