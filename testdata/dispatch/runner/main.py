"""The runner's entrypoint: run the tests of /work/tests.json against the
submitted module and print one JSON report on stdout."""

import importlib
import json
import os
import sys
import time

WORK = os.path.dirname(os.path.abspath(__file__))


def run_test(module, test):
    started = time.monotonic()
    try:
        got = getattr(module, test["function"])(*test.get("args", []))
        passed = got == test["expect"]
        detail = None if passed else f"expected {test['expect']!r}, got {got!r}"
    except Exception as exc:  # a failing test, not a failing runner
        passed, detail = False, f"{type(exc).__name__}: {exc}"
    return {
        "name": test["name"],
        "passed": passed,
        "detail": detail,
        "seconds": round(time.monotonic() - started, 6),
    }


def main():
    with open(os.path.join(WORK, "tests.json")) as f:
        spec = json.load(f)
    sys.path.insert(0, WORK)
    module = importlib.import_module(spec["module"])
    results = [run_test(module, t) for t in spec["tests"]]
    report = {
        "passed": sum(r["passed"] for r in results),
        "failed": sum(not r["passed"] for r in results),
        "results": results,
        "uid": os.getuid(),
        "gid": os.getgid(),
        "cwd": os.getcwd(),
        "secret_present": bool(os.environ.get("ANTHROPIC_API_KEY")),
    }
    # scratch space: /workspace is the writable emptyDir
    scratch = os.path.join(os.environ.get("WORKSPACE", "/workspace"), "report.json")
    with open(scratch, "w") as f:
        json.dump(report, f)
    with open(scratch) as f:
        report["scratch_roundtrip"] = json.load(f) == report
    print(json.dumps(report))
    return 0 if report["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
