"""The request's checklist: a spec in manifest terms, added to the user's turn only when asked for."""

from __future__ import annotations

import pytest

from kubedistill.context.checklist import CHECKLIST_HEADER, checklist
from kubedistill.context.request import read_request
from kubedistill.context.spec import ObjectSpec, TaskSpec
from kubedistill.prompts import chat, system_prompt


def test_each_value_is_named_by_the_field_it_goes_in():
    spec = TaskSpec("web", [
        ObjectSpec(kind="Deployment", name="web", namespace="shop", image="nginx", replicas=2, ports=[8080, 8443],
                   requests={"cpu": "250m"}, limits={"memory": "256Mi"}, env={"LOG_LEVEL": "debug"},
                   refs={"Secret": "web-auth"}),
        ObjectSpec(kind="Service", name="web", ports=[80], target_ports=[8080], service_type="NodePort"),
        ObjectSpec(kind="CronJob", schedule="0 2 * * *", fields={"/spec/concurrencyPolicy": "Forbid",
                                                                 "/spec/jobTemplate/spec/backoffLimit": 3}),
        ObjectSpec(kind="RoleBinding", refs={"Role": "reader"}),
        ObjectSpec(kind="Namespace", name="shop"),
    ])
    lines = checklist(spec).splitlines()
    assert lines[0] == CHECKLIST_HEADER
    deployment, service, cronjob, binding, namespace = lines[1:]
    assert deployment.startswith("- Deployment web: metadata.namespace: shop; spec.replicas: 2")
    # the limit is a limit and the request a request: the student's commonest miss is swapping them
    assert "resources.limits.memory: 256Mi" in deployment and "resources.requests.cpu: 250m" in deployment
    assert "requests.memory" not in deployment and "limits.cpu" not in deployment
    assert "containerPort: 8080, 8443" in deployment and "env LOG_LEVEL = debug" in deployment
    assert "image: nginx (with a pinned tag)" in deployment
    assert "refers to Secret web-auth (envFrom secretRef" in deployment
    assert service == "- Service web: spec.type: NodePort; port: 80; targetPort: 8080"
    assert 'spec.schedule: "0 2 * * *"' in cronjob and "spec.concurrencyPolicy: Forbid" in cronjob
    assert "spec.jobTemplate.spec.backoffLimit: 3" in cronjob
    assert binding == "- RoleBinding: refers to Role reader (roleRef)" and namespace == "- Namespace shop"


def test_a_json_pointer_becomes_a_dotted_path_with_its_escapes_undone():
    spec = TaskSpec("netpol", [ObjectSpec(kind="NetworkPolicy", fields={
        "/spec/ingress/0/from/0/podSelector/matchLabels/app.kubernetes.io~1name": "web"})])
    assert "spec.ingress[0].from[0].podSelector.matchLabels.app.kubernetes.io/name: web" in checklist(spec)


def test_no_spec_or_no_object_gives_no_checklist():
    assert checklist(None) == "" and checklist(TaskSpec("x", [])) == ""


def test_chat_adds_the_checklist_read_from_the_request_only_when_asked():
    request = "A Deployment named web running nginx:1.27, limited to 256Mi of memory."
    plain = chat("strict", request)
    hinted = chat("strict", request, "request")
    assert plain[0] == hinted[0] == {"role": "system", "content": system_prompt("strict")}
    assert plain[1]["content"] == request
    assert hinted[1]["content"] == f"{request}\n\n{checklist(read_request(request))}"
    assert "- Deployment web: image: nginx:1.27; resources.limits.memory: 256Mi" in hinted[1]["content"]
    # a request the reader finds no object in is asked word for word as without hints
    vague = "Something to keep my app running."
    assert read_request(vague) is None and chat("strict", vague, "request") == chat("strict", vague)
    with pytest.raises(ValueError, match="hints must be one of none, request"):
        chat("strict", request, "gold")
