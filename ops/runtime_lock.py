"""Writes requirements-runtime.lock, what the images install: the pins of requirements.lock
that installing kubeslim without its extras needs, read from pip's installation report
(``pip install --dry-run --ignore-installed --report REPORT -c requirements.lock .``).

    python ops/runtime_lock.py REPORT > requirements-runtime.lock
"""

import json
import sys

HEADER = """\
# What the component images install: requirements.lock without the test and lint tools.
# Regenerate with: make lock
"""


def main(report_path: str) -> None:
    report = json.load(open(report_path))
    pins = sorted(
        f"{item['metadata']['name']}=={item['metadata']['version']}"
        for item in report["install"]
        if item["metadata"]["name"].lower() != "kubeslim"
    )
    sys.stdout.write(HEADER + "".join(f"{pin}\n" for pin in sorted(pins, key=str.lower)))


if __name__ == "__main__":
    main(sys.argv[1])
