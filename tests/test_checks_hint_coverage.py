"""Every wrong answer in the chapter 7-15 check tests is caught, and at least 80 % get a hint that
names the mistake (not the generic "should be X, yours returns Y"). Counted by
``tests/count_check_hints.py``, which runs those test files in a fresh process."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_every_wrong_answer_is_caught_and_most_get_a_specific_hint():
    done = subprocess.run([sys.executable, str(HERE / "count_check_hints.py"), "--min", "80"],
                          capture_output=True, text=True, timeout=600)
    total = [line for line in done.stdout.splitlines() if line.startswith("total")]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    wrong, caught, specific = (int(n) for n in total[0].split()[1:4])
    assert wrong >= 380 and caught == wrong and specific >= 0.8 * wrong
