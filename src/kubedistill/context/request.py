"""A user's request, read as a task spec: the requirements ``generate`` and ``serve`` check an answer against.

Evaluation tasks carry the spec their instruction was written from; a sentence typed by a user carries none, so
without this the verifier could only check syntax, API, policy and references, and an answer that dropped the
requested replica count or memory limit (the fine-tuned student's commonest miss) would pass and never be
repaired. This reads the requirements that a request states outright:

- the objects it asks for, by kind ("a Deployment", "a headless service", "a PVC", "a scheduled job"), each with
  the name and namespace it is given ("named web", "called cache", "in the prod namespace");
- workload values: image ("running nginx:1.27", "using the redis image"), replicas, container ports, env vars
  ("setting LOG_LEVEL to debug", "LOG_LEVEL=debug"), CPU and memory requests and limits ("requesting 250m of
  CPU", "limited to 256Mi of memory", "a 512Mi memory limit"), non-root and read-only root filesystem;
- Service type, ports and target ports; PVC storage and access modes; CronJob schedule (a cron expression, or
  "every 15 minutes", "daily at 02:30", "every Monday at 9am"); Ingress host and path; labels;
- references ("reading config from the ConfigMap app-config", "bound to the Role reader").

It is deliberately conservative, since every requirement it reads is one an answer is failed for: a phrase it does
not recognise adds nothing, values go to the object whose part of the request states them, ambiguous units
(MB, GB) are left out, and an object the request only refers back to ("expose the Deployment") is not asked for
twice. ``bench/request_specs.py`` measures it on the corpus: how many verified answers the read spec wrongly fails,
and how much of each task's own spec it recovers.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from kubedistill.context.numbers import spelled_out
from kubedistill.context.spec import ObjectRef, ObjectSpec, TaskSpec
from kubedistill.verify import cron

T = TypeVar("T")

WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"})
SCALABLE = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})
CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PersistentVolume",
                            "PriorityClass", "IngressClass"})

# kind -> pattern of its mention. A plural names no single object and is left alone.
_KIND_PATTERNS: dict[str, str] = {
    "Deployment": r"deploy\b|deployments?\b",
    "StatefulSet": r"sts\b|stateful\s?sets?\b",
    "DaemonSet": r"ds\b|daemon\s?sets?\b",
    "ReplicaSet": r"rs\b|replica\s?sets?\b",
    "CronJob": r"cj\b|(?:cron\s?jobs?|scheduled\s+(?:batch\s+)?jobs?)\b",
    "Job": r"jobs?\b",
    "Pod": r"po\b|pods?\b(?!['’]s|\s*(?:security|disruption|templates?|specs?|labels?|selectors?|level|"
           r"(?:anti-?)?affinity|"
           r"ips?|cidrs?|network|count|priority|names?|overhead|identity|logs?|-level)\b)",
    "ServiceAccount": r"sa\b|service\s?accounts?\b",
    "Service": r"svc\b|services?\b",
    "Ingress": r"ingress(?:es)?\b(?!\s*class)",
    "ConfigMap": r"cm\b|config\s?maps?\b(?!\s+(?:keys?|values?|names?|data|refs?|entr(?:y|ies))\b)",
    "Secret": r"secrets?\b(?!\s+(?:keys?|values?|names?|data|refs?|entr(?:y|ies))\b)",
    "PersistentVolumeClaim": r"(?:persistent\s?volume\s?claims?|pvcs?)\b",
    "PersistentVolume": r"(?:persistent\s?volumes?|pvs?)\b(?!\s?claim)",
    "PriorityClass": r"priority\s?class(?:es)?\b",
    "HorizontalPodAutoscaler": r"(?:horizontal\s?pod\s?autoscalers?|hpas?|autoscalers?)\b",
    "PodDisruptionBudget": r"(?:pod\s?disruption\s?budgets?|pdbs?)\b",
    "NetworkPolicy": r"netpol\b|network\s?polic(?:y|ies)\b",
    "ClusterRoleBinding": r"crb\b|cluster\s?role\s?bindings?\b",
    "ClusterRole": r"cluster\s?roles?\b",
    "RoleBinding": r"rb\b|role\s?bindings?\b",
    "Role": r"roles?\b",
    "ResourceQuota": r"quota\b|resource\s?quotas?\b",
    "LimitRange": r"limit\s?ranges?\b",
    "Namespace": r"ns\b|namespaces?\b(?!\s+(?:labels?|selectors?|names?|level|scoped|wide|isolation)\b|-)",
    "StorageClass": r"storage\s?class(?:es)?\b",
}
_ARTICLES = frozenset(["a", "an", "one", "the", "this", "that", "its", "their", "new", "single", "your", "my", "our",
                       "another"])
_PLAIN_WORDS: dict[str, frozenset[str]] = {
    "Job": frozenset({"a", "an", "one", "this", "new", "single", "another", "batch", "one-off", "one-shot",
                      "kubernetes", "k8s"}),  # "my job", "the job market" are plain English
    "Pod": frozenset({"bare", "standalone", "static", "debug", "single", "one-off", "test", "throwaway"}),
    "Service": _ARTICLES | {"headless", "clusterip", "nodeport", "loadbalancer", "balancer", "port", "k8s",
                            "kubernetes"},
    "Secret": _ARTICLES | {"opaque", "tls", "generic", "kubernetes", "k8s"},
    "Role": _ARTICLES | {"namespaced", "rbac", "read-only", "reader"},
    "Namespace": _ARTICLES | {"dedicated", "kubernetes", "k8s"},
    "Ingress": _ARTICLES | {"nginx", "kubernetes", "k8s", "http", "https", "tls"},
    # "a Deployment with a persistent volume" asks for storage; "a PersistentVolume" or "an nfs pv" for the kind
    "PersistentVolume": frozenset({"nfs", "static", "pre-provisioned", "kubernetes", "k8s"}),
    # "10Gi on storage class gp3", "the storage class called standard-rwo": a class to name, not to write
    "StorageClass": frozenset({"a", "an", "new", "one", "another", "single", "custom", "dedicated"}),
    "PriorityClass": frozenset({"a", "an", "new", "one", "another", "single", "custom", "dedicated"}),
}
"""Kind names that are also plain English count in lower case only after these words, so "the pods", "a web
service's users" or "in the prod namespace" add nothing; written as the kind ("Service") they always count."""
_KIND = re.compile(r"(?<![-\w./:])(?:" + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _KIND_PATTERNS.items())
                   + r")(?![-\w])", re.I)  # not inside a name: "ingress-nginx", "web-hpa", "BACKEND_SERVICE"

_NAME = r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?"
_LETTER_NAME = r"[a-z](?:[-a-z0-9.]*[a-z0-9])?"  # "namespace: 10 CPUs" names no namespace
_PRENAME = rf"\b(?:the|my|our|your|their)\s+[`\"']?({_NAME})[`\"']?\s+$"
"""A name before the kind, after a definite article or possessive ("the config-backup service account")."""
_NAMED_BACKEND = re.compile(r"(?:\bto|\bfrom|\bvia|\bthrough|\btargets?|\btargeting|\bagainst|\bbound\s+to)\s+"
                            + _PRENAME, re.I)
_NAMED = re.compile(rf"^[\s,:]*(?:-\s+)?(?:(?:that\s+is\s+|which\s+is\s+)?(?:named|called)|with\s+the\s+name"
                    rf"|with\s+name|name[:=]?)"
                    rf"\s+[`\"']?({_NAME})[`\"']?(?![-\w:])", re.I)
_QUOTED_NAME = re.compile(rf"^\s*[`\"']({_NAME})[`\"']")
_BARE_NAME = re.compile(rf"^\s*({_NAME})(?![-\w:=]|\.\w)")
"""A name right after a kind ("from Secret db-auth", "to Service api,"): taken when no English word looks like it
(a hyphen or digit in it), or when the kind is written as the kind and the name ends the clause."""
_STOP = frozenset(["a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "it", "its", "of", "on", "or",
                   "that", "the", "this", "to", "with", "without", "which", "who", "whose", "using", "running",
                   "runs", "run", "listening", "exposing", "exposed", "called", "named", "plus", "each", "every",
                   "per", "via", "so", "then", "only", "also", "must", "should", "will", "can", "may", "one", "two",
                   "three", "four", "five", "six", "seven", "eight", "nine", "ten", "all", "any", "both", "no", "not"])
_REF_CUE = re.compile(r"(?:(?:\bfrom|\bto|\buses?|\busing|\bmounts?|\bmounting|\breferenc(?:es|ing)|\breads?|"
                      r"\breading|\bvia|\bas|\bthrough|\bbound\s+to|\bagainst|\btargets?|\btargeting|\bfor|\bof|"
                      r"\bscal(?:e|es|ing)|\bbackends?)"
                      r"\s+(?:the\s+|a\s+|an\s+|its\s+|my\s+|our\s+|your\s+|their\s+|existing\s+)?"
                      r"(?:existing\s+)?"
                      r"|\bwith\s+(?:the|its|their|an?\s+existing)\s+)$", re.I)
_BACK_REFERENCE = re.compile(r"\b(?:the|this|that|these|those|it'?s|its|same|my|our|your|their|existing)\s+"
                             r"(?:one\s+|same\s+|"
                             r"very\s+)?$", re.I)
"""An object already asked for, or one that exists already ("my web Deployment")."""
_EXISTING_BEFORE = re.compile(r"\b(?:(?:pre-?|already[-\s]+)?existing|built-?in|"
                              r"already[-\s]+(?:created|deployed|provisioned|"
                              r"installed|defined)|(?:already\s+(?:has|have|got|contains?|ships?)|there(?:'s|\s+is)"
                              r"\s+already)(?:\s+(?:an?|the|one))?)\s+(?:[`\"']?[\w.-]+[`\"']?\s+){0,2}$", re.I)
_EXISTING_AFTER = re.compile(rf"(?:\s+[`\"']?({_NAME})[`\"']?)?[\s,(]*(?:(?:that|which)\s+(?:[\w-]+\s+){{0,2}}|we\s+|"
                             r"you\s+)?(?:already\s+(?:exists?|"
                             r"have|has|made|created|set\s+up|is\s+(?:there|in\s+(?:the\s+)?cluster|deployed|"
                             r"installed))|exists?\s+already|(?:is|was|has\s+been)\s+already\s+(?:there|in\s+(?:the\s+)?"
                             r"cluster|deployed|installed|created|made)|(?:has|have)\s+already\s+been\s+(?:created|"
                             r"made|deployed|installed))\b", re.I)
"""Words that say an object is in the cluster already; a name they give becomes ``TaskSpec.existing``."""
_EXISTENCE = re.compile(r"\balready\b|\bexists?\b|\bthere(?:['’]s|\s+is|\s+are)\s+"
                        r"(?:a|an|already)\b|\bleave\s+(?:\w+\s+){0,3}(?:alone|out|as\s+(?:it\s+is|they\s+are))\b|"
                        r"\b(?:don['’]?t|do\s+not|never)\s+(?:re-?)?(?:create|make|write|touch|recreate)\b|"
                        r"\b(?:runs|\w+s\s+run|live|lives|sit|sits)\s+as\s+(?:a|an)\b", re.I)
"""A sentence that speaks of objects in the cluster already ("The minio StatefulSet is already running ..., and so
is its headless Service"): a kind it names without a word of making it is one to use, not to write. "existing"
and "built-in" are left to the noun they stand before, and words after a mention that say it exists to that
mention: "an Ingress with the TLS secret shop-tls that cert-manager already created" still asks for the Ingress."""
_NOT_THERE = re.compile(r"\b(?:don['’]?t|doesn['’]?t|does\s+not|do\s+not|isn['’]?t|aren['’]?t|is\s+not|are\s+not|"
                        r"not)\s+"
                        r"(?:yet\s+|already\s+)?(?:exist|there|in\s+the\s+cluster)", re.I)
_CREATION = re.compile(r"\b(?:write|create|add|make|define|generate|(?:i|we)\s+(?:need|want)|need\s+(?:a|an|one)|"
                       r"set\s*up|"
                       r"give|provide|produce|build|spin\s+up|new|extra|another|recreate|deploy|put|i['’]?d\s+like|"
                       r"show\s+me|look\s+like)\b", re.I)
_SENTENCE_END = re.compile(r"[.!?;](?=\s)|\n(?=[ \t]*(?:[-*•+]|\d{1,2}[.)])\s)|\n[ \t]*\n")
"""Sentence ends; a line break ends one only before a bullet or a blank line (requests are often hard-wrapped)."""
_DEFINITE_NAMED = re.compile(rf"\b(?:the|this|that|our|my|your|their)\s+[`\"']?{_NAME}[`\"']?\s+$", re.I)
""""The shop namespace": one the request knows of, not one it asks for."""
_NEGATED = re.compile(r"\b(?:without|no|not|never|(?:don|shouldn|won|needn)['’]?t\s+(?:\w+\s+)?(?:add|create|include|"
                      r"write|make|need|bother\s+with)|(?:should|need)\s+not\s+(?:add|create|include|write|make)|"
                      r"do\s+not\s+"
                      r"(?:add|create|include|write|make|need|bother\s+with)|instead\s+of|rather\s+than|(?:nobody|no\s+one)"
                      r"\s+needs?|no\s+need\s+for|skip(?:ping)?\s+the|leave\s+out|(?:neither|none)\s+(?:of\s+(?:them|those|"
                      r"these|the\s+\w+)\s+|one\s+)?(?:gets?|needs?|has|have|wants?|should\s+get))"
                      r"\s+(?:a\s+|an\s+|any\s+|the\s+|that\s+|this\s+|those\s+|these\s+)?"
                      r"(?:[\w-]+\s+(?:or|nor)\s+(?:a\s+|an\s+|any\s+)?)?$",
                      re.I)

_NAMESPACE = re.compile(rf"\bin\s+(?:the\s+)?(?:existing\s+)?namespace\s+[`\"']?({_NAME})[`\"']?(?![-\w])"
                        rf"|\b(?:in|on|into)\s+(?:the\s+)?[`\"']?({_NAME})[`\"']?\s+namespace\b"
                        rf"|\bnamespace[:=]\s*[`\"']?({_LETTER_NAME})"
                        rf"|\b(?:in\s+)?ns(?:[:=]\s*|\s+(?:is\s+)?)[`\"']?({_NAME})[`\"']?(?![-\w])"
                        rf"|\b(?:namespace|ns)\s+is\s+[`\"']?({_NAME})[`\"']?(?=\s*(?:[.,;!\n]|$))"
                        rf"|(?<!\S)-n\s+({_NAME})(?![-\w])", re.I)
_NOT_NAMESPACES = _STOP | {"same", "target", "given", "current", "your", "my", "our", "their", "existing", "new",
                            "default-deny", "whole", "entire", "other", "app", "team"}
_NUMBER_WORDS = {w: i for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                              "nine", "ten"])}
_COUNT = r"(\d{1,6}|zero|one|two|three|four|five|six|seven|eight|nine|ten)"
_REPLICAS = re.compile(rf"\b{_COUNT}\s+(?:identical\s+|pod\s+)?replicas?\b"
                       rf"|\breplicas?\s*(?:count\s*)?(?:of|:|=|to|set\s+to)\s*{_COUNT}\b"
                       rf"|\breplica\s+count\s+(?:of\s+)?{_COUNT}\b|\bscaled?\s+to\s+{_COUNT}\b(?!\s*%)"
                       rf"|\b(?:running|runs|run|with)\s+{_COUNT}\s+(?:identical\s+)?(?:pods|copies|instances)\b"
                       rf"|(?<![\w./:-])x\s?(\d{{1,3}})(?![\w.])", re.I)  # "x3" in chat
_IMAGE_TOKEN = r"[a-z0-9][a-z0-9._/-]*(?::[A-Za-z0-9._-]+)?(?:@sha256:[a-f0-9]{64})?"
_IMAGES = (
    re.compile(rf"\b(?:image|img)[:=]?[ \t]+(?:(?:is|should\s+be|will\s+be|=)[ \t]+)?[`\"']?({_IMAGE_TOKEN})[`\"']?",
               re.I),  # "Image is nginx:1.27": the image, not "is"
    re.compile(rf"\b(?:using|uses|use|with|from|runs|running|run|based\s+on)\s+(?:the\s+|an?\s+)?(?:official\s+)?"
               rf"[`\"']?({_IMAGE_TOKEN})[`\"']?\s+(?:container\s+)?image\b", re.I),
    re.compile(rf"\b(?:runs|running|run|serving|serves|using|uses|use|for|of|with)\s+(?:the\s+)?[`\"']?({_IMAGE_TOKEN})"
               rf"[`\"']?",
               re.I),
)
_NOT_IMAGES = _STOP | frozenset({"image", "container", "docker", "official", "latest", "nightly", "daily",
                                 "hourly", "weekly", "monthly", "once", "continuously", "forever", "root",
                                 "non-root", "user", "same", "following", "default", "custom", "own"})
_PORT_NUMBER = r"(\d{2,5})"
_TARGET_PORT = re.compile(rf"\btarget\s*port[:=]?\s+{_PORT_NUMBER}\b"
                          rf"|\btargeting\s+(?:container\s+)?port\s+{_PORT_NUMBER}"
                          rf"|\b(?:forwarding|forwards|routing|routes|sending\s+traffic|mapped|mapping)\s+(?:traffic\s+)?"
                          rf"to\s+(?:the\s+)?(?:containers?['’]?s?\s+|pods?['’]?s?\s+|target\s+)?port\s+{_PORT_NUMBER}"
                          rf"|\bport\s+\d{{2,5}}\s*(?:->|→|to)\s*{_PORT_NUMBER}\b"
                          rf"|(?<![\w:.])\d{{2,5}}\s*(?:->|→)\s*{_PORT_NUMBER}\b", re.I)
_NODE_PORT = re.compile(rf"\bnode\s*port\s*[:=]\s*{_PORT_NUMBER}|\bnode\s+port\s+{_PORT_NUMBER}", re.I)
"""A node port is "nodePort: 30080" or "node port 30080"; "nodeport 3000" in chat is the type and the port."""
_PORTS = re.compile(rf"\b(?:container\s*)?ports?[:=]?\s+{_PORT_NUMBER}((?:\s*(?:,|and|&)\s*\d{{2,5}})*)\b"
                    rf"|\blisten(?:s|ing)?\s+on\s+(?:port\s+)?{_PORT_NUMBER}\b"
                    rf"|\bon\s+{_PORT_NUMBER}\b(?![-:/]|\.\d|\s*(?:%|[a-z]))"  # not a date, time or size
                    rf"|(?<![\w:/.-]):{_PORT_NUMBER}\b(?![-:/.\w])", re.I)  # "nginx:1.27 :80"
_ENV_NAME = r"([A-Z][A-Z0-9_]*[A-Z0-9])"
_NOT_ENV = frozenset({"CPU", "TCP", "UDP", "SCTP", "HTTP", "HTTPS", "API", "YAML", "JSON", "DNS", "TLS", "SSL",
                      "RAM", "GPU", "ID", "URL", "IP", "PVC", "HPA", "PDB", "RBAC", "RWO", "RWX", "ROX", "TTL",
                      "UTC", "AM", "PM", "OK", "ALL", "NET_ADMIN", "NET_BIND_SERVICE", "SYS_ADMIN"})
_ENV = (
    re.compile(rf"(?<![\w-]){_ENV_NAME}=([^\s;`\"']+|\"[^\"]*\"|'[^']*')"),
    re.compile(rf"\b(?i:sets?|setting|env(?:ironment)?(?:\s+var(?:iable)?)?|var(?:iable)?)\s+[`\"']?{_ENV_NAME}[`\"']?"
               rf"\s+(?:to|=|as)\s+[`\"']?([^\s;`\"']+)"),
)
_QTY = r"(?<![\d.])(\d{1,9}(?:\.\d{1,9})?)\s*"  # a bounded number starting a number: no quadratic backtracking
_BYTES = r"(Ki|Mi|Gi|Ti|KiB|MiB|GiB|TiB)"  # binary units only: "512MB" may mean 512M or 512Mi
_MEMORY = re.compile(rf"{_QTY}{_BYTES}\b(?:\s+of)?\s+(?:memory|ram)\b"
                     rf"|\b(?:memory|ram)\s+(?:request|limit)?s?\s*(?:of|:|=|to|at)?\s*{_QTY}{_BYTES}\b",
                     re.I)
_CPU = re.compile(rf"{_QTY}(m|millicores?|millicpus?|milli-?cores?|cores?|vcpus?|cpus?)?(?:\s+of)?"
                  rf"\s+(?:cpu|cores?|vcpus?)\b"
                  rf"|\bcpu\s+(?:request|limit)?s?\s*(?:of|:|=|to|at)?\s*{_QTY}(m|millicores?|cores?)?\b(?!\s*(?:%|[a-z]))"
                  rf"|{_QTY}(millicores?|millicpus?)\b", re.I)
_REQUEST_CUE = re.compile(r"\brequest(?:s|ing|ed)?\b|\breserv(?:e|es|ing)\b|\bguarantee[ds]?\b", re.I)
_LIMIT_CUE = re.compile(r"\blimit(?:s|ed|ing)?\b|\bcapped\b|\bcap(?:s)?\b|\bat\s+most\b|\bno\s+more\s+than\b"
                        r"|\bmax(?:imum)?\b",
                        re.I)
_STORAGE = re.compile(rf"{_QTY}{_BYTES}\b(?:\s+of)?\s+(?:persistent\s+)?"
                      rf"(?:storage|disk|volume|space)\b"
                      rf"|\b(?:storage|disk|volume)\s+(?:size\s+|request\s+)?(?:of|:|=)?\s*{_QTY}{_BYTES}\b",
                      re.I)
_SIZE = re.compile(rf"\b(?:of|with|requesting|sized?|size\s+of)\s+{_QTY}{_BYTES}\b"
                   rf"(?!\s+(?:of\s+)?(?:memory|ram))()()", re.I)
"""A claim's size may stand alone ("a PVC named data of 10Gi"); groups 3 and 4 keep _STORAGE's numbering."""
_LONE_SIZE = re.compile(rf"{_QTY}{_BYTES}\b(?!\s+(?:of\s+)?(?:memory|ram)\b)", re.I)
_ACCESS_MODES = {"readwriteonce": "ReadWriteOnce", "readonlymany": "ReadOnlyMany", "readwritemany": "ReadWriteMany",
                 "readwriteoncepod": "ReadWriteOncePod", "rwo": "ReadWriteOnce", "rox": "ReadOnlyMany",
                 "rwx": "ReadWriteMany", "rwop": "ReadWriteOncePod"}
_ACCESS = re.compile(r"(?<![-\w])(" + "|".join(_ACCESS_MODES) + r")(?![-\w])", re.I)
_CRON = re.compile(r"[`\"']((?:\S+\s+){4}\S+)[`\"']"
                   r"|(?<![\w/*])((?:[\d*][\d*/,-]*\s+){4}[\d*][\d*/,A-Za-z-]*)(?![\w/*])")
_DAYS = {d: i for i, d in enumerate(["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"])}
_TIME = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
_SCHEDULES = (  # "hourly" and "every 2 hours" leave the minute open: no requirement
    (re.compile(r"\bevery\s+(\d{1,2})\s+minutes?\b", re.I), lambda m: f"*/{m[1]} * * * *"),
    (re.compile(r"\bevery\s+minute\b", re.I), lambda m: "* * * * *"),
    (re.compile(rf"\b(?:every\s+day|daily|nightly|each\s+day|every\s+night)\s*,?\s*at\s+{_TIME}", re.I),
     lambda m: _at(m, 1, "* * *")),
    (re.compile(rf"\bevery\s+({'|'.join(_DAYS)})\s+at\s+{_TIME}", re.I),
     lambda m: _at(m, 2, f"* * {_DAYS[m[1].lower()]}")),
    (re.compile(rf"\bmonthly\s*,?\s+on\s+the\s+1st\s+at\s+{_TIME}", re.I), lambda m: _at(m, 1, "1 * *")),
    (re.compile(r"\b(?:every\s+day|daily|nightly)\s+at\s+midnight\b|\bat\s+midnight\s+every\s+day\b", re.I),
     lambda m: "0 0 * * *"),
)
_SERVICE_TYPES = re.compile(r"\b(node\s?port|load\s?balancer|cluster\s?ip|external\s?name)\b(?!\s*:\s*none)", re.I)
_TYPE_NAMES = {"nodeport": "NodePort", "loadbalancer": "LoadBalancer", "clusterip": "ClusterIP",
               "externalname": "ExternalName"}
_HEADLESS = re.compile(r"\bheadless\b|\bclusterip\s*:\s*none\b", re.I)
_HOST = re.compile(r"\b(?:host(?:name)?|domain|at|on|for|serving|serves|via)\s+[`\"']?((?:[a-z0-9-]+\.)+[a-z]{2,})\b",
                   re.I)
_PATH = re.compile(r"(?:\bpath\s+(?:prefix\s+)?|\bprefix\s+"
                   r"|\b(?:at|on|under|routing|routes?|sending|forwarding|serving|for)\s+(?:the\s+)?)"
                   r"[`\"']?(/[\w./-]*)()[`\"']?(?=[\s,;]|[.?!](?:\s|$)|$)",
                   re.I)
_BACKEND_PORT = re.compile(r"\b(?:service|backend)\s+port[:=]?\s+(\d{2,5})\b", re.I)
_LABEL_KEY = r"([a-z0-9](?:[a-z0-9./-]*[a-z0-9])?)"
_LABEL_VALUE = r"([A-Za-z0-9](?:[\w.-]*[A-Za-z0-9])?)"  # begins and ends alphanumeric: "app=db." ends the sentence
_POD_LABEL = rf"pods?\s+(?:labell?ed|with\s+(?:the\s+)?labels?)\s+[`\"']?{_LABEL_KEY}\s*[=:]\s*{_LABEL_VALUE}[`\"']?"
_POLICY_TARGET = re.compile(rf"\b(?:protect(?:s|ing)?|select(?:s|ing)?|appl(?:y|ies|ying)\s+to|isolat(?:e|es|ing)|"
                            rf"cover(?:s|ing)?|guard(?:s|ing)?|to)\s+(?:the\s+|all\s+)?{_POD_LABEL}", re.I)
_POLICY_SOURCE = re.compile(rf"\bfrom\s+(?:the\s+|only\s+the\s+)?{_POD_LABEL}"
                            rf"|\bfrom\s+[`\"']?{_LABEL_KEY}={_LABEL_VALUE}[`\"']?\s+pods\b", re.I)
_SELECTED = re.compile(rf"\b(?:for|covering|protecting|selecting|selects?|targeting|targets?|routing\s+to|routes?\s+to|"
                       rf"sending\s+traffic\s+to|to|of|matching)\s+(?:the\s+|all\s+)?(?:{_POD_LABEL}|pods?\s+with\s+"
                       rf"[`\"']?{_LABEL_KEY}\s*[=:]\s*{_LABEL_VALUE}[`\"']?)", re.I)
"""The pods a Service or a PodDisruptionBudget selects ("selecting pods labeled app=web")."""
_BACKOFF = re.compile(r"\bbackoff\s*limit\s*(?:of|:|=|to)?\s*(\d{1,3})\b"
                      r"|\bretry(?:ing)?\s+at\s+most\s+(\d{1,3})\s+times\b|\bbackoffLimit[:=]?\s*(\d{1,3})\b", re.I)
_COMPLETIONS = re.compile(rf"\bcompletions?[:=]?\s*(?:of\s+)?{_COUNT}\b(?!\s*%)"
                          rf"|(?<![\w.:-]){_COUNT}\s+(?:total\s+)?completions\b", re.I)
_PARALLELISM = re.compile(rf"\bparallel(?:ism)?[:=]?\s*(?:of\s+)?{_COUNT}\b(?!\s*%)"
                          rf"|(?<![\w.:-]){_COUNT}\s+(?:pods?\s+|at\s+a\s+time\s+|workers\s+)?in\s+paral+el\b", re.I)
_CONCURRENCY = re.compile(r"\bconcurrency\s*policy[:=]?\s*[`\"']?(forbid|replace|allow)\b"
                          r"|\bnever\s+(?:running|run|runs)\s+(?:two|2)\s+(?:jobs|runs)\s+at\s+once\b"
                          r"|\bno\s+(?:overlapping|concurrent)\s+runs\b", re.I)
_SECRET_ENTRY = re.compile(r"\b(?:holding|containing|storing|with|and)\s+(?:the\s+)?([A-Za-z][\w.-]*[A-Za-z0-9])="
                           r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s;,\"'`]+)")
_EXTERNAL_NAME = re.compile(r"\b(?:pointing\s+(?:at|to)|resolv(?:es|ing)\s+to|external\s*name[:=]?|cname\s+(?:for|to))"
                            r"\s+(?:the\s+)?(?:external\s+)?(?:host\s+)?[`\"']?((?:[a-z0-9-]+\.)+[a-z]{2,})\b", re.I)
_POLICY_PORT = re.compile(r"\b(?:on|to|over|via)\s+(?:tcp\s+|udp\s+)?port\s+(\d{2,5})\b", re.I)
_EGRESS = re.compile(r"\begress\b|\boutgoing\b|\boutbound\b", re.I)
_CPU_QTY = r"(\d{1,6}(?:\.\d{1,3})?m?)(?!\w|\.\d)"
_MEM_QTY = r"(\d{1,6}(?:\.\d{1,3})?(?:Ki|Mi|Gi|Ti))(?:B\b|(?!\w|\.\d))"
_OF = r"\s*(?:quota\s*)?(?:of|:|=|to|at)?\s*"
_QUOTA = {
    "/spec/hard/requests.cpu": re.compile(rf"\b(?:cpu\s+requests?|requests\.cpu){_OF}{_CPU_QTY}", re.I),
    "/spec/hard/requests.memory": re.compile(rf"\b(?:memory\s+requests?|requests\.memory){_OF}{_MEM_QTY}", re.I),
    "/spec/hard/limits.cpu": re.compile(rf"\b(?:cpu\s+limits?|limits\.cpu){_OF}{_CPU_QTY}", re.I),
    "/spec/hard/limits.memory": re.compile(rf"\b(?:memory\s+limits?|limits\.memory){_OF}{_MEM_QTY}", re.I),
    "/spec/hard/pods": re.compile(r"\b(?:(?:a\s+)?limit\s+of|at\s+most|no\s+more\s+than|up\s+to|a\s+maximum\s+of)\s+"
                                  r"(\d{1,6})\s+pods\b|\bpods[:=]\s*(\d{1,6})\b", re.I),
}
"""A ResourceQuota's values, each only with its own word: a bare "4 CPUs" may be written as ``cpu`` or
``requests.cpu`` (the same quota to the API server, two paths to a checker)."""
_DEFAULTS = {
    "/spec/limits/0/defaultRequest/cpu": re.compile(rf"\bdefault\s+(?:container\s+)?cpu\s+requests?{_OF}{_CPU_QTY}",
                                                    re.I),
    "/spec/limits/0/defaultRequest/memory": re.compile(
        rf"\bdefault\s+(?:container\s+)?memory\s+requests?{_OF}{_MEM_QTY}", re.I),
    "/spec/limits/0/default/cpu": re.compile(rf"\bdefault\s+(?:container\s+)?cpu\s+limits?{_OF}{_CPU_QTY}", re.I),
    "/spec/limits/0/default/memory": re.compile(rf"\bdefault\s+(?:container\s+)?memory\s+limits?{_OF}{_MEM_QTY}",
                                                re.I),
}
"""A LimitRange's container defaults; its first (only) limit is the container one unless the request speaks of
pod or claim limits too."""
_OTHER_LIMITS = re.compile(r"\btype\s+pod\b|\bper\s+pod\b|\bpod-level\b|\bpersistent\s?volume\s?claims?\b|\bpvcs?\b"
                           r"|\bmax(?:imum)?\b|\bmin(?:imum)?\b", re.I)
_NON_ROOT = re.compile(r"\bnon-?root\b|\bnot\s+(?:to\s+)?run\s+as\s+root\b|\brunAsNonRoot\b"
                       r"|\bnever\s+(?:runs?\s+)?as\s+root\b",
                       re.I)
_READ_ONLY = re.compile(r"\bread-?only\s+root\s*(?:file\s?system|fs)\b|\breadOnlyRootFilesystem\b", re.I)
_RANGE = re.compile(rf"\b(?:between\s+{_COUNT}\s+and|from\s+{_COUNT}\s+(?:to|up\s+to)|{_COUNT}\s*(?:-|–|to)\s*)"
                    rf"\s*{_COUNT}\s+(?:replicas|pods|instances|copies)\b", re.I)
_MIN_REPLICAS = re.compile(rf"\bmin(?:imum)?\s*replicas?[:=]?\s*(?:of\s+|to\s+)?{_COUNT}\b"
                           rf"|\b(?:at\s+least|a\s+minimum\s+of|no\s+fewer\s+than|never\s+(?:fewer|less)\s+than|"
                           rf"(?:scal(?:e|es|ing)\s+)?down\s+to)\s+{_COUNT}\s+(?:replicas|pods|instances)\b", re.I)
_MAX_REPLICAS = re.compile(rf"\bmax(?:imum)?\s*replicas?[:=]?\s*(?:of\s+|to\s+)?{_COUNT}\b"
                           rf"|\b(?:at\s+most|a\s+maximum\s+of|no\s+more\s+than|up\s+to|never\s+more\s+than|"
                           rf"(?:scal(?:e|es|ing)\s+)?(?:out|up)\s+to)\s+{_COUNT}\s+(?:replicas|pods|instances)\b",
                           re.I)
_BUDGET = r"(\d{1,4}\s*%|" + _COUNT[1:]  # a count or a percentage
_MIN_AVAILABLE = re.compile(rf"\bmin(?:imum)?\s*available[:=]?\s*(?:of\s+|to\s+)?{_BUDGET}(?![\w.])"
                            rf"|\bat\s+least\s+{_BUDGET}\s+(?:of\s+(?:the|its|their)\s+)?(?:pods?|replicas?)\s+"
                            rf"(?:(?:to\s+be|to\s+stay|to\s+remain|stay|stays|remain|remains|are|is|must\s+be)\s+)?"
                            rf"(?:available|up|running)\b", re.I)
_MAX_UNAVAILABLE = re.compile(rf"\bmax(?:imum)?\s*unavailable[:=]?\s*(?:of\s+|to\s+)?{_BUDGET}(?![\w.])"
                              rf"|\b(?:at\s+most|no\s+more\s+than|only)\s+{_BUDGET}\s+(?:of\s+(?:the|its|their)\s+)?"
                              rf"(?:pods?|replicas?)\s+(?:(?:to\s+be|can\s+be|may\s+be|is|are|at\s+a\s+time|goes|go)"
                              rf"\s+)?(?:unavailable|down|disrupted)\b", re.I)
_DATA_KEY = re.compile(r"\b(?:the\s+)?key\s+[`\"']?([A-Za-z0-9][-._A-Za-z0-9]*)[`\"']?\s+(?:set\s+)?(?:to|=)\s+"
                       r"(\"[^\"\n]*\"|'[^'\n]*'|`[^`\n]*`|[^\s;,\"'`]+)", re.I)
_LABEL = re.compile(r"(?:\b(?:with|has|having|carrying)\s+(?:the\s+|a\s+)?labels?|(?<!pods\s)(?<!pod\s)\blabell?ed"
                    r"(?:\s+with)?)\s+[`\"']?([a-z0-9][a-z0-9./-]*)\s*[=:]\s*([\w.-]+)[`\"']?", re.I)
"""The object's own labels ("labelled tier=web"); "the pods labeled app=web" selects other objects."""


REFERABLE: dict[str, frozenset[str]] = {
    **{kind: frozenset({"ConfigMap", "Secret", "PersistentVolumeClaim", "ServiceAccount"}) for kind in WORKLOADS},
    "RoleBinding": frozenset({"Role", "ClusterRole"}),
    "ClusterRoleBinding": frozenset({"ClusterRole"}),
    "Ingress": frozenset({"Service", "Secret"}),
    "HorizontalPodAutoscaler": frozenset({"Deployment", "StatefulSet", "ReplicaSet"}),
}
"""What an object of each kind can name, as L4 finds references (``verify/facts.py``)."""
_QUALIFIERS = frozenset({"headless", "clusterip", "nodeport", "loadbalancer", "externalname", "new", "existing", "same",
                         "main", "following", "whole", "entire", "default", "above", "below", "other", "first",
                         "second", "built-in", "builtin", "predefined", "pre-existing", "preexisting"})
_NOT_PRENAMES = _STOP | _QUALIFIERS
_QUALIFIER = {
    "Service": re.compile(r"(?:\b(?:headless|node\s?port|load\s?balancer|cluster\s?ip|external\s?name)\s+)+$", re.I),
    "Secret": re.compile(r"(?:\b(?:tls|opaque|generic|docker-?registry|pull|image\s+pull|basic-auth)\s+)+$", re.I),
}
"""Words between an article or cue and the kind they qualify ("with the TLS secret", "as a NodePort service")."""


@dataclass
class _Mention:
    kind: str
    start: int
    end: int
    name: str | None = None
    cued: bool = False
    """After a reference cue ("reading config from the", "bound to the"): a reference when the object being
    described can name this kind, and never a new object."""
    back: bool = False
    """After a definite article ("expose the Deployment"): the object already asked for, when there is one."""
    indefinite: bool = False
    """After "a" or "an": a new object, even after a cue ("exposed through a LoadBalancer Service")."""
    plain: bool = False
    """Written in lower case: for "deployment" possibly the everyday word."""
    shared: bool = False
    """Joined to the mention before it with nothing between ("deploy + svc, img x, port 8080"): what follows is
    about both, and which value is whose is not said."""
    said_after: tuple[int, int] = (0, 0)
    """Where the words after it that say it exists stand ("... that cert-manager already created")."""
    existing: bool = False
    """Said to exist already ("the existing db-creds secret", "a StorageClass fast-ssd that already exists"): an
    object to use, never one to write."""


MAX_CHARS = 16_000
"""Only the first this many characters of a request are read (a request is a sentence or a short list, and the
patterns' cost grows with the text): requirements beyond them are not held, which is the safe side."""
MAX_OBJECTS = 64


def read_request(text: str) -> TaskSpec | None:
    """The requirements ``text`` states outright, as a task spec; None when it names no object."""
    text = spelled_out(text[:MAX_CHARS])
    breaks = _Breaks(text)
    mentions = _mentions(text, breaks)
    objects: list[ObjectSpec] = []
    existing: list[ObjectRef] = []
    referenced: set[str] = set()  # kinds spoken of as in the cluster already
    created: set[int] = set()  # the mentions that introduce an object (its bullet is its own)
    owners: list[ObjectSpec | None] = []  # the object each mention's part of the text describes
    for mention in mentions:
        current = owners[-1] if owners else None  # the object whose part of the request this is in
        referable = mention.kind in REFERABLE.get(current.kind if current else "", ())
        if not mention.existing and (_in_the_cluster(text, mention, mentions, breaks) or _said_to_exist_later(
                text, mention, mentions, breaks)):
            owners.append(current)  # spoken of as there already: nothing to write, and not sure enough to forbid
            referenced.add(mention.kind)
            continue
        if mention.back and mention.kind in referenced and not any(o.kind == mention.kind for o in objects):
            owners.append(None)  # "the ConfigMap needs X=1" after one spoken of as there already: whose is unclear
            continue
        if mention.existing:  # to be used, not written: the answer must not write it again
            referenced.add(mention.kind)
            if mention.name and ObjectRef(mention.kind, mention.name) not in existing:
                existing.append(ObjectRef(mention.kind, mention.name))
                if referable:
                    current.refs.setdefault(mention.kind, mention.name)
            owners.append(current)
            continue
        if mention.cued and current is not None and (referable or not mention.indefinite):
            if mention.name and referable:
                current.refs.setdefault(mention.kind, mention.name)
            owners.append(current)  # "sending traffic to the Service": this object's part goes on
            continue
        if current is None and _STORED_IN.search(text, max(0, mention.start - 60), mention.start) and not (
                _CREATION.search(text, max(0, mention.start - 40), mention.start)):
            owners.append(None)  # "cert-manager stores the cert in a secret called x": pointed at, not asked for
            continue
        if mention.kind == "PersistentVolumeClaim" and current is not None and current.kind == "StatefulSet" and (
                not mention.name) and re.search(r"\b(?:each|every|its\s+own|their\s+own|per)\b[^.;\n]*$",
                                               text[max(0, mention.start - 40): mention.start], re.I):
            owners.append(current)  # "a sts, each replica gets its own 5Gi pvc": its claim template, not a PVC
            continue
        same = [o for o in objects
                if o.kind == mention.kind and (mention.name is None or o.name in (None, mention.name))]
        if same and (mention.back or mention.name):  # "a scheduled job ... A CronJob called backup": one object
            same[-1].name = same[-1].name or mention.name
            owners.append(same[-1])
            continue
        if mention.back and (current is not None or mention.cued or not _CREATION.search(
                text, max(0, mention.start - 40), mention.start)):
            # "on the fast-rwo storage class", "route traffic to the api service": one that exists already, not one
            # to write
            owners.append(current)
            continue
        if len(objects) == MAX_OBJECTS:
            owners.append(None)  # no request names this many objects one by one: the rest are not held
            continue
        objects.append(ObjectSpec(kind=mention.kind, name=mention.name))
        created.add(id(mention))
        owners.append(objects[-1])
    for i, (mention, owner) in enumerate(zip(mentions, owners, strict=True)):
        if owner is not None and not mention.shared:
            end = mentions[i + 1].start if i + 1 < len(mentions) else len(text)
            part = _own_part(text, mention.start, end, id(mention) in created,
                             owner.kind in WORKLOADS or len(objects) == 1)
            _describe(owner, part, env=not (
                owner.kind in WORKLOADS and mention.kind in ("ConfigMap", "Secret")))
    objects = _without_bare_repeats(objects)
    _one_namespace(objects, text)
    return TaskSpec(objects=objects, existing=existing) if objects or existing else None


def _one_namespace(objects: list[ObjectSpec], text: str) -> None:
    """A request that places objects in one namespace, and names no other, places all of them there ("deploy +
    svc in ns shop"): each namespaced object without one of its own gets it."""
    named = {_group(m) for m in _NAMESPACE.finditer(text)} - _NOT_NAMESPACES
    named |= {o.namespace for o in objects if o.namespace}
    if len(named) == 1 and not any(o.kind == "Namespace" for o in objects):
        place = named.pop()
        for obj in objects:
            if obj.kind not in CLUSTER_SCOPED and obj.namespace is None:
                obj.namespace = place


def _without_bare_repeats(objects: list[ObjectSpec]) -> list[ObjectSpec]:
    """A kind said twice, once with nothing of its own ("a Deployment with a PDB: - a Deployment named web ...
    - a PDB ..."), is one object as far as anyone can be sure: each required object needs a document of its own,
    so the bare repeat is dropped rather than asking for a second."""
    kept = list(objects)
    for obj in objects:
        if obj.to_dict() == {"kind": obj.kind} and sum(o.kind == obj.kind for o in kept) > 1:
            kept.remove(obj)
    return kept


_BUILTIN_CLUSTER_ROLES = frozenset({"view", "edit", "admin", "cluster-admin"})
"""The user-facing ClusterRoles every cluster ships: bound to, never written."""
_CLAUSE_END = re.compile(r"[,.;:!?](?=\s)|\n")
_OTHERS = re.compile(r"(?:[a-z]+[^s\W]s|pods?|those|these|ones|anything|everything|stuff|things?|traffic|only|"
                     r"something|whatever|anyone|nodes?)", re.I)
"""A plural before "labeled": labels of the objects it names, not of the object described."""
_SELECTING = frozenset({"NetworkPolicy", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"})
_BULLET = re.compile(r"[ \t]*(?:[-*•+]|\d{1,2}[.)])\s")
_INTO_NEXT = re.compile(r"\b(?:from|into|inside|in\s+(?:a|an))\s+(?:the\s+|a\s+|an\s+|our\s+|its\s+)?"
                        r"(?:existing\s+|new\s+)?"
                        r"[\w-]*\s*$", re.I)
_KEY_VALUE = re.compile(r"\b[A-Za-z][\w.-]*=(?:\"[^\"]*\"|'[^']*'|\S+)")
_SENTENCE_STOP = re.compile(r"[.!?;](?=\s+\S)")


def _own_part(text: str, start: int, end: int, introduces: bool, workload: bool = True) -> str:
    """The text whose values belong to the mention at ``start``: up to the next mention, but not past the end of
    its own bullet ("* new secret wp-db ...\n* MARIADB_USER=wp": the next bullet is about something else), and not
    the KEY=value entries of the last clause when that clause leads into the next object ("..., and X=1 plus Y=2
    from a secret called s")."""
    line_start = text.rfind("\n", 0, start) + 1
    if introduces and _BULLET.match(text, line_start) and (line_end := text.find("\n", start, end)) != -1:
        return text[start:line_end]
    part = text[start:end]
    if end < len(text) and (lead := _INTO_NEXT.search(part)):  # its KEY=value entries are the next object's
        cut = max((m.start() for m in _CLAUSE_END.finditer(part, 0, lead.start())), default=0)
        part = part[:cut] + _KEY_VALUE.sub(lambda m: " " * len(m.group(0)), part[cut:])
    if not workload and (stop := _SENTENCE_STOP.search(part)):
        part = part[:stop.start()]  # "deploy + svc in ns x. image y on 3000": the next sentence is the workload's
    return part


_STORED_IN = re.compile(r"(?:\binto|\b(?:stores?|stored|storing|puts?|keeps?|writes?|issues?)\s+(?:the\s+|its\s+|"
                        r"their\s+)?(?:certs?|certificates?|keys?|it|them)\s+in(?:to)?)\s+(?:the\s+|a\s+|an\s+)?$",
                        re.I)
"""Where something else puts what it makes ("cert-manager stores the cert in a secret called x"): pointed at."""
_DISMISSED = re.compile(r"\s*(?:is|are|was|were)\s+(?:not|n['’]t)\s+(?:enough|sufficient|what\s+(?:i|we)\s+"
                        r"(?:want|need))|\s*(?:isn['’]t|aren['’]t|wasn['’]t)\s+(?:enough|sufficient)"
                        r"|\s*won['’]t\s+(?:do|work|cut\s+it)\b",
                        re.I)
"""Words after a mention that set it aside ("a namespaced Role is not enough here"): not one to write."""
_NARRATIVE = re.compile(r"\b(?:when|whenever|after|because|since|until|while|last\s+time|the\s+time)\b[^,;:.!?\n]*$",
                        re.I)
"""A mention inside a clause that tells what happened or why ("the pods got evicted when a batch job ate a node"):
the story around a request, not an object it asks for."""
_REFUSED = re.compile(r"[^.!?;]*?,\s*(?:so\s+)?(?:please\s+|pls\s+)?(?:don['’]?t|do\s+not)(?:\s+do\s+(?:that|it))?"
                      r"(?:\s+again)?\s*[.!]?\s*$", re.I)
"""A sentence that closes by refusing what it tells ("someone added an extra NodePort service, please don't")."""


class _Breaks:
    """The request's sentence ends and words that say objects exist, found once: every mention asks which sentence
    it stands in and what that sentence says (a long request has hundreds of mentions)."""

    def __init__(self, text: str) -> None:
        self.size = len(text)
        found = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text)]
        self.starts, self.ends = [a for a, _ in found], [b for _, b in found]
        self.cues = [m.start() for m in _EXISTENCE.finditer(text)]

    def cues_in(self, start: int, end: int) -> list[int]:
        """Where words saying objects exist start within ``text[start:end]``."""
        return self.cues[bisect.bisect_left(self.cues, start): bisect.bisect_left(self.cues, end)]

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """Where the sentence holding ``text[start:end]`` begins and ends (before its closing mark)."""
        before = bisect.bisect_right(self.ends, start)
        after = bisect.bisect_left(self.starts, end)
        return (self.ends[before - 1] if before else 0), (self.starts[after] if after < len(self.starts) else self.size)

    def end_after(self, at: int) -> int:
        """The end of the first sentence mark at or after ``at`` (its closing mark included)."""
        after = bisect.bisect_left(self.starts, at)
        return self.ends[after] if after < len(self.ends) else self.size


def _in_the_cluster(text: str, mention: _Mention, mentions: list[_Mention], breaks: _Breaks) -> bool:
    """Whether the mention's sentence says objects exist already, with no word of making one before the mention;
    words that say another mention exists, after it, are that mention's alone."""
    start, end = breaks.sentence(mention.start, mention.end)
    cues = breaks.cues_in(start, end)
    if not cues:
        return False
    others = [m.said_after for m in mentions if m is not mention]
    said = any(not any(a <= cue < b for a, b in others) for cue in cues)
    return said and not _NOT_THERE.search(text, start, end) and not _CREATION.search(text, start, mention.start)


_ALL_EXIST = re.compile(r"\b(?:both|all|the\s+two|the\s+three|these|those)\s+(?:of\s+)?(?:the\s+)?(?:[\w-]+\s+)?"
                        r"(?:workloads|deployments|statefulsets|daemonsets|apps|services|objects|ones|them)\s+"
                        r"(?:already\s+(?:exist|run|are\s+running)|exist\s+already|(?:are|were)\s+already\s+(?:there|running|"
                        r"deployed|created|in\s+(?:the\s+)?cluster))\b", re.I)
_IT_EXISTS = re.compile(r"\s*(?:it|this\s+one|that\s+one)(?:['’]s|\s+is|\s+was|\s+has\s+been)?\s+already\b", re.I)


def _said_to_exist_later(text: str, mention: _Mention, mentions: list[_Mention], breaks: _Breaks) -> bool:
    """Whether a later sentence says the mentioned object exists: "... a PV from the old cluster. It's already
    re-created here" (the next sentence, of the last object named before it), or "Both workloads already exist"
    (of every workload named before it, unless its own sentence asks for it)."""
    start, end = breaks.sentence(mention.start, mention.end)
    if _CREATION.search(text, start, mention.start):
        return False
    if mention.kind in WORKLOADS and any(m.start() > mention.end for m in _ALL_EXIST.finditer(text)):
        return True
    later = [m for m in mentions if mention.end <= m.start < end]
    return not later and bool(_IT_EXISTS.match(text, min(end + 1, len(text))))


def outline(spec: TaskSpec) -> str:
    """The requirements in one line, so a user sees what an answer is held to ("Deployment web: replicas=2")."""
    parts = []
    for obj in spec.objects:
        values = {k: v for k, v in obj.to_dict().items() if k not in ("kind", "name")}
        said = ", ".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in values.items())
        parts.append(f"{obj.kind}{' ' + obj.name if obj.name else ''}{': ' + said if said else ''}")
    parts += [f"{ref.kind} {ref.name} (exists already: not to be written)" for ref in spec.existing]
    return "; ".join(parts)


def _plural(word: str) -> bool:
    word = word.lower()
    if word in _ABBREVIATIONS:
        return False
    return word.endswith(("ingresses", "classes", "policies")) or (
        word.endswith("s") and not word.endswith(("ingress", "class")))


_POD_TO_WRITE = re.compile(r"[:,]?\s+(?:named|called|(?:that\s+)?runs?|running|using|with\s+(?:the\s+)?(?:name|image|"
                           r"container)|(?:from|of)\s+(?:the\s+)?image|in\s+(?:the\s+)?(?:namespace|ns)|for\s+me|"
                           r"manifest|spec|definition|with\s+\w+\s+(?:sidecar|init))\b|\s*[:?]|\s*$", re.I)


_ABBREVIATIONS = frozenset({"deploy", "sts", "ds", "rs", "cj", "po", "sa", "svc", "cm", "netpol", "crb", "rb", "ns",
                            "quota"})
"""kubectl's short names and chat shorthand ("svc", "sts", "cm"): a kind only where a kind can stand."""
_SHORT_BEFORE = frozenset({"+", "&", "and", "plus", "a", "an", "the", "new", "own", "its", "w/", "with", "extra",
                           "another", "one", "1", ",", "-", "*"})
_OTHER_WORKLOAD = re.compile(r"\b(?:stateful\s?set|daemon\s?set|replica\s?set|cron\s?job|job|sts|ds|rs|cj|pods?|po)\b",
                             re.I)
_SHORT_NOT_NAMES = frozenset({"img", "image", "port", "ports", "ns", "sel", "selector", "nodeport", "clusterip",
                              "loadbalancer", "headless", "pls", "please", "for", "in", "on", "w", "that", "which",
                              "is", "are", "who", "to", "from", "of", "it", "them", "me", "us", "have", "has", "had",
                              "be", "should", "would", "will", "can", "could", "must", "does", "do", "did", "gets",
                              "needs", "uses", "runs", "with", "without", "plus", "and", "or", "too", "also", "dont",
                              "doesnt", "isnt", "arent", "wont", "cant", "exist", "exists", "yet", "already", "here",
                              "there", "then", "first", "next", "later", "now"})


def _short_word(word: str, before: str, after: str, text: str) -> bool:
    """Whether a short name stands for its kind here: at the start of the request or of a line, after "+", "and"
    or an article ("its own sa + role"), or as kind/name ("deploy/checkout-api"). "ns" is a Namespace to write
    only where the request starts with it ("ns ml-batch + quota ..."); elsewhere it places objects ("ns cache").
    "deploy" is also the verb: it is the kind only where no other workload kind is named."""
    tokens = before.replace("\n", " \n ").split(" ")
    previous = next((t for t in reversed(tokens) if t.strip() or t == "\n"), "").lower().strip()
    start = not before.strip() or previous == "\n" or before.rstrip(" \t").endswith("\n")
    if word == "ns":
        return not before.strip()
    if word == "deploy":  # "deploy nginx with 3 replicas" is the verb; "a deploy", "deploy api img ..." the kind
        if _OTHER_WORKLOAD.search(text):
            return False
        start = start and bool(re.match(r"\s+[a-z0-9][-a-z0-9]*\s+(?:img|image|-n|ns|x\d|port)\b", after))
        if re.match(r"\s*(?:\+|&|and\b|w/|with\s+(?:a|an)\b)", after):
            return True  # "grafana deploy + svc", "api deploy w/ a pvc"
    if word == "svc" and previous in ("clusterip", "nodeport", "lb", "loadbalancer", "headless", "externalname"):
        return True  # "+ clusterip svc on 80": a typed Service
    return start or previous in _SHORT_BEFORE or after.startswith("/")


def _kind_word(kind: str, word: str, before: str, after: str = "", text: str = "") -> bool:
    if kind == "Namespace" and re.search(r"\bin\s+(?:the\s+|a\s+)?$|\b(?:same|target|its|their|own)\s+$", before, re.I):
        return False  # "in the namespace prod" places an object; it asks for no Namespace
    if word.lower() in _ABBREVIATIONS:
        return _short_word(word.lower(), before, after, text)
    if kind not in _PLAIN_WORDS or word[0].isupper() or _EXISTING_BEFORE.search(before) or not before.strip():
        return True  # "job cache-warm -n storefront ...": a request that starts with the kind asks for it
    if re.search(r"\b(?:than|least|most|only|just)\s+(?:one|a|an)\s+$", before, re.I):
        return False  # "no more than one pod down", "at least one service": a count, not an object to write
    if _NAMED_BACKEND.search(before):
        return True  # "routing to the reports service": a named object the request points at
    previous = before.split()[-1].lower() if before.split() else ""
    if previous in _PLAIN_WORDS[kind]:
        return True
    words = [w.lower() for w in before.split()[-2:]]
    if kind == "Pod" and (previous in _ARTICLES or (len(words) == 2 and words[0] in ("a", "an"))):
        return bool(_POD_TO_WRITE.match(after))  # "a (memcached) pod named x" is one to write; "for a pod to start" not
    return False


def _mentions(text: str, breaks: _Breaks) -> list[_Mention]:
    found: list[_Mention] = []
    for match in _KIND.finditer(text):
        if _plural(match.group(0)) or (found and match.start() < found[-1].end) or re.search(
                r"\b(?:named|called|name:?)\s+[`\"']?$", text[max(0, match.start() - 8): match.start()], re.I):
            continue  # a plural names no single object; "called clusterrolebinding" is a name, not a kind
        kind = match.lastgroup or ""
        before = text[max(0, match.start() - 40): match.start()]
        if not _kind_word(kind, match.group(0), before, text[match.end(): match.end() + 40], text):
            continue
        qualifiers = _QUALIFIER[kind].search(before) if kind in _QUALIFIER else None
        start = match.start() - (len(before) - qualifiers.start()) if qualifiers else match.start()
        before = text[max(0, start - 40): start]  # cues stand before "as a LoadBalancer service" too
        if _NEGATED.search(before) or _REFUSED.match(text, match.end(), breaks.end_after(match.end())) or (
                _DISMISSED.match(text, match.end())):
            continue
        clause = text[max(0, start - 80): start]
        if (narrative := _NARRATIVE.search(clause)) and not _CREATION.search(clause, narrative.start()):
            continue
        # "running as the config-backup service account": a name before the kind, after a definite article
        prenamed = re.search(_PRENAME, before)
        cue_zone = before[: prenamed.start(1)] if prenamed else before
        if prenamed and (prenamed[1].lower() in _NOT_PRENAMES or not (
                _REF_CUE.search(cue_zone) or "-" in prenamed[1] or any(c.isdigit() for c in prenamed[1]))):
            prenamed, cue_zone = None, before  # "the web service" may be the everyday phrase
        mention = _Mention(kind, start, match.end(), cued=bool(_REF_CUE.search(cue_zone)),
                           back=bool(_BACK_REFERENCE.search(cue_zone) or _DEFINITE_NAMED.search(before)),
                           plain=match.group(0).islower(),
                           indefinite=bool(re.search(r"(?<!\bas\s)\b(?:a|an)\s+$", cue_zone, re.I)))
        rest = text[match.end():]
        named = _NAMED.match(rest) or _QUOTED_NAME.match(rest)
        if named is None and prenamed:
            mention.name = prenamed[1]
        if named is None and mention.cued and (bare := _BARE_NAME.match(rest)) and bare[1] not in _STOP and (
                re.search(r"[-\d]", bare[1]) or (match.group(0) == kind and re.match(r"[.,;)]|\s*$|\s*\n",
                                                                                   rest[bare.end():]))):
            named = bare  # "reading config from Secret db-auth", "sending traffic to Service reports,"
        if named is None and not prenamed and (match.group(0).lower() in _ABBREVIATIONS or not before.strip()) and (
                not before.strip() or re.search(r"(?:^|\n|[+&,;(]|\band)\s*$", before)) and (
                bare := _BARE_NAME.match(rest)) and bare[1] not in _STOP | _SHORT_NOT_NAMES and not re.fullmatch(
                r"x?\d+[a-z]*", bare[1]):
            named = bare  # "job cache-warm -n storefront ...", "svc grafana nodeport ...": kind, then its name
        if named is None and not prenamed and kind == "ClusterRole" and (bare := _BARE_NAME.match(rest)) and (
                bare[1] in _BUILTIN_CLUSTER_ROLES):
            named = bare  # "-> clusterrole edit": a built-in role, bound to and never written
        if named:
            mention.name = named[1]
            mention.end = match.end() + named.end()
        if not mention.name and (slashed := re.match(rf"/({_NAME})(?![-\w])", rest)):
            mention.name, mention.cued, mention.end = slashed[1], True, match.end() + slashed.end()  # clusterrole/view
        after = _EXISTING_AFTER.match(text[mention.end:])
        if after and re.search(r"\b(?:that|which|we|you)\b", after.group(0), re.I):
            mention.said_after = (mention.end, mention.end + after.end())  # a relative clause: about it alone
        mention.shared = bool(found) and bool(re.fullmatch(r"\s*(?:\+|&|and|/|plus|w/)\s*", text[found[-1].end:start]))
        mention.existing = bool(_EXISTING_BEFORE.search(before) or after) or (
            kind == "ClusterRole" and (mention.name or "") in _BUILTIN_CLUSTER_ROLES)
        if after and after[1] and not mention.name and after[1].lower() not in _STOP | _SHORT_NOT_NAMES:
            mention.name = after[1]  # "the TLS secret shop-tls that cert-manager already created"
        found.append(mention)
    if any(m.kind in WORKLOADS - {"Deployment"} and not m.cued for m in found):
        # "a database deployment ... a stateful set": a lower-case deployment beside another workload kind is the
        # everyday word, not the kind
        found = [m for m in found if not (m.kind == "Deployment" and m.plain and not m.name)]
    return found


def _describe(obj: ObjectSpec, part: str, env: bool = True) -> None:
    """Read the values ``part`` of the request states about ``obj``; ``env`` False when the part is about a
    ConfigMap or Secret the workload reads, whose KEY=value entries are that object's, not the container's."""
    kind = obj.kind
    if kind not in CLUSTER_SCOPED and obj.namespace is None and (m := _NAMESPACE.search(part)):
        name = _group(m)
        if name.lower() not in _NOT_NAMESPACES:
            obj.namespace = name
    for m in _LABEL.finditer(part):
        previous = part[max(0, m.start() - 24): m.start()].split()
        if kind in _SELECTING and not re.match(r"(?:with|has|having|carrying)\b", m.group(0), re.I):
            continue  # "a netpol ... only stuff labeled role=api": pods it selects, not its own labels
        if any(_OTHERS.fullmatch(w) for w in previous[-3:]):  # "deletes claims labeled x", "nodes are labelled x"
            continue
        obj.labels.setdefault(m[1], m[2].rstrip("."))
    if kind in WORKLOADS:
        _workload(obj, part, env)
    elif kind == "Service":
        _service(obj, part)
        _selector(obj, part, "/spec/selector")
    elif kind == "HorizontalPodAutoscaler":
        _autoscaler(obj, part)
    elif kind == "PodDisruptionBudget":
        _budget(obj, part)
        _selector(obj, part, "/spec/selector/matchLabels")
    elif kind == "ConfigMap":
        _data(obj, part, "/data")
    elif kind == "Secret":
        _data(obj, part, "/stringData")  # the check also takes the value base64-encoded under data
        for m in _SECRET_ENTRY.finditer(part):  # "holding password=admin": a Secret's entries are lower-case too
            if re.search(r"\blabel", part[max(0, m.start() - 40): m.start()], re.I):
                continue  # "labeled app=web and tier=db": labels, not entries
            obj.fields.setdefault(f"/stringData/{m[1]}", _unquote(m[2]))
    elif kind == "NetworkPolicy":
        _policy(obj, part)
    elif kind == "ResourceQuota":
        _values(obj, part, _QUOTA)
    elif kind == "LimitRange" and not _OTHER_LIMITS.search(part):
        _values(obj, part, _DEFAULTS)
    elif kind == "Ingress":
        if m := _HOST.search(part):
            obj.host = m[1].lower()
        if m := _PATH.search(part):
            obj.path = (m[1] or m[2]).rstrip(".")
        port = _only(int(m[1]) for m in _BACKEND_PORT.finditer(part))
        standalone = set(re.findall(r"(?<![\w./:-])/[\w./-]*", part))  # "/api and /web": two, whatever the cue
        if len(standalone) <= 1 and port is not None:  # one rule, one path: which backend the port is for is clear
            obj.fields.setdefault("/spec/rules/0/http/paths/0/backend/service/port/number", port)
    if kind in ("PersistentVolumeClaim", "StatefulSet"):
        if m := _STORAGE.search(part) or (_SIZE.search(part) if kind == "PersistentVolumeClaim" else None):
            obj.storage = _quantity(m[1] or m[3], m[2] or m[4])
        elif (lone := _only((q[1], q[2].lower()) for q in _LONE_SIZE.finditer(part))) is not None and (
                kind == "PersistentVolumeClaim" or re.search(r"\bvct\b|claim\s+templates?|per\s+pod", part, re.I)):
            obj.storage = _quantity(*lone)  # "pvc registry-store 80Gi rwo": the one size there is
        for m in _ACCESS.finditer(part):
            mode = _ACCESS_MODES[m[1].lower()]
            if mode not in obj.access_modes:
                obj.access_modes.append(mode)


def _workload(obj: ObjectSpec, part: str, env: bool = True) -> None:
    if obj.image is None:
        obj.image = _only(_images(part))  # two images (an init container, a sidecar): which is which is unclear
    if obj.kind in SCALABLE and obj.replicas is None and (m := _REPLICAS.search(part)):
        value = _group(m)
        obj.replicas = int(_NUMBER_WORDS.get(value.lower(), value))
    # "exposed on port 80", "expose it on port 80": the Service's port; "exposing port 8080": the container's
    # ("exposing port 80 through a LoadBalancer": the Service's again)
    exposed = re.search(r"\bexpos(?:e|es|ed|ing)\b(?!\s+(?:container\s+)?ports?\s+\d{2,5}\b"
                        r"(?!\s+(?:through|via|behind|using|with|on|to|outside|externally)\b))", part, re.I)
    for port in _ports(part[: exposed.start() if exposed else len(part)]):
        if port not in obj.ports:
            obj.ports.append(port)
    for pattern in _ENV if env else _ENV[1:]:
        for m in pattern.finditer(part):
            name, value = m[1], m[2].strip("\"'").rstrip(".,;:?!)")
            if name not in _NOT_ENV and value:
                obj.env.setdefault(name, value)
    _resources(obj, part)
    if _NON_ROOT.search(part):
        obj.run_as_non_root = True
    if _READ_ONLY.search(part):
        obj.read_only_root_fs = True
    if obj.kind == "CronJob" and obj.schedule is None:
        obj.schedule = _schedule(part)
    if obj.kind in ("Job", "CronJob"):
        _job_fields(obj, part)


def _group(m: re.Match) -> str:
    """The first group a match filled: the patterns' alternatives each capture the same value."""
    return next(g for g in m.groups() if g)


def _pair(m: re.Match) -> tuple[str, str]:
    """The (key, value) of a label a match filled, whichever alternative matched."""
    key, value = [g for g in m.groups() if g][:2]
    return key, value


def _only(found: Iterable[T]) -> T | None:
    """The one distinct value found, or None: two differing values state no clear one."""
    values = set(found)
    return values.pop() if len(values) == 1 else None


def _unquote(value: str) -> str:
    """A quoted value without its quotes; an unquoted one without the sentence's punctuation after it."""
    return value[1:-1] if value[0] in "\"'`" else value.rstrip(".,;:?!)")


def _count(value: str) -> int:
    return int(_NUMBER_WORDS.get(value.lower(), value))


def _autoscaler(obj: ObjectSpec, part: str) -> None:
    """Replica bounds ("between 2 and 10 replicas", "at least 2 pods", "maxReplicas 10"). A CPU target is not
    read: autoscaling/v1 and v2 keep it at different paths, and both are valid answers."""
    low = high = None
    if m := _RANGE.search(part):
        numbers = [g for g in m.groups() if g]
        low, high = _count(numbers[0]), _count(numbers[1])
    if m := _MIN_REPLICAS.search(part):
        low = _count(_group(m))
    if m := _MAX_REPLICAS.search(part):
        high = _count(_group(m))
    if low is not None and (high is None or low <= high):
        obj.fields.setdefault("/spec/minReplicas", low)
    if high is not None and (low is None or low <= high):
        obj.fields.setdefault("/spec/maxReplicas", high)


def _budget(obj: ObjectSpec, part: str) -> None:
    """minAvailable or maxUnavailable, a count or a percentage; a request stating both states no clear one."""
    found = {}
    for pointer, pattern in (("/spec/minAvailable", _MIN_AVAILABLE), ("/spec/maxUnavailable", _MAX_UNAVAILABLE)):
        if m := pattern.search(part):
            value = re.sub(r"\s", "", _group(m))
            found[pointer] = value if value.endswith("%") else _count(value)
    if len(found) == 1:
        obj.fields.update(found)


def _values(obj: ObjectSpec, part: str, patterns: dict[str, re.Pattern]) -> None:
    """Each pointer's value where its pattern finds exactly one ("a CPU request quota of 8"; two differing
    values state no clear one)."""
    for pointer, pattern in patterns.items():
        if (value := _only(_group(m) for m in pattern.finditer(part))) is not None:
            obj.fields.setdefault(pointer, value)


def _selector(obj: ObjectSpec, part: str, prefix: str, pattern: re.Pattern = _SELECTED) -> bool:
    """The one label selector ``pattern`` finds, under ``prefix``; whether there was one."""
    if (pair := _only(_pair(m) for m in pattern.finditer(part))) is None:
        return False
    obj.fields.setdefault(f"{prefix}/{_pointer(pair[0])}", pair[1])
    return True


def _job_fields(obj: ObjectSpec, part: str) -> None:
    """A Job's backoff limit; a CronJob's, and its concurrency policy ("never running two jobs at once")."""
    spec = "/spec/jobTemplate/spec" if obj.kind == "CronJob" else "/spec"
    if (limit := _only(_group(m) for m in _BACKOFF.finditer(part))) is not None:
        obj.fields.setdefault(f"{spec}/backoffLimit", int(limit))
    for field, pattern in (("completions", _COMPLETIONS), ("parallelism", _PARALLELISM)):
        if (count := _only(_count(_group(m)) for m in pattern.finditer(part))) is not None:
            obj.fields.setdefault(f"{spec}/{field}", count)
    if obj.kind == "CronJob" and (m := _CONCURRENCY.search(part)):
        obj.fields.setdefault("/spec/concurrencyPolicy", (m[1] or "forbid").capitalize())


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _policy(obj: ObjectSpec, part: str) -> None:
    """An ingress policy's pod selector ("protecting the pods labeled app=db"), its one source ("only from pods
    labeled role=web") and its one port. Nothing when the request speaks of egress: there "to pods labeled x"
    names a destination, not the pods the policy selects."""
    if _EGRESS.search(part):
        return
    _selector(obj, part, "/spec/podSelector/matchLabels", _POLICY_TARGET)
    sourced = _selector(obj, part, "/spec/ingress/0/from/0/podSelector/matchLabels", _POLICY_SOURCE)
    if sourced and (port := _only(int(m[1]) for m in _POLICY_PORT.finditer(part))) is not None:
        obj.fields.setdefault("/spec/ingress/0/ports/0/port", port)  # the one rule's port, when it has one source


def _data(obj: ObjectSpec, part: str, root: str) -> None:
    """Entries written as KEY=value (an upper-case key, as for env vars) or "the key k set to v"."""
    for m in _ENV[0].finditer(part):
        value = m[2].strip("\"'").rstrip(".,;:?!)")
        if m[1] not in _NOT_ENV and value:
            obj.fields.setdefault(f"{root}/{m[1]}", value)
    for m in _DATA_KEY.finditer(part):
        obj.fields.setdefault(f"{root}/{m[1]}", _unquote(m[2]))


def _images(part: str) -> Iterator[str]:
    for pattern in _IMAGES:
        for m in pattern.finditer(part):
            image = m[1].rstrip(".")
            repository = image.split("@")[0].rsplit(":", 1)[0]
            if pattern is _IMAGES[-1] and not re.search(r"[:/]", image):
                continue  # "running busybox" may be an image, "running nightly" is not: a tag or a path says so
            if image.lower() not in _NOT_IMAGES and not image.isdigit() and repository == repository.lower():
                yield image


def _service(obj: ObjectSpec, part: str) -> None:
    if _HEADLESS.search(part):
        obj.fields.setdefault("/spec/clusterIP", "None")
    else:
        named = {_TYPE_NAMES[re.sub(r"\s", "", m[1].lower())] for m in _SERVICE_TYPES.finditer(part)}
        if obj.service_type:
            named.add(obj.service_type)
        obj.service_type = named.pop() if len(named) == 1 else None  # two types named: no requirement
        if obj.service_type == "ExternalName" and (m := _EXTERNAL_NAME.search(part)):
            obj.fields.setdefault("/spec/externalName", m[1].lower())
    targets = list(_TARGET_PORT.finditer(part))
    for m in targets:
        port = int(_group(m))
        if port not in obj.target_ports and port <= 65535:
            obj.target_ports.append(port)
    rest = part
    for m in [*targets, *_NODE_PORT.finditer(part)]:  # their numbers are not Service ports
        rest = rest.replace(m.group(0), " " * len(m.group(0)))
    mapped = [int(m[1] or m[2]) for m in re.finditer(r"\bport\s+(\d{2,5})\s*(?:->|→|to)\s*\d"
                                                     r"|(?<![\w:.])(\d{2,5})\s*(?:->|→)\s*\d", part, re.I)]
    # "they listen on 8443": the pods' port, not the Service's (a target, were it sure which Service port maps to it)
    rest = re.sub(r"\blisten(?:s|ing)?\s+on\s+(?:port\s+)?\d{2,5}\b", lambda m: " " * len(m.group(0)), rest, flags=re.I)
    for port in [*mapped, *_ports(rest)]:  # "port 80 -> 3000": 80 is the Service's
        if port not in obj.ports:
            obj.ports.append(port)
    node_ports = {int(_group(m)) for m in _NODE_PORT.finditer(part)}
    if len(node_ports) == 1 and len(obj.ports) <= 1:  # with one port, which one the node port belongs to is clear
        obj.fields.setdefault("/spec/ports/0/nodePort", node_ports.pop())


def _ports(part: str) -> list[int]:
    ports = []
    for m in _PORTS.finditer(part):
        if re.search(r"\b(?:probes?|liveness|readiness|startup|health\s?checks?|healthz?)\b[^,.;]*$",
                     part[max(0, m.start() - 40): m.start()], re.I):
            continue  # a probe's port need not be a declared container port
        if not m[1] and re.search(r"[\w-]+\.[\w.-]+\s+$", part[max(0, m.start() - 60): m.start()]):
            continue  # "forwards to jaeger-collector.tracing.svc on 14250": a port elsewhere
        if re.search(r"\b(?:pointed|pointing|points?|connect(?:s|ing|ed)?|talk(?:s|ing)?|reach(?:es|ing)?)\s+"
                     r"(?:at|to)\s+"
                     r"\S+\s+(?:on\s+)?$", part[max(0, m.start() - 80): m.start()], re.I):
            continue  # "the proxy pointed at acme:eu:ledger on port 5432": the port of what it connects to
        numbers = [m[1], *re.findall(r"\d{2,5}", m[2] or "")] if m[1] else [m[3] or m[4] or m[5]]  # other forms
        ports += [int(n) for n in numbers if n and 0 < int(n) <= 65535]
    return ports


def _resources(obj: ObjectSpec, part: str) -> None:
    """CPU and memory values, each a request or a limit by the word right after it ("a 256Mi memory limit") or
    else the nearest cue before it in the same sentence ("limited to 256Mi of memory"); none, no requirement."""
    found = [(m, "memory", _quantity(m[1] or m[3], m[2] or m[4])) for m in _MEMORY.finditer(part)]
    found += [(m, "cpu", _cpu(m)) for m in _CPU.finditer(part)]
    for m, resource, value in found:
        if value is None:
            continue
        after = part[m.end(): m.end() + 12]
        sentence_start = max(part.rfind(". ", 0, m.start()), part.rfind("\n", 0, m.start()), 0)
        before = part[sentence_start: m.start()] + m.group(0)
        if re.match(r"\s*(?:request|reservation)", after, re.I):
            section = "requests"
        elif re.match(r"\s*(?:limit|cap|max)", after, re.I):
            section = "limits"
        else:
            cues = [(c.start(), "requests") for c in _REQUEST_CUE.finditer(before)]
            cues += [(c.start(), "limits") for c in _LIMIT_CUE.finditer(before)]
            if not cues:
                continue
            section = max(cues)[1]
        getattr(obj, section).setdefault(resource, value)


def _quantity(number: str | None, unit: str | None) -> str | None:
    if not number or not unit:
        return None
    unit = unit[:2] if unit.lower().endswith("ib") else unit
    return f"{number}{unit[0].upper()}{unit[1:].lower()}"  # "25gi" is no quantity; the user meant 25Gi


def _cpu(m: re.Match) -> str | None:
    pairs = [(m[1], m[2]), (m[3], m[4]), (m[5], m[6])]
    number, unit = next((n, u) for n, u in pairs if n)
    unit = (unit or "").lower()
    if unit.startswith("m"):
        return f"{number}m"
    if "." in number:
        return f"{round(float(number) * 1000)}m"
    return number


def _schedule(part: str) -> str | None:
    for m in _CRON.finditer(part):
        value = (m[1] or m[2]).strip()
        if not cron.problem(value):
            return value
    for pattern, make in _SCHEDULES:
        if (m := pattern.search(part)) and not _NARROWED.match(part, m.end()):
            return make(m)
    return None


_NARROWED = re.compile(r"[^.;\n]{0,30}?\b(?:during|between|from|until|till|except|only\s+on|on\s+(?:week|business|"
                       r"work)|week\s?days?|(?:mon|tues|wednes|thurs|fri|satur|sun)day|office|business|working|hours)\b",
                       re.I)
"""Words that narrow "every 5 minutes" to some hours or days: the cron fields they imply are not read."""


def _at(m: re.Match, first: int, rest: str) -> str | None:
    hour, minute, meridiem = int(m[first]), int(m[first + 1] or 0), (m[first + 2] or "").lower().replace(".", "")
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return f"{minute} {hour} {rest}"
