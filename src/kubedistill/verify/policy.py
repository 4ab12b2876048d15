"""L3: security policy — the Pod Security Standards and a best-practice profile.

``baseline`` and ``restricted`` follow the official Pod Security Standards control by control
(kubernetes.io/docs/concepts/security/pod-security-standards), for every pod-bearing kind and for
init and ephemeral containers. ``best-practice`` is ``restricted`` plus the operational rules that
checkov and kube-linter also enforce: resources, pinned images, probes, read-only root filesystem.
Profiles nest: restricted includes baseline, best-practice includes restricted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubedistill.verify import pointer
from kubedistill.verify.finding import Issue, Severity
from kubedistill.verify.objects import (
    LONG_RUNNING_KINDS,
    WORKLOAD_KINDS,
    ContainerRef,
    PodSpecRef,
    as_dict,
    as_list,
    containers,
    dig,
    pod_spec,
)
from kubedistill.verify.registry import check, rule

PROFILES = ("baseline", "restricted", "best-practice")
DEFAULT_PROFILE = "baseline"
PROFILE_RANK = {name: i for i, name in enumerate(PROFILES)}

BASELINE_CAPS = frozenset({"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                           "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})
SAFE_SYSCTLS = frozenset({"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                          "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                          "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                          "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                          "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"})
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
RESTRICTED_VOLUMES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                                "persistentVolumeClaim", "projected", "secret", "image"})

# (rule id, profile, title, checkov id)
_RULES = [
    ("L3-HOST-PROCESS", "baseline", "Windows HostProcess containers", ""),
    ("L3-HOST-NAMESPACES", "baseline", "host network, PID or IPC namespace", "CKV_K8S_19"),
    ("L3-PRIVILEGED", "baseline", "privileged container", "CKV_K8S_16"),
    ("L3-CAPABILITIES-BASELINE", "baseline", "capability beyond the baseline set", "CKV_K8S_25"),
    ("L3-HOST-PATH", "baseline", "hostPath volume", ""),
    ("L3-HOST-PORT", "baseline", "hostPort", "CKV_K8S_26"),
    ("L3-APPARMOR", "baseline", "AppArmor profile overridden", ""),
    ("L3-SELINUX", "baseline", "custom SELinux user, role or type", ""),
    ("L3-PROC-MOUNT", "baseline", "non-default /proc mount", ""),
    ("L3-SECCOMP-UNCONFINED", "baseline", "seccomp Unconfined", "CKV_K8S_31"),
    ("L3-SYSCTLS", "baseline", "unsafe sysctl", ""),
    ("L3-VOLUME-TYPES", "restricted", "volume type outside the restricted set", ""),
    ("L3-PRIVILEGE-ESCALATION", "restricted", "allowPrivilegeEscalation not false", "CKV_K8S_20"),
    ("L3-RUN-AS-NON-ROOT", "restricted", "runAsNonRoot not true", "CKV_K8S_23"),
    ("L3-RUN-AS-USER-ROOT", "restricted", "runAsUser 0", "CKV_K8S_23"),
    ("L3-SECCOMP-REQUIRED", "restricted", "seccomp profile not set", "CKV_K8S_31"),
    ("L3-CAPABILITIES-RESTRICTED", "restricted", "capabilities not dropped to ALL", "CKV_K8S_37"),
    ("L3-RESOURCES-REQUESTS", "best-practice", "CPU/memory requests missing", "CKV_K8S_10"),
    ("L3-RESOURCES-LIMITS", "best-practice", "memory limit missing", "CKV_K8S_13"),
    ("L3-IMAGE-TAG", "best-practice", "image untagged or :latest", "CKV_K8S_14"),
    ("L3-LIVENESS-PROBE", "best-practice", "liveness probe missing", "CKV_K8S_8"),
    ("L3-READINESS-PROBE", "best-practice", "readiness probe missing", "CKV_K8S_9"),
    ("L3-READ-ONLY-ROOT-FS", "best-practice", "root filesystem writable", "CKV_K8S_22"),
    ("L3-DOCKER-SOCKET", "best-practice", "container runtime socket mounted", "CKV_K8S_27"),
    ("L3-SA-TOKEN", "best-practice", "service account token automounted", "CKV_K8S_38"),
]
RULE_PROFILE = {rid: profile for rid, profile, _, _ in _RULES}
CHECKOV = {rid: ckv for rid, _, _, ckv in _RULES}
for _rid, _profile, _title, _ckv in _RULES:
    rule(_rid, 3, f"{_title} ({_profile})", _ckv)


def applies(rule_id: str, profile: str) -> bool:
    return PROFILE_RANK[RULE_PROFILE[rule_id]] <= PROFILE_RANK[profile]


@check(3, WORKLOAD_KINDS)
def pod_security(doc: dict, profile: str = DEFAULT_PROFILE) -> Iterator[Issue]:
    ref = pod_spec(doc)
    if ref is None:
        return
    found = [*_baseline(doc, ref)]
    if PROFILE_RANK[profile] >= PROFILE_RANK["restricted"]:
        found.extend(_restricted(ref))
    if PROFILE_RANK[profile] >= PROFILE_RANK["best-practice"]:
        found.extend(_best_practice(doc, ref))
    yield from (issue for issue in found if applies(issue.rule, profile))


def _sc(obj: dict) -> dict:
    return as_dict(obj.get("securityContext"))


def _baseline(doc: dict, ref: PodSpecRef) -> Iterator[Issue]:
    spec, pod_sc = ref.spec, _sc(ref.spec)
    sc_path = f"{ref.path}/securityContext"
    if dig(pod_sc, "windowsOptions", "hostProcess") is True:
        yield Issue("L3-HOST-PROCESS", f"{sc_path}/windowsOptions/hostProcess", "pod runs HostProcess containers",
                    "remove windowsOptions.hostProcess")
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            yield Issue("L3-HOST-NAMESPACES", f"{ref.path}/{field}", f"{field}: true shares the host's namespace",
                        f"remove {field}")
    for i, volume in enumerate(as_list(spec.get("volumes"))):
        if isinstance(volume, dict) and "hostPath" in volume:
            yield Issue("L3-HOST-PATH", f"{ref.path}/volumes/{i}/hostPath", "hostPath volumes expose the node's "
                        "filesystem", "use emptyDir, a ConfigMap or a PersistentVolumeClaim")
    for i, sysctl in enumerate(as_list(pod_sc.get("sysctls"))):
        name = as_dict(sysctl).get("name")
        if name not in SAFE_SYSCTLS:
            yield Issue("L3-SYSCTLS", f"{sc_path}/sysctls/{i}/name", f"sysctl {name!r} is not in the safe set",
                        "remove the sysctl")
    yield from _pod_and_container_shared(pod_sc, sc_path)
    yield from _apparmor_annotations(doc, ref)
    for c in containers(ref):
        yield from _container_baseline(c)


def _pod_and_container_shared(sc: dict, path: str) -> Iterator[Issue]:
    """Controls that apply to the pod securityContext and to each container's in the same way."""
    if dig(sc, "seccompProfile", "type") == "Unconfined":
        yield Issue("L3-SECCOMP-UNCONFINED", f"{path}/seccompProfile/type", "seccomp profile is Unconfined",
                    "use RuntimeDefault")
    apparmor = dig(sc, "appArmorProfile", "type")
    if apparmor is not None and apparmor not in ("RuntimeDefault", "Localhost"):
        yield Issue("L3-APPARMOR", f"{path}/appArmorProfile/type", f"AppArmor profile {apparmor!r} is not allowed",
                    "use RuntimeDefault or Localhost")
    selinux = as_dict(sc.get("seLinuxOptions"))
    if selinux.get("type", "") not in SELINUX_TYPES:
        yield Issue("L3-SELINUX", f"{path}/seLinuxOptions/type", f"SELinux type {selinux['type']!r} is not allowed",
                    "use container_t or remove seLinuxOptions")
    for field in ("user", "role"):
        if selinux.get(field):
            yield Issue("L3-SELINUX", f"{path}/seLinuxOptions/{field}", f"custom SELinux {field} is not allowed",
                        f"remove seLinuxOptions.{field}")
    if dig(sc, "windowsOptions", "hostProcess") is True and not path.endswith("spec/securityContext"):
        yield Issue("L3-HOST-PROCESS", f"{path}/windowsOptions/hostProcess", "container is a HostProcess container",
                    "remove windowsOptions.hostProcess")


def _apparmor_annotations(doc: dict, ref: PodSpecRef) -> Iterator[Issue]:
    meta_path = ref.template_path + "/metadata" if ref.template_path else "/metadata"
    annotations = as_dict(dig(doc, *pointer.parts(meta_path), "annotations"))
    for key, value in annotations.items():
        if str(key).startswith("container.apparmor.security.beta.kubernetes.io/") and not (
                value == "runtime/default" or str(value).startswith("localhost/")):
            yield Issue("L3-APPARMOR", f"{meta_path}/annotations/{pointer.escape(key)}",
                        f"AppArmor annotation {value!r} is not allowed", "use runtime/default")


def _container_baseline(c: ContainerRef) -> Iterator[Issue]:
    sc, path = _sc(c.container), f"{c.path}/securityContext"
    if sc.get("privileged") is True:
        yield Issue("L3-PRIVILEGED", f"{path}/privileged", "container runs privileged", "remove privileged: true")
    for i, cap in enumerate(as_list(dig(sc, "capabilities", "add"))):
        if cap not in BASELINE_CAPS:
            yield Issue("L3-CAPABILITIES-BASELINE", f"{path}/capabilities/add/{i}",
                        f"capability {cap!r} is beyond the baseline set", f"remove {cap} from capabilities.add")
    for i, port in enumerate(as_list(c.container.get("ports"))):
        if as_dict(port).get("hostPort"):
            yield Issue("L3-HOST-PORT", f"{c.path}/ports/{i}/hostPort", "hostPort binds the node's port",
                        "remove hostPort and expose the pod through a Service")
    if sc.get("procMount") not in (None, "Default"):
        yield Issue("L3-PROC-MOUNT", f"{path}/procMount", f"procMount {sc['procMount']!r} is not allowed",
                    "remove procMount")
    yield from _pod_and_container_shared(sc, path)


def _restricted(ref: PodSpecRef) -> Iterator[Issue]:
    spec, pod_sc = ref.spec, _sc(ref.spec)
    windows = dig(spec, "os", "name") == "windows"
    sc_path = f"{ref.path}/securityContext"
    for i, volume in enumerate(as_list(spec.get("volumes"))):
        kinds = [k for k in as_dict(volume) if k != "name"]
        for kind in kinds:
            if kind not in RESTRICTED_VOLUMES and kind != "hostPath":
                yield Issue("L3-VOLUME-TYPES", f"{ref.path}/volumes/{i}/{kind}", f"volume type {kind!r} is not "
                            "allowed by the restricted profile", "use configMap, secret, emptyDir, projected, "
                            "persistentVolumeClaim, csi, downwardAPI or ephemeral")
    if pod_sc.get("runAsUser") == 0:
        yield Issue("L3-RUN-AS-USER-ROOT", f"{sc_path}/runAsUser", "pod runs as user 0 (root)",
                    "use a non-zero runAsUser")
    pod_non_root = pod_sc.get("runAsNonRoot") is True
    pod_seccomp = dig(pod_sc, "seccompProfile", "type") in ("RuntimeDefault", "Localhost")
    for c in containers(ref):
        yield from _container_restricted(c, pod_non_root, pod_seccomp, windows)


def _container_restricted(c: ContainerRef, pod_non_root: bool, pod_seccomp: bool, windows: bool) -> Iterator[Issue]:
    sc, path = _sc(c.container), f"{c.path}/securityContext"
    if not windows and sc.get("allowPrivilegeEscalation") is not False:
        yield Issue("L3-PRIVILEGE-ESCALATION", f"{path}/allowPrivilegeEscalation",
                    "allowPrivilegeEscalation is not false", "set securityContext.allowPrivilegeEscalation: false")
    non_root = sc.get("runAsNonRoot")
    if non_root is False or (non_root is None and not pod_non_root):
        yield Issue("L3-RUN-AS-NON-ROOT", f"{path}/runAsNonRoot", "container may run as root",
                    "set runAsNonRoot: true in the pod or container securityContext")
    if sc.get("runAsUser") == 0:
        yield Issue("L3-RUN-AS-USER-ROOT", f"{path}/runAsUser", "container runs as user 0 (root)",
                    "use a non-zero runAsUser")
    seccomp = dig(sc, "seccompProfile", "type")
    if not windows and seccomp is None and not pod_seccomp:
        yield Issue("L3-SECCOMP-REQUIRED", f"{path}/seccompProfile", "no seccomp profile on the pod or container",
                    "set securityContext.seccompProfile.type: RuntimeDefault")
    if windows:
        return
    caps = as_dict(sc.get("capabilities"))
    if "ALL" not in as_list(caps.get("drop")):
        yield Issue("L3-CAPABILITIES-RESTRICTED", f"{path}/capabilities/drop", "capabilities are not dropped to ALL",
                    "set capabilities.drop: [ALL]")
    for i, cap in enumerate(as_list(caps.get("add"))):
        if cap != "NET_BIND_SERVICE":
            yield Issue("L3-CAPABILITIES-RESTRICTED", f"{path}/capabilities/add/{i}",
                        f"restricted allows adding only NET_BIND_SERVICE, not {cap!r}", f"remove {cap}")


def _best_practice(doc: dict, ref: PodSpecRef) -> Iterator[Issue]:
    long_running = doc.get("kind") in LONG_RUNNING_KINDS or (
        doc.get("kind") == "Pod" and ref.spec.get("restartPolicy", "Always") == "Always")
    socket_volumes = [as_dict(v).get("name") for v in as_list(ref.spec.get("volumes"))
                      if str(dig(v, "hostPath", "path") or "").endswith(".sock")]
    for c in containers(ref, ("initContainers", "containers")):
        yield from _container_best_practice(c, long_running and c.list_name == "containers")
        for i, mount in enumerate(as_list(c.container.get("volumeMounts"))):
            if as_dict(mount).get("name") in socket_volumes:
                yield Issue("L3-DOCKER-SOCKET", f"{c.path}/volumeMounts/{i}", "container runtime socket is mounted",
                            "do not mount the runtime socket")
    if ref.spec.get("automountServiceAccountToken") is not False and not ref.spec.get("serviceAccountName"):
        yield Issue("L3-SA-TOKEN", f"{ref.path}/automountServiceAccountToken",
                    "the default service account token is mounted", "set automountServiceAccountToken: false",
                    Severity.WARNING)


def _container_best_practice(c: ContainerRef, long_running: bool) -> Iterator[Issue]:
    container, path = c.container, c.path
    resources = as_dict(container.get("resources"))
    requests, limits = as_dict(resources.get("requests")), as_dict(resources.get("limits"))
    missing = [r for r in ("cpu", "memory") if r not in requests]
    if missing:
        yield Issue("L3-RESOURCES-REQUESTS", f"{path}/resources/requests", f"no {' or '.join(missing)} request",
                    "set resources.requests.cpu and .memory")
    if "memory" not in limits:
        yield Issue("L3-RESOURCES-LIMITS", f"{path}/resources/limits", "no memory limit",
                    "set resources.limits.memory")
    image = container.get("image")
    if isinstance(image, str) and _unpinned(image):
        yield Issue("L3-IMAGE-TAG", f"{path}/image", f"image {image!r} has no fixed tag",
                    "pin a version tag such as nginx:1.27 or a digest")
    if long_running:
        for probe, rule_id in (("livenessProbe", "L3-LIVENESS-PROBE"), ("readinessProbe", "L3-READINESS-PROBE")):
            if probe not in container:
                yield Issue(rule_id, f"{path}/{probe}", f"no {probe}", f"add a {probe}")
    if as_dict(container.get("securityContext")).get("readOnlyRootFilesystem") is not True:
        yield Issue("L3-READ-ONLY-ROOT-FS", f"{path}/securityContext/readOnlyRootFilesystem",
                    "root filesystem is writable", "set readOnlyRootFilesystem: true and mount emptyDir for "
                    "writable paths", Severity.WARNING)


def _unpinned(image: str) -> bool:
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.endswith(":latest")


def profile_problem(profile: Any) -> str:
    return "" if profile in PROFILES else f"unknown policy {profile!r}; choose one of {', '.join(PROFILES)}"
