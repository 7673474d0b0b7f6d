"""Where lockstep's resident memory goes (issue 17): the real app under the pty, as B5
runs it (warm data directory, 120×40, the simulated market at a steady rate), with a
probe that reports from inside the process.

``python -m bench.memprobe [--rate 1000] [--warmup 20] [--trace] [--runs 1]``

The probe is a ``sitecustomize`` module put first on the child's ``PYTHONPATH`` (the
app itself is not changed): a daemon thread that, when the harness creates a trigger
file, writes one JSON report: RSS and ``/proc/self/smaps_rollup`` (anonymous against
file-backed pages), the interpreter's own view (``sys.getallocatedblocks``, live objects
by type, modules loaded), and with ``--trace`` a :mod:`tracemalloc` breakdown by file
(tracing from interpreter start costs memory and time itself: its run's RSS is not the
figure to quote, its shares are).

A development tool, not a benchmark row: nothing here is written to RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil

from bench.common import ROOT

PROBE = textwrap.dedent(
    '''
    """Memory probe for bench.memprobe (a sitecustomize: imported at interpreter start)."""
    import os
    import sys
    import threading
    import time

    _DIR = os.environ.get("LOCKSTEP_MEMPROBE_DIR", "")
    _ROOT = os.environ.get("LOCKSTEP_MEMPROBE_ROOT", "/")
    if os.environ.get("LOCKSTEP_MEMPROBE_TRACE") == "1":
        import tracemalloc

        tracemalloc.start(int(os.environ.get("LOCKSTEP_MEMPROBE_FRAMES", "1")))

    _IMPORTERS = {}

    class _WhoImports:
        """A meta-path finder that finds nothing: it notes which module imported each
        module first (the first frame outside importlib), for ``--why``."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            if name not in _IMPORTERS:
                frame = sys._getframe(1)
                while frame is not None and frame.f_code.co_filename.startswith(
                    ("<frozen importlib", "<frozen zipimport")
                ):
                    frame = frame.f_back
                who = frame.f_globals.get("__name__", "?") if frame is not None else "?"
                _IMPORTERS[name] = f"{who}:{frame.f_lineno if frame is not None else 0}"
            return None

    if os.environ.get("LOCKSTEP_MEMPROBE_WHY") == "1":
        sys.meta_path.insert(0, _WhoImports)

    def _rollup():
        out = {}
        try:
            with open("/proc/self/smaps_rollup") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3 and parts[2] == "kB":
                        out[parts[0].rstrip(":")] = int(parts[1])
        except OSError:
            pass
        return out

    def _maps():
        """Resident kB by mapping: files by name, anonymous ones by size class."""
        out = {}
        name, size = "", 0
        try:
            with open("/proc/self/smaps") as f:
                for line in f:
                    parts = line.split()
                    if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                        lo, hi = (int(x, 16) for x in parts[0].split("-"))
                        size = (hi - lo) // 1024
                        name = parts[5] if len(parts) > 5 else ""
                        if not name:
                            name = "anon>=32MB" if size >= 32768 else (
                                "anon>=1MB" if size >= 1024 else "anon<1MB")
                        name = name.split("/")[-1]
                    elif parts[0] == "Rss:":
                        out[name] = out.get(name, 0) + int(parts[1])
        except OSError:
            pass
        return sorted(out.items(), key=lambda kv: -kv[1])[:25]

    def _report():
        import gc
        import json

        rep = {"rollup": _rollup(), "maps": _maps(), "blocks": sys.getallocatedblocks(),
               "modules": len(sys.modules), "threads": threading.active_count(),
               "lockstep_modules": sorted(
                   m for m in sys.modules if m.split(".")[0] in ("feeds", "tui", "widgets")
               )}
        try:
            import tempfile as _tf

            with _tf.TemporaryFile(mode="w+") as f:
                saved = os.dup(2)
                os.dup2(f.fileno(), 2)
                try:
                    sys._debugmallocstats()
                finally:
                    os.dup2(saved, 2)
                    os.close(saved)
                f.seek(0)
                rep["pymalloc"] = [
                    " ".join(line.split()) for line in f.read().splitlines()
                    if "=" in line and ("arena" in line or "blocks" in line
                                        or "pools" in line or "quantization" in line)
                ]
        except Exception as exc:
            rep["pymalloc_error"] = repr(exc)
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")

            class _Info(ctypes.Structure):
                _fields_ = [(n, ctypes.c_size_t) for n in (
                    "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                    "fsmblks", "uordblks", "fordblks", "keepcost")]

            try:
                lib = ctypes.CDLL("libsqlite3.so.0")
                lib.sqlite3_memory_used.restype = ctypes.c_int64
                lib.sqlite3_memory_highwater.restype = ctypes.c_int64
                rep["sqlite"] = [lib.sqlite3_memory_used(), lib.sqlite3_memory_highwater(0)]
            except OSError:
                pass
            libc.mallinfo2.restype = _Info
            mi = libc.mallinfo2()
            rep["mallinfo"] = {n: getattr(mi, n) for n, _ in _Info._fields_}
            if os.environ.get("LOCKSTEP_MEMPROBE_TRIM") == "1":
                libc.malloc_trim(0)
                rep["rollup_after_trim"] = _rollup()
        except Exception as exc:
            rep["mallinfo_error"] = repr(exc)
        counts = {}
        for o in gc.get_objects():
            n = type(o).__name__
            counts[n] = counts.get(n, 0) + 1
        rep["types"] = sorted(counts.items(), key=lambda kv: -kv[1])[:25]
        widget = sys.modules.get("textual.widget")
        if widget is not None:
            kinds = {}
            for o in gc.get_objects():
                if isinstance(o, widget.Widget):
                    n = type(o).__name__
                    kinds[n] = kinds.get(n, 0) + 1
            rep["widgets"] = sorted(kinds.items(), key=lambda kv: -kv[1])[:30]
            rep["widget_total"] = sum(kinds.values())
        if _IMPORTERS:
            rep["importers"] = dict(_IMPORTERS)
        prefixes = {}
        for name in list(sys.modules):
            top = name.split(".")[0]
            prefixes[top] = prefixes.get(top, 0) + 1
        rep["all_modules"] = sorted(sys.modules)
        rep["module_tops"] = sorted(prefixes.items(), key=lambda kv: -kv[1])[:40]
        try:
            import tracemalloc

            if tracemalloc.is_tracing():
                snap = tracemalloc.take_snapshot()
                rep["traced"] = tracemalloc.get_traced_memory()
                by_file = snap.statistics("filename")
                rep["files"] = [
                    (s.traceback[0].filename, s.size, s.count) for s in by_file[:60]
                ]
                pkgs = {}
                for s in by_file:
                    f = s.traceback[0].filename
                    key = f
                    for mark in ("site-packages/", "/lib/python3"):
                        if mark in f:
                            rest = f.split(mark, 1)[1]
                            key = rest.split("/")[0] if mark == "site-packages/" else (
                                "stdlib:" + (rest.split("/")[1] if "/" in rest else rest))
                            break
                    else:
                        if "/wt-" in f or "/work/" in f:
                            key = "lockstep:" + "/".join(f.split("/")[-2:-1])
                    pkgs[key] = pkgs.get(key, 0) + s.size
                rep["packages"] = sorted(pkgs.items(), key=lambda kv: -kv[1])[:40]
                if tracemalloc.get_traceback_limit() > 1:
                    imp = 0
                    ours = {}
                    inner = {}
                    for st in snap.statistics("traceback"):
                        names = [fr.filename for fr in st.traceback]
                        if any("importlib._bootstrap" in n for n in names):
                            imp += st.size
                            continue
                        mine = next(
                            (f"{fr.filename.split(_ROOT)[-1]}:{fr.lineno}"
                             for fr in st.traceback
                             if _ROOT in fr.filename and ".venv" not in fr.filename),
                            "(no lockstep frame)",
                        )
                        ours[mine] = ours.get(mine, 0) + st.size
                        f0 = st.traceback[0].filename
                        k0 = f0.split("site-packages/")[-1].split(_ROOT)[-1]
                        k0 = "/".join(k0.split("/")[:2])
                        inner[k0] = inner.get(k0, 0) + st.size
                    rep["import_time"] = imp
                    rep["runtime_by_our_frame"] = sorted(
                        ours.items(), key=lambda kv: -kv[1])[:40]
                    rep["runtime_by_inner"] = sorted(
                        inner.items(), key=lambda kv: -kv[1])[:30]
                rep["lines"] = [
                    (str(s.traceback[0]), s.size, s.count)
                    for s in snap.statistics("lineno")[:40]
                ]
        except Exception as exc:  # the report must come out whatever happens
            rep["trace_error"] = repr(exc)
        return rep

    def _watch():
        import json

        n = 0
        while True:
            time.sleep(0.2)
            trigger = os.path.join(_DIR, f"dump{n}")
            if os.path.exists(trigger):
                rep = _report()
                tmp = os.path.join(_DIR, f"report{n}.tmp")
                with open(tmp, "w") as f:
                    json.dump(rep, f)
                os.replace(tmp, os.path.join(_DIR, f"report{n}.json"))
                n += 1

    if _DIR:
        threading.Thread(target=_watch, name="memprobe", daemon=True).start()
    '''
)


def probe_report(probe_dir: Path, n: int, timeout: float = 60.0) -> dict[str, Any]:
    """Ask the child for report ``n`` and wait for it."""
    (probe_dir / f"dump{n}").touch()
    path = probe_dir / f"report{n}.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            doc: dict[str, Any] = json.loads(path.read_text())
            return doc
        time.sleep(0.2)
    raise RuntimeError("memory probe gave no report")


def run(
    rate: float, warmup: float, trace: bool, frames: int, trim: bool, why: bool = False
) -> dict[str, Any]:
    """One run of the app under the pty at ``rate`` msg/s; the RSS and the report."""
    from bench.scenarios import Session

    with tempfile.TemporaryDirectory(prefix="memprobe-") as d:
        probe_dir = Path(d)
        (probe_dir / "sitecustomize.py").write_text(PROBE)
        env = {
            "PYTHONPATH": f"{probe_dir}:{ROOT}",
            "LOCKSTEP_MEMPROBE_DIR": str(probe_dir),
            "LOCKSTEP_MEMPROBE_ROOT": f"{ROOT}/",
        }
        if trim:
            env["LOCKSTEP_MEMPROBE_TRIM"] = "1"
        if why:
            env["LOCKSTEP_MEMPROBE_WHY"] = "1"
        if trace:
            env["LOCKSTEP_MEMPROBE_TRACE"] = "1"
            env["LOCKSTEP_MEMPROBE_FRAMES"] = str(frames)
        with Session("app", env=env, start_timeout=90.0 if trace else 20.0) as ses:
            assert ses.prog is not None
            if not ses.ok:
                raise RuntimeError(ses.note)
            t0 = time.monotonic()
            early = psutil.Process(ses.prog.pid).memory_info().rss / 1e6
            ses.sim.set_rate(rate)
            time.sleep(warmup)
            rss = psutil.Process(ses.prog.pid).memory_info().rss / 1e6
            rep = probe_report(probe_dir, 0, 400.0 if trace else 60.0)
            rep["rss_mb"] = rss
            rep["rss_at_start_mb"] = early
            rep["seconds"] = time.monotonic() - t0
            return rep


def _ours(module: str) -> bool:
    """True for lockstep's own modules (feeds, tui, widgets)."""
    return module.split(".")[0] in ("feeds", "tui", "widgets")


def main() -> None:
    """Entry point: print the figures and the breakdown."""
    parser = argparse.ArgumentParser(prog="python -m bench.memprobe")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--frames", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", default="")
    parser.add_argument("--trim", action="store_true", help="malloc_trim(0) in the report")
    parser.add_argument(
        "--why", action="store_true", help="which of lockstep's modules imported each library"
    )
    args = parser.parse_args()
    reps = [
        run(args.rate, args.warmup, args.trace, args.frames, args.trim, args.why)
        for _ in range(args.runs)
    ]
    rss = [r["rss_mb"] for r in reps]
    print(f"RSS at P({args.rate:g} msg/s) after {args.warmup:g} s: {[round(x, 1) for x in rss]}")
    print(f"median {statistics.median(rss):.1f} MB")
    rep = reps[-1]
    roll = rep["rollup"]
    keys = ("Rss", "Anonymous", "Shared_Clean", "Private_Clean", "Private_Dirty", "Swap")
    print("smaps_rollup kB:", {k: roll.get(k) for k in keys})
    print("resident kB by mapping:", rep.get("maps"))
    print("python blocks:", rep["blocks"], "modules:", rep["modules"], "threads:", rep["threads"])
    for line in rep.get("pymalloc", []):
        print("  pymalloc", line)
    print("sqlite3_memory_used / highwater:", rep.get("sqlite"))
    print("mallinfo2:", rep.get("mallinfo", rep.get("mallinfo_error")))
    if "rollup_after_trim" in rep:
        after = rep["rollup_after_trim"]
        print("after malloc_trim(0) kB:", {k: after.get(k) for k in keys})
    print("top modules:", rep["module_tops"][:25])
    print("types:", rep["types"][:20])
    print("widgets:", rep.get("widget_total"), rep.get("widgets"))
    if "traced" in rep:
        print("traced now/peak MB:", [round(x / 1e6, 2) for x in rep["traced"]])
        for name, size in rep["packages"]:
            print(f"  {size / 1e6:7.2f} MB  {name}")
        if "import_time" in rep:
            print(f"import-time allocations still live: {rep['import_time'] / 1e6:.2f} MB")
            print("runtime allocations by innermost lockstep frame:")
            for name, size in rep["runtime_by_our_frame"]:
                print(f"  {size / 1e6:7.3f} MB  {name}")
            print("runtime allocations by allocating file:")
            for name, size in rep["runtime_by_inner"]:
                print(f"  {size / 1e6:7.3f} MB  {name}")
        for line, size, count in rep["lines"][:30]:
            print(f"  {size / 1e3:8.1f} kB {count:7d}  {line}")
    if "importers" in rep:
        print("modules outside lockstep first imported by lockstep's code (module <- importer):")
        for name, who in sorted(rep["importers"].items(), key=lambda kv: kv[1]):
            if name in rep["all_modules"] and _ours(who) and not _ours(name):
                print(f"  {name} <- {who}")
    if args.json:
        Path(args.json).write_text(json.dumps(reps, indent=1))


if __name__ == "__main__":
    main()
