"""Reading a typed request as a task spec (``context/request.py``): what it reads, what it must leave alone.

The requests here are written the way people type them, not in the offline teacher's frames; the corpus-wide
figures (false failures on verified answers, recall of the task specs) are in bench/results/request_specs.md.
"""

from __future__ import annotations

import pytest

from kubedistill.context.request import read_request
from kubedistill.verify import Verifier, VerifyConfig


def objects(text: str) -> list[dict]:
    spec = read_request(text)
    return [o.to_dict() for o in spec.objects] if spec else []


@pytest.mark.parametrize("text, expected", [
    ("Create a Deployment for nginx:1.27 with three replicas, exposed on port 80 through a LoadBalancer Service.",
     [{"kind": "Deployment", "image": "nginx:1.27", "replicas": 3},  # "exposed on port 80": not the container's
      {"kind": "Service", "service_type": "LoadBalancer"}]),  # the port stood before the Service: not read
    ("I want a StatefulSet called pg running postgres:16 with 20Gi of storage, plus a headless service named pg",
     [{"kind": "StatefulSet", "name": "pg", "image": "postgres:16", "storage": "20Gi"},
      {"kind": "Service", "name": "pg", "fields": {"/spec/clusterIP": "None"}}]),
    ("a cronjob that runs every 15 minutes and runs curlimages/curl:8.8.0",
     [{"kind": "CronJob", "image": "curlimages/curl:8.8.0", "schedule": "*/15 * * * *"}]),
    ("Make a Job named migrate using image ghcr.io/acme/migrate:2.1 with DATABASE_URL=postgres://db:5432/app",
     [{"kind": "Job", "name": "migrate", "image": "ghcr.io/acme/migrate:2.1",
       "env": {"DATABASE_URL": "postgres://db:5432/app"}}]),
    ("deployment `api` in the payments namespace, 2 replicas, with a memory limit of 512Mi and a CPU request of 250m",
     [{"kind": "Deployment", "name": "api", "namespace": "payments", "replicas": 2,
       "requests": {"cpu": "250m"}, "limits": {"memory": "512Mi"}}]),
    ("A Service named web on port 80 forwarding to port 8080, type NodePort, node port 30080",
     [{"kind": "Service", "name": "web", "ports": [80], "target_ports": [8080], "service_type": "NodePort",
       "fields": {"/spec/ports/0/nodePort": 30080}}]),
    ("A service of type LoadBalancer for the deployment frontend, port 80 -> 3000",
     [{"kind": "Service", "ports": [80], "target_ports": [3000], "service_type": "LoadBalancer"}]),
    ("Write a PVC named data of 10Gi, ReadWriteMany, on the fast-rwo storage class",
     [{"kind": "PersistentVolumeClaim", "name": "data", "storage": "10Gi", "access_modes": ["ReadWriteMany"]}]),
    ("an ingress for shop.example.com routing /api to the backend",
     [{"kind": "Ingress", "host": "shop.example.com", "path": "/api"}]),
    ("A CronJob called report, daily at 6:15pm, image python:3.12-slim, non-root, read-only root filesystem",
     [{"kind": "CronJob", "name": "report", "image": "python:3.12-slim", "schedule": "15 18 * * *",
       "run_as_non_root": True, "read_only_root_fs": True}]),
    ("An HPA for the Deployment checkout-api between 2 and 10 replicas",
     [{"kind": "HorizontalPodAutoscaler", "refs": {"Deployment": "checkout-api"},
       "fields": {"/spec/minReplicas": 2, "/spec/maxReplicas": 10}}]),
    ("an autoscaler for the api deployment that scales out to 20 pods and never fewer than two pods",
     [{"kind": "HorizontalPodAutoscaler", "refs": {"Deployment": "api"},
       "fields": {"/spec/minReplicas": 2, "/spec/maxReplicas": 20}}]),
    ("hpa for deployment web: minReplicas 3, maxReplicas: 12",
     [{"kind": "HorizontalPodAutoscaler", "fields": {"/spec/minReplicas": 3, "/spec/maxReplicas": 12}}]),
    ("a PodDisruptionBudget named web-pdb so that at least 2 pods stay available",
     [{"kind": "PodDisruptionBudget", "name": "web-pdb", "fields": {"/spec/minAvailable": 2}}]),
    ("PDB for the checkout pods with maxUnavailable 25 %",
     [{"kind": "PodDisruptionBudget", "fields": {"/spec/maxUnavailable": "25%"}}]),
    ("a pdb allowing no more than one pod to be down at once",
     [{"kind": "PodDisruptionBudget", "fields": {"/spec/maxUnavailable": 1}}]),
    ('Create a ConfigMap named app-config with LOG_LEVEL=debug and the key "flags" set to "beta,search".',
     [{"kind": "ConfigMap", "name": "app-config", "fields": {"/data/LOG_LEVEL": "debug",
                                                             "/data/flags": "beta,search"}}]),
    ("A Deployment named worker that reads its settings from the ConfigMap worker-config and its password from "
     "the Secret worker-db",
     [{"kind": "Deployment", "name": "worker", "refs": {"ConfigMap": "worker-config", "Secret": "worker-db"}}]),
    ("I want an HPA that scales my web deployment between 2 and 8 pods at 75% CPU",  # "my": one that exists;
     [{"kind": "HorizontalPodAutoscaler", "refs": {"Deployment": "web"},  # the CPU target's path is v1's or v2's
       "fields": {"/spec/minReplicas": 2, "/spec/maxReplicas": 8}}]),
    ("an nginx deployment in the default namespace that requests 100m cpu / 128Mi memory and is limited to "
     "500m cpu / 256Mi memory",
     [{"kind": "Deployment", "namespace": "default", "requests": {"memory": "128Mi", "cpu": "100m"},
       "limits": {"memory": "256Mi", "cpu": "500m"}}]),
    ("A Deployment named api running ghcr.io/acme/api:1.4, exposing port 8080 and running 3 pods",
     [{"kind": "Deployment", "name": "api", "image": "ghcr.io/acme/api:1.4", "replicas": 3, "ports": [8080]}]),
    ("a Deployment for nginx:1.27 exposing port 80 through a LoadBalancer Service",  # the Service's port
     [{"kind": "Deployment", "image": "nginx:1.27"}, {"kind": "Service", "service_type": "LoadBalancer"}]),
    ("a Deployment named api on port 8080 with a liveness probe on port 8081",
     [{"kind": "Deployment", "name": "api", "ports": [8080]}]),  # a probe's port need not be declared
])
def test_typed_requests_are_read_as_their_requirements(text, expected):
    assert objects(text) == expected


@pytest.mark.parametrize("text", [
    "the pods should talk to the web service",  # plain English: pods, service
    "Deploy nginx with 3 replicas",  # no kind named: which workload is not for us to guess
    "How do I get my job done faster?",
    "explain ingress and egress rules to me",
])
def test_requests_that_name_no_object_read_no_spec(text):
    assert read_request(text) is None


def test_what_is_left_alone():
    # a negated object is not asked for; a plural names no single object
    assert [o["kind"] for o in objects("a Deployment named web, without a Service")] == ["Deployment"]
    assert [o["kind"] for o in objects("a Deployment named web; the Services already exist")] == ["Deployment"]
    # kinds inside names are not mentions
    assert objects("a Namespace called ingress-nginx") == [{"kind": "Namespace", "name": "ingress-nginx"}]
    assert objects("a ConfigMap named cfg with BACKEND_SERVICE=http://api") == [
        {"kind": "ConfigMap", "name": "cfg", "fields": {"/data/BACKEND_SERVICE": "http://api"}}]
    # a label is not a ConfigMap entry; bounds the wrong way round, or both budgets at once, state no clear value
    assert objects("a ConfigMap named cfg with label app=web") == [{"kind": "ConfigMap", "name": "cfg",
                                                                   "labels": {"app": "web"}}]
    assert objects("an HPA scaling between 10 and 2 replicas") == [{"kind": "HorizontalPodAutoscaler"}]
    assert objects("a PDB with minAvailable 1 and maxUnavailable 1") == [{"kind": "PodDisruptionBudget"}]
    # "the pods labeled app=web" select other objects: not this object's labels, a policy's selectors
    assert objects("a NetworkPolicy protecting the pods labeled app=web.") == [
        {"kind": "NetworkPolicy", "fields": {"/spec/podSelector/matchLabels/app": "web"}}]
    assert objects("network policy: only allow traffic from pods with label role=frontend to pods with label "
                   "app.kubernetes.io/name=db on port 5432") == [{"kind": "NetworkPolicy", "fields": {
                       "/spec/podSelector/matchLabels/app.kubernetes.io~1name": "db",
                       "/spec/ingress/0/from/0/podSelector/matchLabels/role": "frontend",
                       "/spec/ingress/0/ports/0/port": 5432}}]
    # egress: "to pods labeled app=db" is a destination; two sources: which is rule 0's first is not said
    assert objects("a NetworkPolicy allowing egress to pods labeled app=db on port 5432") == [{"kind": "NetworkPolicy"}]
    assert objects("a NetworkPolicy protecting pods labeled app=db, allowing traffic from pods labeled role=web and "
                   "from pods labeled role=admin on port 5432") == [
        {"kind": "NetworkPolicy", "fields": {"/spec/podSelector/matchLabels/app": "db"}}]
    # a quota value only with its own word ("4 CPUs" may be cpu or requests.cpu); a LimitRange's defaults only
    # when it has no pod, claim, max or min limits beside them (which of its limits is first is not said)
    assert objects("a ResourceQuota for team-a: requests.cpu=4, a memory request quota of 8GiB and at most 20 pods"
                   ) == [{"kind": "ResourceQuota", "fields": {"/spec/hard/requests.cpu": "4",
                                                              "/spec/hard/requests.memory": "8Gi",
                                                              "/spec/hard/pods": "20"}}]
    assert objects("a ResourceQuota allowing 4 CPUs and 10 pods") == [{"kind": "ResourceQuota"}]
    assert objects("a LimitRange with a default CPU request of 250m and a default memory limit of 512Mi.") == [
        {"kind": "LimitRange", "fields": {"/spec/limits/0/defaultRequest/cpu": "250m",
                                          "/spec/limits/0/default/memory": "512Mi"}}]
    assert objects("a LimitRange with a default memory limit of 512Mi and a max of 1Gi") == [{"kind": "LimitRange"}]
    # "to the reports service": the Ingress's backend, named before the kind; at the start, before any object, it
    # points at a Service that exists and asks for none
    assert objects("an ingress routing to the reports service for the host api.example.com") == [
        {"kind": "Ingress", "host": "api.example.com", "refs": {"Service": "reports"}}]
    assert objects("Route traffic to the api service with an Ingress for api.example.com") == [
        {"kind": "Ingress", "host": "api.example.com"}]
    # the pods a Service or a PDB selects; a Job's retries; a CronJob's concurrency policy
    assert objects("a Service named web selecting pods labeled app=web on port 80") == [
        {"kind": "Service", "name": "web", "ports": [80], "fields": {"/spec/selector/app": "web"}}]
    assert objects("a PDB for pods with app.kubernetes.io/name: cart, minAvailable 1") == [
        {"kind": "PodDisruptionBudget", "fields": {"/spec/minAvailable": 1,
                                                   "/spec/selector/matchLabels/app.kubernetes.io~1name": "cart"}}]
    assert objects("a CronJob named backup, daily at 2am, never running two jobs at once, backoff limit 3") == [
        {"kind": "CronJob", "name": "backup", "schedule": "0 2 * * *", "fields": {
            "/spec/jobTemplate/spec/backoffLimit": 3, "/spec/concurrencyPolicy": "Forbid"}}]
    assert objects("a Job named migrate retrying at most 4 times") == [
        {"kind": "Job", "name": "migrate", "fields": {"/spec/backoffLimit": 4}}]
    # a Secret's entries (lower-case keys too: "holding password=admin"), not its labels; an ExternalName's host
    assert objects('a Secret named db holding password=admin and the key "api-key" set to "k 1"') == [
        {"kind": "Secret", "name": "db", "fields": {"/stringData/password": "admin", "/stringData/api-key": "k 1"}}]
    assert objects("a Secret named db with label app=web") == [{"kind": "Secret", "name": "db",
                                                               "labels": {"app": "web"}}]
    assert "fields" not in objects("a Secret named db labeled app=web and tier=db")[0]
    assert objects("an ExternalName Service named legacy pointing to mail.example.org.") == [
        {"kind": "Service", "name": "legacy", "service_type": "ExternalName",
         "fields": {"/spec/externalName": "mail.example.org"}}]
    # an Ingress's backend port, with one path; with two paths, which backend it is for is not said
    assert objects("an Ingress for shop.example.com with path prefix /v1 to the Service shop-api on service port 8080"
                   ) == [{"kind": "Ingress", "host": "shop.example.com", "path": "/v1", "refs": {"Service": "shop-api"},
                          "fields": {"/spec/rules/0/http/paths/0/backend/service/port/number": 8080}}]
    assert "fields" not in objects("an Ingress routing /api and /web, service port 8080")[0]
    # ambiguous units and unmarked quantities hold the answer to nothing
    assert objects("a Deployment named web with 512MB of memory and 2 cores") == [{"kind": "Deployment", "name": "web"}]
    # two Service types named for one Service: no type requirement
    assert "service_type" not in objects("a ClusterIP Service named web, as a LoadBalancer service")[0]
    # "a database deployment ... a StatefulSet": the everyday word beside another workload kind
    assert [o["kind"] for o in objects("a database deployment: a StatefulSet named db running mysql:8.4")] == [
        "StatefulSet"]
    # "expose the Deployment": the object already asked for, not a second one
    assert [o["kind"] for o in objects("a Deployment named web running nginx:1.27. Expose the Deployment with a "
                                       "Service on port 80.")] == ["Deployment", "Service"]


@pytest.mark.parametrize("text, expected, existing", [
    ("use our existing secret db-creds in a deployment named api running ghcr.io/acme/api:1.0",
     [{"kind": "Deployment", "name": "api", "image": "ghcr.io/acme/api:1.0"}], [("Secret", "db-creds")]),
    ("an Ingress for shop.example.com with the TLS secret shop-tls that cert-manager already created",
     [{"kind": "Ingress", "host": "shop.example.com", "refs": {"Secret": "shop-tls"}}], [("Secret", "shop-tls")]),
    ("rolebinding devs-view ns payments -> clusterrole/view, group payments-devs",
     [{"kind": "RoleBinding", "name": "devs-view", "namespace": "payments", "refs": {"ClusterRole": "view"}}],
     [("ClusterRole", "view")]),
    ("The minio StatefulSet is already running in ns storage, and so is its headless Service minio-hl. I only need "
     "one extra ClusterIP Service, minio-web.",
     [{"kind": "Service", "namespace": "storage", "service_type": "ClusterIP"}], []),  # "Service, minio-web": unread
])
def test_objects_that_exist_already_are_used_not_asked_for(text, expected, existing):
    spec = read_request(text)
    assert [o.to_dict() for o in spec.objects] == expected
    assert [(r.kind, r.name) for r in spec.existing] == existing


@pytest.mark.parametrize("text, expected", [
    ("deploy api img ghcr.io/acme/api:2.1 x3 port 8080 + svc 80->8080 -n shop",
     [{"kind": "Deployment", "name": "api", "namespace": "shop", "image": "ghcr.io/acme/api:2.1", "replicas": 3,
       "ports": [8080]},
      {"kind": "Service", "namespace": "shop", "ports": [80], "target_ports": [8080]}]),
    ("job cache-warm -n storefront img curlimages/curl:8.8.0 completions 6 parallel 2",
     [{"kind": "Job", "name": "cache-warm", "namespace": "storefront", "image": "curlimages/curl:8.8.0",
       "fields": {"/spec/completions": 6, "/spec/parallelism": 2}}]),
    ("Create a Deployment named web with three replicas listening on port eight thousand eighty, requesting half a "
     "core", [{"kind": "Deployment", "name": "web", "replicas": 3, "ports": [8080], "requests": {"cpu": "500m"}}]),
    ("pvc registry-store 80gi rwo", [{"kind": "PersistentVolumeClaim", "name": "registry-store", "storage": "80Gi",
                                      "access_modes": ["ReadWriteOnce"]}]),
    # the pods' port is not the Service's; a typed "clusterip svc" is a Service; a port connected to is not declared
    ("make a svc for the pay pods, they listen on 8443 but clients hit 443 so forward 443 -> 8443",
     [{"kind": "Service", "ports": [443], "target_ports": [8443]}]),
    ("deploy api x2 img ghcr.io/acme/api:1.0 port 9898 + clusterip svc on 80",
     [{"kind": "Deployment", "name": "api", "image": "ghcr.io/acme/api:1.0", "replicas": 2, "ports": [9898]},
      {"kind": "Service", "ports": [80], "service_type": "ClusterIP"}]),
    ("a Pod named sync whose proxy sidecar is pointed at prod-db.internal on port 5432",
     [{"kind": "Pod", "name": "sync"}]),
    ("Create a Role named rotator in the same namespace granting get on secrets",
     [{"kind": "Role", "name": "rotator"}]),
    ("rb in staging -> clusterrole edit for that sa", [{"kind": "RoleBinding", "refs": {"ClusterRole": "edit"}}]),
])
def test_shorthand_and_numbers_in_words(text, expected):
    assert objects(text) == expected


@pytest.mark.parametrize("text, kinds", [
    ("the canary has to be a plain ReplicaSet rather than a Deployment", ["ReplicaSet"]),
    ("a Pod named web; nobody needs a Service for this yet", ["Pod"]),
    ("a Deployment with a persistent volume: a PVC named data of 1Gi", ["Deployment", "PersistentVolumeClaim"]),
    ("a namespace dev that enforces the baseline Pod Security level", ["Namespace"]),
    ("a StatefulSet db with 10Gi per pod on storage class gp3", ["StatefulSet"]),
    ("deploy + svc dont exist yet so pls write those too", ["Deployment", "Service"]),
    # a clause that tells what happened, an object set aside, one nobody gets, one another tool writes into
    ("Our pods got evicted when a batch job filled the node, so please add a PriorityClass named critical",
     ["PriorityClass"]),
    ("A namespaced Role is not enough here; write a ClusterRole named reader", ["ClusterRole"]),
    ("two deployments, web and worker, neither of them gets a service", []),
    ("What would the Ingress look like so that cert-manager puts the cert into a secret named web-tls? I shouldn't "
     "create that secret myself, right?", []),
    ("a sts for redis, 3 replicas, each one gets its own 5Gi pvc", ["StatefulSet"]),
    ("we kept a PV from the old cluster, pv-old. It's already re-created here. give me a pvc named archive that "
     "claims it", ["PersistentVolumeClaim"]),
    ("The api Deployment and the db StatefulSet run in ns prod. Both workloads already exist; we need a PDB named "
     "api-pdb", ["PodDisruptionBudget"]),
])
def test_objects_only_mentioned_or_refused_are_not_asked_for(text, kinds):
    assert [o["kind"] for o in objects(text)] == kinds


def test_long_and_hostile_requests_are_read_in_bounded_work():
    from kubedistill.context.request import MAX_CHARS, MAX_OBJECTS

    # a run of 65,000 digits took 264 s when a quantity could start at any digit; now one pass
    assert objects("a Deployment with " + "1" * 65_000 + " of CPU") == [{"kind": "Deployment"}]
    assert len(read_request(" ".join(f"a Deployment named d{i}" for i in range(5_000))).objects) == MAX_OBJECTS
    assert len(read_request("a Deployment " * 5_000).objects) == 1  # one kind said again and again: one object
    # past the first MAX_CHARS characters nothing more is held
    tail = " " * MAX_CHARS + "with 3 replicas"
    assert objects("a Deployment named web" + tail) == [{"kind": "Deployment", "name": "web"}]


REQUEST = ("A Deployment named web in namespace shop with 2 replicas running nginxinc/nginx-unprivileged:1.27 on "
           "port 8080, limited to 256Mi of memory, and a ClusterIP Service named web on port 80 targeting port 8080.")
ANSWER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginxinc/nginx-unprivileged:1.27
          ports: [{containerPort: 8080}]
          resources:
            limits: {memory: 256Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""


@pytest.mark.parametrize("change, rule_path", [
    (None, None),
    (("replicas: 2", "replicas: 3"), "/spec/replicas"),
    (("limits: {memory: 256Mi}", "requests: {memory: 256Mi}"), "/resources/limits/memory"),
    (("targetPort: 8080", "targetPort: 80"), "/spec/ports"),
    (("namespace: shop\nspec:\n  replicas", "namespace: default\nspec:\n  replicas"), "/metadata/namespace"),
])
def test_an_answer_is_held_to_the_request(change, rule_path):
    answer = ANSWER.replace(*change) if change else ANSWER
    verifier = Verifier(VerifyConfig(policy="baseline", context="off"))
    findings = [f for r in verifier.verify_text(answer, "a.yaml", spec=read_request(REQUEST)) for f in r.findings
                if f.rule.startswith("L4-SPEC")]
    if rule_path is None:
        assert findings == []
    else:
        assert len(findings) == 1 and findings[0].path.endswith(rule_path), findings
