"""The domain context model: families, value pools, instructions that state their spec, derived specs."""

from __future__ import annotations

import random
import re

import pytest
import yaml

from conftest import REPO, errors_of
from kubedistill.context import pools
from kubedistill.context.derive import derive_spec
from kubedistill.context.describe import FRAMES_BUNDLE, FRAMES_SINGLE, render_instruction
from kubedistill.context.families import FAMILIES
from kubedistill.sources.redact import REDACTED, clean_manifest
from kubedistill.verify import Verifier, VerifyConfig

CORPUS_CHECK = Verifier(VerifyConfig(policy="best-practice", context="bundle"))


def test_at_least_25_families_single_and_bundles():
    assert len(FAMILIES) >= 25
    assert sum(len(f.kinds) > 1 for f in FAMILIES.values()) >= 8
    assert {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "Service", "Ingress", "ConfigMap",
            "Secret", "PersistentVolumeClaim", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            "ServiceAccount", "Role", "RoleBinding", "Namespace", "ResourceQuota", "LimitRange"} <= {
        k for f in FAMILIES.values() for k in f.kinds}


def test_every_family_has_at_least_a_dozen_templates():
    for fam in FAMILIES.values():
        frames = FRAMES_SINGLE if len(fam.kinds) == 1 else FRAMES_BUNDLE
        assert len(frames) * max(1, len(fam.nouns)) >= 12, fam.name


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_manifests_pass_every_level_and_their_spec(name):
    for seed in range(25):
        task = FAMILIES[name].sample(random.Random(seed))
        results = CORPUS_CHECK.verify_text(yaml.safe_dump_all(task.objects, sort_keys=False), spec=task.spec)
        assert not errors_of(results), (name, seed, [f.message for f in errors_of(results)])
        assert {o["kind"] for o in task.objects} == set(FAMILIES[name].kinds)


def _stated_values(spec) -> list[str]:
    values = []
    for o in spec.objects:
        values += [v for v in (o.name, o.namespace, o.image, o.host, o.path) if v]
        values += [str(p) for p in o.ports] + list(o.env) + list(o.refs.values())
        if o.replicas is not None:
            values.append(str(o.replicas))
    return values


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_instructions_state_the_spec_values(name):
    fam = FAMILIES[name]
    for seed in range(20):
        task = fam.sample(random.Random(seed))
        text = render_instruction(task.spec, random.Random(seed), fam.nouns, task.software)
        for value in _stated_values(task.spec):
            assert value in text, (name, seed, value, text)
        if any(o.namespace for o in task.spec.objects) is False:
            assert all("namespace" not in o["metadata"] for o in task.objects)


def test_instructions_vary():
    fam = FAMILIES["deployment"]
    texts = {render_instruction(fam.sample(random.Random(s)).spec, random.Random(s), fam.nouns) for s in range(200)}
    openings = {" ".join(t.split()[:2]) for t in texts}
    assert len(texts) == 200 and len(openings) >= 10


def test_images_in_the_pool_are_pinned_and_non_root():
    for image in pools.IMAGES:
        assert image.tags and all(t != "latest" for t in image.tags)
        assert image.uid > 0
        assert image.role != "batch" or image.command


def test_derive_spec_from_the_examples():
    docs = list(yaml.safe_load_all((REPO / "examples" / "web-app.yaml").read_text()))
    spec = derive_spec(docs)
    by_kind = {o.kind: o for o in spec.objects}
    assert by_kind["Deployment"].replicas == 3 and by_kind["Deployment"].image == "nginxinc/nginx-unprivileged:1.27"
    assert by_kind["Ingress"].host == "shop.example.com" and by_kind["Ingress"].refs == {"Service": "web"}
    assert by_kind["HorizontalPodAutoscaler"].refs == {"Deployment": "web"}
    assert not errors_of(Verifier().verify_text((REPO / "examples" / "web-app.yaml").read_text(), spec=spec))
    assert derive_spec([{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}]) is None


def test_redaction_before_the_teacher_sees_a_manifest():
    docs = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "aHVudGVyMg=="}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{
                "name": "c", "image": "app:1", "env": [{"name": "DB_PASSWORD", "value": "hunter2"},
                                                       {"name": "MODE", "value": "fast"},
                                                       {"name": "KEY", "value": "AKIAABCDEFGHIJKLMNOP"}]}]}}]
    text, count = clean_manifest(docs)
    assert "hunter2" not in text and "aHVudGVyMg" not in text and "AKIAABCDEFGHIJKLMNOP" not in text
    assert "fast" in text and REDACTED in text and count == 3
    assert all(isinstance(d, dict) for d in yaml.safe_load_all(text))


def test_comments_are_stripped():
    text, _ = clean_manifest(list(yaml.safe_load_all("# secret note\napiVersion: v1\nkind: ConfigMap  # x\n"
                                                    "metadata:\n  name: c\n")))
    assert "#" not in text and re.search(r"^kind: ConfigMap$", text, re.M)
