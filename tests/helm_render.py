"""Lints and renders Helm charts for tests/charts.rs, with helm-python-sdk
(Helm's own Go library, v4, behind ctypes; no helm binary needed).

Reads a JSON list of requests on stdin and writes a JSON list of answers, one
per request, in order, on stdout:

  {"op": "lint", "chart": DIR, "values": {...}, "namespace": NS}
    -> {"ok": true, "messages": [{"severity", "path", "error"}], "errors": [...]}
       (`helm lint --strict`; severity 1 info, 2 warning, 3 error)
  {"op": "render", "chart": DIR, "values": {...}, "name": RELEASE, "namespace": NS}
    -> {"ok": true, "manifests": {template path: rendered text}}
       (`helm template`: values coalesced with the chart's defaults, checked
       against values.schema.json, templates rendered as for an install)

A request Helm refuses answers {"ok": false, "error": exception class,
"message": Helm's message}; only a broken request makes the script fail.
"""

import json
import sys

import helm_python as helm


def answer(request):
    op = request["op"]
    values = request.get("values")
    try:
        if op == "lint":
            report = helm.lint(
                request["chart"],
                values,
                strict=True,
                namespace=request.get("namespace"),
            )
            return {
                "ok": True,
                "messages": report.get("messages") or [],
                "errors": report.get("errors") or [],
            }
        if op == "render":
            with helm.Chart.load(request["chart"]) as chart:
                manifests = chart.render(
                    values,
                    name=request["name"],
                    namespace=request["namespace"],
                    is_install=True,
                )
            return {"ok": True, "manifests": manifests}
    except helm.HelmError as e:
        return {"ok": False, "error": type(e).__name__, "message": str(e)}
    raise ValueError(f"unknown op {op!r}")


def main():
    requests = json.load(sys.stdin)
    json.dump([answer(r) for r in requests], sys.stdout)


if __name__ == "__main__":
    main()
