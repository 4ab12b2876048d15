"""Custom resources of ../shared/data/real-manifests against the corpus's own CRDs: the structural schema alone
versus schema + defaults + string formats + x-kubernetes-validations (CEL) rules, and what reading CRDs from the
inputs themselves changes for ``kubedistill validate DIR``.

    python bench/crd_rules.py

Writes bench/results/crd_rules.md and .json. Every verdict that differs between the two modes is listed with
the rule that decided it and the hand review in ``REVIEWED`` below; a difference without a review fails the run,
so the table cannot go stale silently.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_index, machine, real_dir, write_result
from kubedistill.verify import Verifier, VerifyConfig, verify_paths
from kubedistill.verify.crdrules import compile_rule
from kubedistill.verify.schema import CustomSchemas, crd_documents

BEFORE_CHANGE = {"meant valid": {"valid": 839, "invalid": 36, "skipped": 1306},
                 "invalid-example": {"valid": 115, "invalid": 8, "skipped": 129}}
"""The same count by the verifier before CEL rules, formats and defaults were checked (commit before this
bench existed), measured with tests/test_real_manifests.py's setup."""

REVIEWED = {
    ("istio__istio/pilot__pkg__config__kube__gateway__testdata__backend-tls-policy.yaml", 6):
        "genuine: two targetRefs name Service echo-https, one without sectionName; the gateway-api CRD's rule "
        "'sectionName must be specified when targetRefs includes 2 or more references to the same target' holds "
        "for it, so the API server rejects it (istio feeds this test input to its controller directly)",
    ("istio__istio/pkg__config__analysis__analyzers__testdata__condition-analyzer.yaml", 6):
        "fixed false reject: status.parents[0] lacks controllerName, but GRPCRoute has the status subresource and "
        "the API server drops status on create before validating (customResourceStrategy.PrepareForCreate)",
    **{(f"kubernetes-sigs__gateway-api/hack__invalid-examples__standard__gateway__{name}.yaml", 0):
       f"genuine: a gateway-api invalid example (hack/invalid-examples), {why}" for name, why in (
        ("duplicate-listeners", "two listeners named foo: 'Listener name must be unique within the Gateway'"),
        ("hostname-tcp", "a TCP listener with a hostname"), ("hostname-udp", "a UDP listener with a hostname"),
        ("invalid-addresses", "address 9 is a Hostname 'foo.com:80' (the port fails the hostname rule; this "
         "CRD version has no CEL rule for the malformed IPAddress values 0-7)"),
        ("invalid-tls-mode", "an HTTPS listener with tls.mode Passthrough"),
        ("tlsconfig-tcp", "a TCP listener with a tls block"))},
}


def corpus_crds(root: Path, index: list[dict], rules: bool) -> CustomSchemas:
    custom = CustomSchemas(rules=rules)
    for entry in index:
        if entry["has_crd_definition"]:
            custom.load(str(root / entry["file"]))
    return custom


def verdicts(root: Path, index: list[dict], custom: CustomSchemas) -> tuple[dict, float, int]:
    """(file, doc, item) -> (group, status, error findings) for every custom resource; seconds; documents."""
    verifier = Verifier(VerifyConfig(ignore_missing_schemas=True), custom=custom)
    out: dict = {}
    start, documents = time.perf_counter(), 0
    for entry in index:
        results = verifier.verify_file(str(root / entry["file"]))
        documents += len(results)
        group = "invalid-example" if entry["category"] == "invalid-example" else "meant valid"
        for r in results:
            if r.kind in entry["custom_kinds"]:
                errors = [(f.rule, f.path, f.message) for f in r.findings if f.is_error]
                warnings = [f.message for f in r.findings if not f.is_error and f.rule == "L2-CRD-RULE-UNCHECKED"]
                out[(entry["file"], r.doc, r.item)] = (group, str(r.status), errors, warnings, r.kind, r.name)
    return out, time.perf_counter() - start, documents


def rule_census(root: Path, index: list[dict]) -> Counter:
    counts: Counter = Counter()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for entry in node.get("x-kubernetes-validations") or []:
                compiled = compile_rule(entry)
                counts["transition (oldSelf), skipped" if compiled is None else
                       "not evaluated (unsupported)" if compiled.unchecked else "evaluated"] += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for entry in index:
        if entry["has_crd_definition"]:
            for doc in crd_documents(root / entry["file"]):
                walk(doc)
    return counts


def directory_run(root: Path, index: list[dict]) -> dict:
    """``kubedistill validate`` over the corpus files with no --schema-location: custom resources checked."""
    config = VerifyConfig(ignore_missing_schemas=True)
    custom_kinds = {entry["file"]: set(entry["custom_kinds"]) for entry in index}
    files = [str(root / entry["file"]) for entry in index]
    counts: dict[str, Counter] = {"per input only": Counter(), "per input + whole run": Counter()}
    verifier = Verifier(config)
    start = time.perf_counter()
    for path in files:
        for r in verifier.verify_file(path):
            if r.kind in custom_kinds[path.removeprefix(str(root) + "/")]:
                counts["per input only"][str(r.status)] += 1
    per_input_s = time.perf_counter() - start
    start = time.perf_counter()
    for batch in verify_paths(files, config, jobs=1):
        for r in batch:
            if r.kind in custom_kinds[r.file.removeprefix(str(root) + "/")]:
                counts["per input + whole run"][str(r.status)] += 1
    run_s = time.perf_counter() - start
    return {"custom resources": {k: dict(v) for k, v in counts.items()},
            "seconds": {"per input only": round(per_input_s, 2), "per input + whole run": round(run_s, 2)}}


def summarize(found: dict) -> dict:
    table: dict[str, Counter] = {}
    for group, status, *_ in found.values():
        table.setdefault(group, Counter())[status] += 1
    return {k: dict(v) for k, v in sorted(table.items())}


def main() -> None:
    root = real_dir()
    index = load_index(root)
    schema_only, with_rules = corpus_crds(root, index, rules=False), corpus_crds(root, index, rules=True)
    before, before_s, docs = min((verdicts(root, index, schema_only) for _ in range(2)), key=lambda r: r[1])
    after, after_s, _ = min((verdicts(root, index, with_rules) for _ in range(2)), key=lambda r: r[1])
    changed = []
    for key, (group, status, errors, _, kind, name) in after.items():
        if status != before[key][1]:
            review = REVIEWED.get(key[:2])
            if review is None:
                sys.exit(f"unreviewed verdict change: {key} {before[key][1]} -> {status} {errors}")
            decided = errors or before[key][2]
            changed.append({"file": key[0], "doc": key[1], "kind": kind, "name": name, "group": group,
                            "before": before[key][1], "after": status, "rule": decided[0][0] if decided else "",
                            "message": decided[0][2] if decided else "", "review": review})
    warnings = Counter(w for *_, found, _, _ in after.values() for w in found)
    data = {"machine": machine(), "before_change": BEFORE_CHANGE, "schema_only": summarize(before),
            "schema_rules_formats_defaults": summarize(after), "changed": changed,
            "unchecked_rule_warnings": dict(warnings), "corpus_rules": dict(rule_census(root, index)),
            "seconds_all_documents": {"schema only": round(before_s, 2), "with rules": round(after_s, 2),
                                      "documents": docs},
            "directory_run": directory_run(root, index)}
    write_result("crd_rules", data, render(data))


def render(data: dict) -> str:
    lines = ["# Custom resources against the corpus CRDs: CEL rules, formats and defaults", "",
             "    python bench/crd_rules.py", "",
             f"Machine: {data['machine']['platform']}, {data['machine']['cpu']} ({data['machine']['cores']} cores), "
             f"Python {data['machine']['python']}.", "",
             "Custom resources (documents whose kind the corpus index lists as custom), validated with the 90 CRD "
             "documents the corpus ships preloaded, as tests/test_real_manifests.py does ('meant valid': every "
             "category but invalid-example, as in that test):", "",
             "| group | mode | valid | invalid | skipped (no CRD) |", "|---|---|---|---|---|"]
    for label, table in (("before this change", data["before_change"]), ("schema only", data["schema_only"]),
                         ("schema + defaults + formats + CEL rules", data["schema_rules_formats_defaults"])):
        for group in ("meant valid", "invalid-example"):
            row = table.get(group, {})
            lines.append(f"| {group} | {label} | {row.get('valid', 0)} | {row.get('invalid', 0)} | "
                         f"{row.get('skipped', 0)} |")
    lines += ["", "'schema only' is today's verifier with rules, formats and defaults off (`CustomSchemas(rules=False)`"
              "). It differs from 'before this change' by one document, a false reject this work fixed: "
              "istio pkg/config/analysis/analyzers/testdata/condition-analyzer.yaml doc 6, a GRPCRoute whose "
              "status.parents[0] lacks controllerName; GRPCRoute has the status subresource, and the API server "
              "drops status from a created object before validating it (customResourceStrategy.PrepareForCreate), "
              "so the verifier now does too.", "",
              "## Every verdict that changed, reviewed", "", "| file | doc | kind/name | before -> after | rule | "
              "message | review |", "|---|---|---|---|---|---|---|"]
    for c in data["changed"]:
        lines.append(f"| {c['file']} | {c['doc']} | {c['kind']}/{c['name']} | {c['before']} -> {c['after']} | "
                     f"{c['rule']} | {c['message'][:120]} | {c['review']} |")
    census = data["corpus_rules"]
    lines += ["", "## The corpus's rules", "", ", ".join(f"{v} {k}" for k, v in census.items()) + ".",
              "Rule warnings while verifying (L2-CRD-RULE-UNCHECKED): "
              + (", ".join(f"{n} x {m}" for m, n in data["unchecked_rule_warnings"].items()) or "none") + ".", "",
              "## Time", "", f"All {data['seconds_all_documents']['documents']} corpus documents, one process, "
              "best of two runs: "
              f"{data['seconds_all_documents']['schema only']} s schema only, "
              f"{data['seconds_all_documents']['with rules']} s with rules, formats and defaults.", "",
              "## CRDs read from the inputs (`kubedistill validate DIR`, no --schema-location)", "",
              "Custom resources by status when each input's own CRDs serve it, and when the CRDs of every input "
              "serve all (the default of `verify_paths`); before this change every one of them was schema-missing "
              "(skipped here, with --ignore-missing-schemas):", ""]
    for mode, counts in data["directory_run"]["custom resources"].items():
        lines.append(f"- {mode}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                     + f" ({data['directory_run']['seconds'][mode]} s)")
    lines += ["", "No corpus file holds a custom resource together with its CRD, so the per-input scope alone finds "
              "none. With the whole run's CRDs, tests/test_real_manifests.py (a run over every corpus file) gained 38 "
              "L2 (file, rule) rejections of files meant valid; each was reviewed and added to "
              "tests/fixtures/real_manifest_rejections.tsv:", "", *[f"- {n} {why}" for n, why in RUN_REVIEWS]]
    return "\n".join(lines) + "\n"


RUN_REVIEWS = (
    (25, "istio gatewaycommon/testdata/deployment/*.yaml, L2-REQUIRED: test golden outputs whose first document is "
         "a Gateway stub without name or spec (the Gateway CRD requires spec)"),
    (6, "istio gateway/testdata backend-lb-policy, backend-traffic-policy-ignored, mix-backend-policy: "
        "XBackendTrafficPolicy written for another gateway-api release (sessionPersistence.sessionName/cookieConfig"
        "; the corpus CRD has cookie): L2-UNKNOWN-FIELD, and L2-CRD-RULE 'cookie must be specified for Cookie type'"),
    (1, "istio gateway/testdata/backend-tls-policy.yaml, L2-CRD-RULE: genuine (the BackendTLSPolicy above)"),
    (1, "istio gateway/testdata/listenerset-empty-listeners.yaml, L2-RANGE: a Gateway with listeners: [] against "
        "CRDs with minItems 1"),
    (2, "GKE ai-ml/infw-gw/examples/getting-started/inference-model.yaml, L2-REQUIRED and L2-UNKNOWN-FIELD: "
        "written for another InferenceModel API than the v1alpha2 CRD the same repo ships"),
    (1, "gateway-api conformance/tests/gatewayclass-observed-generation-bump.yaml, L2-PATTERN: the unfilled "
        "placeholder {GATEWAY_CONTROLLER_NAME}"),
    (2, "prometheus-operator example/user-guides/scrapeclass PodMonitor and ServiceMonitor, L2-REQUIRED: "
        "user-guide snippets without the required spec.selector"),
)


if __name__ == "__main__":
    main()
