"""Whole-process time of CLI commands that do not serve, against the bare import of the
stack they are built on.

``target=bare`` is ``python -c "import litestar, sqlalchemy, pluggy, alembic, attrs"``;
each other target is an ``erp`` command run on a scratch SQLite database with every
installed first-party plugin enabled. Each is run ``--runs`` times after a warm-up run
(the file cache), and the line gives the median wall time, the median CPU time (user +
system of the process and its children, which a busy machine disturbs less than the
wall clock) and both differences to the bare import: the target is a difference of at
most 0.2 s. Prints one line per target:

    cli_startup target=plugins_list runs=10 wall_s=0.71 cpu_s=0.66 wall_over_bare_s=0.12 \
        cpu_over_bare_s=0.10

    python bench/cli_startup.py [--quick] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = [sys.executable, "-c", "import litestar, sqlalchemy, pluggy, alembic, attrs"]
ERP = [sys.executable, "-m", "erp_core"]
TARGETS = {
    "bare": BARE,
    "help": [*ERP, "--help"],
    "plugins_list": [*ERP, "plugins", "list"],
    "roles_list": [*ERP, "roles", "list"],
    "drivers_list": [*ERP, "drivers", "list"],
}


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 runs per target")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'cli.db'}"
        env = {**os.environ, "ERP_DATABASE_URL": database}
        subprocess.run([*ERP, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*ERP, "plugins", "enable", "orders"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        figures = {}
        for name, command in TARGETS.items():
            run_once(command, env)
            samples = [run_once(command, env) for _ in range(runs)]
            figures[name] = (statistics.median(s[0] for s in samples),
                             statistics.median(s[1] for s in samples))
    bare_wall, bare_cpu = figures["bare"]
    for name, (wall, cpu) in figures.items():
        print(f"cli_startup target={name} runs={runs} wall_s={wall:.2f} cpu_s={cpu:.2f} "
              f"wall_over_bare_s={wall - bare_wall:.2f} cpu_over_bare_s={cpu - bare_cpu:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
