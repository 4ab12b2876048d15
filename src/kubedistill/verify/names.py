"""The API server's name, label and key syntax (k8s.io/apimachinery/pkg/util/validation)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
WILDCARD_HOST = re.compile(r"^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def dns_label_problem(value: str) -> str:
    if len(value) > 63:
        return f"{value!r} is longer than 63 characters"
    if not DNS1123_LABEL.match(value):
        return (f"{value!r} is not a valid DNS-1123 label (lowercase letters, digits and '-', "
                "starting and ending with a letter or digit)")
    return ""


def dns1035_label_problem(value: str) -> str:
    if len(value) > 63:
        return f"{value!r} is longer than 63 characters"
    if not DNS1035_LABEL.match(value):
        return (f"{value!r} is not a valid DNS-1035 label (lowercase letters, digits and '-', "
                "starting with a letter and ending with a letter or digit)")
    return ""


def dns_subdomain_problem(value: str) -> str:
    if len(value) > 253:
        return f"{value!r} is longer than 253 characters"
    if not DNS1123_SUBDOMAIN.match(value):
        return (f"{value!r} is not a valid DNS-1123 subdomain (lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit)")
    return ""


def path_segment_problem(value: str) -> str:
    if value in (".", ".."):
        return f"{value!r} may not be '.' or '..'"
    for bad in ("/", "%"):
        if bad in value:
            return f"{value!r} may not contain {bad!r}"
    return ""


@functools.lru_cache(maxsize=8192)
def qualified_name_problem(key: str) -> str:
    """Label and annotation keys: optional DNS-subdomain prefix, '/', name of at most 63 characters."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or dns_subdomain_problem(prefix)):
        return f"key {key!r} has an invalid prefix {prefix!r} (must be a DNS-1123 subdomain)"
    if not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
        return (f"key {key!r} is invalid: the name part must be 1-63 characters of letters, digits, '-', '_' "
                "or '.', starting and ending with a letter or digit")
    return ""


def label_value_problem(value: object) -> str:
    if not isinstance(value, str):
        return f"label value {value!r} must be a string (quote it)"
    return _label_text_problem(value)


@functools.lru_cache(maxsize=8192)
def _label_text_problem(value: str) -> str:
    """Cached, as label keys and values repeat across a bundle's objects and a corpus's bundles."""
    if len(value) > 63 or not LABEL_VALUE.match(value):
        return (f"label value {value!r} is invalid: at most 63 characters of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit")
    return ""


def port_name_problem(name: str) -> str:
    """IANA_SVC_NAME: at most 15 characters, lowercase, at least one letter, no '--'."""
    if len(name) > 15:
        return f"port name {name!r} is longer than 15 characters"
    if not IANA_SVC_NAME.match(name):
        return f"port name {name!r} must be lowercase letters, digits and '-', starting and ending alphanumeric"
    if "--" in name:
        return f"port name {name!r} may not contain '--'"
    if not re.search(r"[a-z]", name):
        return f"port name {name!r} must contain at least one letter"
    return ""


@dataclass(frozen=True, slots=True)
class NameRule:
    """How the API server validates one kind's ``metadata.name``: the validator ``ValidateObjectMeta`` is given
    for that kind (``k8s.io/kubernetes/pkg/apis/*/validation``), named as the finding names it."""

    title: str
    problem: Callable[[str], str]
    max_length: int = 0
    """A tighter limit some kinds add, because the name becomes part of a label value or a child's name."""
    why: str = ""


DNS_SUBDOMAIN = NameRule("a DNS-1123 subdomain", dns_subdomain_problem)
NAME_RULES: dict[str, NameRule] = {
    "Service": NameRule("a DNS-1035 label (ValidateServiceName)", dns1035_label_problem,
                        why="it becomes a DNS name and environment variable prefix, so it must start with a letter"),
    "Namespace": NameRule("a DNS-1123 label (ValidateNamespaceName)", dns_label_problem),
    **dict.fromkeys(("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"),
                    NameRule("a path segment (ValidateRBACName)", path_segment_problem)),
    "HorizontalPodAutoscaler": NameRule("a path segment (ValidateHorizontalPodAutoscalerName)",
                                        path_segment_problem),
    **dict.fromkeys(("PersistentVolume", "PersistentVolumeClaim"),
                    NameRule("a path segment (ValidatePersistentVolumeName)", path_segment_problem)),
    "CronJob": NameRule("a DNS-1123 subdomain of at most 52 characters (ValidateCronJob)", dns_subdomain_problem,
                        52, "the CronJob controller appends an 11-character suffix to name each Job"),
    "Job": NameRule("a DNS-1123 subdomain of at most 63 characters (ValidateJob)", dns_subdomain_problem, 63,
                    "the Job controller labels its pods job-name=<name>, and a label value has at most 63 characters"),
    "CSIDriver": NameRule("a DNS-1123 subdomain of at most 63 characters (ValidateCSIDriverName)",
                          dns_subdomain_problem, 63),
}


def name_rule(kind: object) -> NameRule:
    return NAME_RULES.get(kind, DNS_SUBDOMAIN) if isinstance(kind, str) else DNS_SUBDOMAIN


def object_name_problem(kind: object, name: str, prefix: bool = False) -> str:
    """The problem with ``name`` as ``kind``'s ``metadata.name`` (or, with ``prefix``, its ``generateName``,
    whose trailing '-' is allowed, as the API server masks it before validating), or ''."""
    rule = name_rule(kind)
    value = name[:-1] if prefix and name.endswith("-") and rule.problem is not path_segment_problem else name
    if not value and prefix:
        return ""
    problem = rule.problem(value)
    if not problem and rule.max_length and len(name) > rule.max_length and not prefix:
        problem = f"{name!r} is longer than {rule.max_length} characters"
    if not problem:
        return ""
    why = f" ({rule.why})" if rule.why else ""
    return f"{kind} names must be {rule.title}: {problem}{why}"
