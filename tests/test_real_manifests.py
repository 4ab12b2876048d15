"""The verifier over the shared real-manifest corpus: every L1/L2 rejection of a file meant to be valid is
one we reviewed by hand (tests/fixtures/real_manifest_rejections.tsv), and every reviewed rejection still
happens. Skips when ../shared/data/real-manifests is absent."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES
from kubedistill.verify import Verifier, VerifyConfig, verify_paths
from kubedistill.verify.schema import CustomSchemas

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def corpus(real_dir):
    lines = (real_dir / "index.jsonl").read_text().splitlines()
    index = {json.loads(line)["file"]: json.loads(line) for line in lines}
    config = VerifyConfig(ignore_missing_schemas=True)
    results = [r for batch in verify_paths([str(real_dir / f) for f in sorted(index)], config, jobs=2) for r in batch]
    return real_dir, index, results


def test_every_document_is_verified(corpus):
    real_dir, index, results = corpus
    non_empty = [r for r in results if r.status != "empty"]
    # v1 List documents are expanded into their items, so there are at least as many results as documents.
    assert len(non_empty) >= sum(entry["n_docs"] for entry in index.values())
    assert all(r.file.startswith(str(real_dir)) for r in results)


def test_rejections_of_valid_files_are_the_reviewed_ones(corpus):
    real_dir, index, results = corpus
    rejected = set()
    for r in results:
        entry = index[r.file.removeprefix(str(real_dir) + "/")]
        meant_valid = entry["category"] != "invalid-example" and not (entry["patch_like"] or entry["has_placeholders"])
        if meant_valid and r.failed_level in (1, 2):
            rejected |= {(entry["file"], f.rule) for f in r.findings if f.is_error}
    rows = [line.split("\t") for line in (FIXTURES / "real_manifest_rejections.tsv").read_text().splitlines()
            if line and not line.startswith("#")]
    reviewed = {(file, rule) for file, rule, _ in rows}
    assert rejected - reviewed == set(), "new rejections to review"
    assert reviewed - rejected == set(), "reviewed rejections that no longer happen"


def test_custom_resources_validate_against_the_corpus_crds(real_dir):
    """The corpus ships 90 CRDs (gateway-api, istio, ...): with them as schemas, custom resources are checked."""
    entries = [json.loads(line) for line in (real_dir / "index.jsonl").read_text().splitlines()]
    custom = CustomSchemas()
    for entry in entries:
        if entry["has_crd_definition"]:
            custom.load(str(real_dir / entry["file"]))
    verifier = Verifier(VerifyConfig(ignore_missing_schemas=True), custom=custom)
    verdicts: dict[bool, list[bool]] = {True: [], False: []}
    for entry in entries:
        for r in verifier.verify_file(str(real_dir / entry["file"])):
            if r.kind in entry["custom_kinds"] and r.status in ("valid", "invalid"):
                verdicts[entry["category"] == "invalid-example"].append(r.status == "valid")
    meant_valid, invalid_examples = verdicts[False], verdicts[True]
    assert len(meant_valid) > 800 and sum(meant_valid) / len(meant_valid) > 0.9
    assert invalid_examples and not all(invalid_examples)


def test_gateway_api_invalid_examples_fail_their_crds_cel_rules(corpus):
    """gateway-api's hack/invalid-examples that only its CRDs' x-kubernetes-validations rules catch (the corpus
    ships the CRDs, so a run over the corpus uses them): bench/results/crd_rules.md lists the reviews."""
    real_dir, _, results = corpus
    names = ("duplicate-listeners", "hostname-tcp", "hostname-udp", "invalid-addresses", "invalid-tls-mode",
             "tlsconfig-tcp")
    files = {str(real_dir / f"kubernetes-sigs__gateway-api/hack__invalid-examples__standard__gateway__{n}.yaml")
             for n in names}
    rules = {r.file: {f.rule for f in r.findings if f.is_error} for r in results if r.file in files}
    assert rules == {file: {"L2-CRD-RULE"} for file in files}
