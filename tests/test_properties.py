"""Property tests: random and mutated input never crashes the verifier, and verdicts are stable."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from kubedistill.verify import Status, Verifier, VerifyConfig

VERIFIER = Verifier(VerifyConfig(policy="best-practice", context="strict"))
BASE = list(yaml.safe_load_all((REPO / "examples" / "web-app.yaml").read_text()))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True),
                    st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


def _check(results) -> None:
    for result in results:
        assert result.status in set(Status)
        for finding in result.findings:
            assert finding.rule and finding.message and finding.level in (1, 2, 3, 4)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data):
    _check(VERIFIER.verify_text(data))


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#\n\t ,?%@`0123456789")), max_size=200))
def test_yaml_like_text_never_crashes(text):
    _check(VERIFIER.verify_text(text))


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _paths(value, (*prefix, i))


@SETTINGS
@given(st.data())
def test_mutated_manifests_never_crash(data):
    docs = copy.deepcopy(BASE)
    index = data.draw(st.integers(0, len(docs) - 1))
    paths = list(_paths(docs[index]))
    path = data.draw(st.sampled_from(paths[1:]))
    target = docs[index]
    for key in path[:-1]:
        target = target[key]
    if data.draw(st.booleans()):
        target[path[-1]] = data.draw(values)
    elif isinstance(target, dict):
        del target[path[-1]]
    text = yaml.safe_dump_all(docs)
    _check(VERIFIER.verify_text(text))


@SETTINGS
@given(st.dictionaries(st.text(max_size=10), values, max_size=6))
def test_arbitrary_objects_with_known_kinds_never_crash(spec):
    for kind, api in (("Deployment", "apps/v1"), ("Service", "v1"), ("CronJob", "batch/v1"), ("Ingress",
                      "networking.k8s.io/v1"), ("Pod", "v1")):
        doc = {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": spec}
        _check(VERIFIER.verify_text(yaml.safe_dump(doc)))
