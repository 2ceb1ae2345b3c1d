"""Shared by the benchmark drivers in tools/: building hoso, the DuckDB venv, machine facts.

Plain Python 3 standard library; hoso itself never needs it.
"""

import os
import platform
import subprocess
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TOOLS)
DATA = os.path.join(TOOLS, "data")
VENV = os.path.join(TOOLS, ".venv")

PREFIX = ["bench"]


def die(msg):
    print("%s: %s" % (PREFIX[0], msg), file=sys.stderr)
    sys.exit(1)


def log(msg):
    print("%s: %s" % (PREFIX[0], msg), file=sys.stderr, flush=True)


def ensure_hoso(given):
    """The hoso binary: `given`, or a fresh `swift build -c release` in the repository."""
    if given:
        if not os.access(given, os.X_OK):
            die("--hoso %s is not an executable" % given)
        return os.path.abspath(given)
    log("building hoso: swift build -c release (in %s)" % REPO)
    r = subprocess.run(["swift", "build", "-c", "release", "--product", "hoso"], cwd=REPO)
    if r.returncode != 0:
        die("swift build -c release failed (exit %d)" % r.returncode)
    path = os.path.join(REPO, ".build", "release", "hoso")
    if not os.access(path, os.X_OK):
        die("no binary at %s after the build" % path)
    return path


def ensure_duckdb():
    """A Python with the duckdb package: tools/.venv, made and filled on first use."""
    py = os.path.join(VENV, "bin", "python")
    if os.access(py, os.X_OK) and subprocess.run([py, "-c", "import duckdb"],
                                                 stderr=subprocess.DEVNULL).returncode == 0:
        return py
    log("installing duckdb into %s" % os.path.relpath(VENV))
    if not os.access(py, os.X_OK):
        r = subprocess.run([sys.executable, "-m", "venv", VENV])
        if r.returncode != 0:
            die("python3 -m venv failed (on Debian: apt-get install python3-venv)")
    r = subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "duckdb"])
    if r.returncode != 0:
        die("pip install duckdb failed")
    return py


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.lower().startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine():
    return "%d cores (nproc), %s; %s %s" % (os.cpu_count() or 0, cpu_model(), platform.system(),
                                            platform.release())


def git_rev():
    r = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "?"


def du(path):
    """Bytes in the files under `path`."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total
