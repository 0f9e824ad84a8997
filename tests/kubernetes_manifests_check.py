#!/usr/bin/env python3
"""The manifests in deploy/kubernetes/, read as Kubernetes reads them (YAML,
every document an object), and checked for what ferry relies on:

  - every container runs a real ferry command, and every flag it passes is
    one that command's --help lists;
  - the proxy's config, taken out of the ConfigMap, passes `ferry proxy
    --check` (with the admin token in the environment, as the Secret gives it);
    the ConfigMap is mounted whole (no subPath, which the kubelet never
    updates) at the directory of the --config path;
  - probes ask /healthz (liveness) and /readyz (readiness) on the port the
    admin listener or --metrics-addr binds, on all interfaces;
  - FERRY_SOURCE, FERRY_TARGET and FERRY_ADMIN_TOKEN come from secretKeyRef,
    and no connection string is on a command line;
  - follow's work directory (--dir) is a volume from its claim template, and
    the clone Job writes to the claim the StatefulSet's pod 0 will get.

usage: tests/kubernetes_manifests_check.py FERRY_BINARY
Exit 0 when everything holds, 1 with one line per problem, 2 when PyYAML is
missing (scripts/setup installs python3-yaml).
"""
import os
import pathlib
import posixpath
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("kubernetes_manifests_check: no PyYAML (python3-yaml)", file=sys.stderr)
    sys.exit(2)

ROOT = pathlib.Path(__file__).resolve().parent.parent
FERRY_PATH_IN_IMAGE = "/usr/bin/ferry"
problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def load_objects():
    objects = []
    for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as e:
            problem(path.name, f"not YAML: {e}")
            continue
        for doc in docs:
            if doc is None:
                continue
            name = f"{path.name}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            for field in ("apiVersion", "kind", "metadata"):
                if field not in doc:
                    problem(name, f"no {field}")
            objects.append((name, doc))
    return objects


def find(objects, kind, name=None):
    found = [(n, o) for n, o in objects
             if o.get("kind") == kind and (name is None or o["metadata"]["name"] == name)]
    if len(found) != 1:
        problem("deploy/kubernetes", f"expected one {kind} {name or ''}, found {len(found)}")
        return None, {}
    return found[0]


def help_flags(ferry, subcommand):
    """The long flags `ferry SUBCOMMAND --help` lists; None when it is no command."""
    r = subprocess.run([ferry, *subcommand, "--help"], capture_output=True, text=True)
    if r.returncode != 0 or "Usage: ferry " + " ".join(subcommand) not in r.stdout:
        return None
    return set(re.findall(r"^\s+(?:-\w,)?(--[\w-]+)", r.stdout, re.M))


def command_of(where, container, ferry):
    """The ferry subcommand and its options ({flag: value or True}) of a container."""
    argv = [str(a) for a in container.get("command", []) + container.get("args", [])]
    if not argv or argv[0] != FERRY_PATH_IN_IMAGE:
        problem(where, f"does not run {FERRY_PATH_IN_IMAGE}: {argv}")
        return [], {}
    words = []
    rest = argv[1:]
    while rest and not rest[0].startswith("-"):
        words.append(rest.pop(0))
    flags = help_flags(ferry, words)
    if flags is None:
        problem(where, f"'ferry {' '.join(words)}' is not a ferry command")
        return words, {}
    options = {}
    while rest:
        flag = rest.pop(0)
        if not flag.startswith("--"):
            problem(where, f"'{flag}' is not an option")
            continue
        name, _, value = flag.partition("=")
        if name not in flags:
            problem(where, f"ferry {' '.join(words)} has no option {name}")
        if not value and rest and not rest[0].startswith("--"):
            value = rest.pop(0)
        options[name] = value or True
    for secret in ("--source", "--target"):
        if secret in options:
            problem(where, f"{secret} on the command line (ps shows it): use FERRY_{secret[2:].upper()}")
    return words, options


def env_from_secret(where, container, name, required=True):
    for e in container.get("env", []):
        if e.get("name") == name:
            ref = e.get("valueFrom", {}).get("secretKeyRef", {})
            if "value" in e or not ref.get("name") or not ref.get("key"):
                problem(where, f"{name} does not come from a secretKeyRef")
                return None
            return ref["name"], ref["key"]
    if required:
        problem(where, f"no {name} in env")
    return None


def port_number(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    return None


def check_probes(where, container, port):
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container.get(probe, {}).get("httpGet")
        if not get:
            problem(where, f"no {probe} with httpGet")
            continue
        if get.get("path") != path:
            problem(where, f"{probe} asks {get.get('path')}, not {path}")
        if port_number(container, get.get("port")) != port:
            problem(where, f"{probe} port {get.get('port')} is not {port}, where ferry answers it")
        if "httpHeaders" in get:
            problem(where, f"{probe} sends headers: ferry's probes need no token")


def listen_port(where, what, text):
    """The port of an all-interfaces listen address; the kubelet probes the pod's IP."""
    host, _, port = str(text).rpartition(":")
    if host not in ("0.0.0.0", "[::]"):
        problem(where, f"{what} '{text}' is not on all interfaces: the kubelet cannot reach it")
    return int(port) if port.isdigit() else None


def mount_at(where, pod, container, path):
    """The volume mounted at `path` in `container`, with the mount."""
    for m in container.get("volumeMounts", []):
        if m.get("mountPath") == path:
            for v in pod.get("volumes", []):
                if v.get("name") == m["name"]:
                    return v, m
            return {"name": m["name"]}, m
    problem(where, f"nothing is mounted at {path}")
    return None, None


def check_proxy(objects, ferry):
    where, deployment = find(objects, "Deployment", "ferry-proxy")
    if not deployment:
        return
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    words, options = command_of(where, container, ferry)
    if words != ["proxy"]:
        problem(where, f"runs ferry {' '.join(words)}, not ferry proxy")
    config_path = options.get("--config")
    if not isinstance(config_path, str):
        problem(where, "no --config")
        return
    if "--no-watch" in options:
        problem(where, "--no-watch: a ConfigMap change would not reach the proxy")
    volume, mount = mount_at(where, pod, container, posixpath.dirname(config_path))
    if not volume:
        return
    if "subPath" in mount:
        problem(where, "the ConfigMap is mounted with subPath: the kubelet never updates it")
    config_map_name = volume.get("configMap", {}).get("name")
    if not config_map_name:
        problem(where, f"{posixpath.dirname(config_path)} is not a ConfigMap volume")
        return
    cm_where, config_map = find(objects, "ConfigMap", config_map_name)
    text = config_map.get("data", {}).get(posixpath.basename(config_path))
    if text is None:
        problem(cm_where, f"no key {posixpath.basename(config_path)} (the --config file)")
        return
    token = env_from_secret(where, container, "FERRY_ADMIN_TOKEN")
    config = yaml.safe_load(text)
    if "token" in (config.get("admin") or {}):
        problem(cm_where, "admin.token in a ConfigMap: give it from a Secret (FERRY_ADMIN_TOKEN)")
    admin_port = listen_port(cm_where, "admin.listen", config.get("admin", {}).get("listen"))
    check_probes(where, container, admin_port)
    http_port = listen_port(cm_where, "listen", config.get("listen"))
    if port_number(container, "http") != http_port:
        problem(where, f"container port http is not the config's listen port {http_port}")
    # The cluster's Service names do not resolve here, and --check resolves
    # every endpoint: the same config with loopback endpoints.
    for pool in config.get("pools", {}).values():
        pool["endpoints"] = ["127.0.0.1:" + e.rpartition(":")[2] for e in pool["endpoints"]]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump(config, f)
        f.flush()
        env = dict(os.environ, FERRY_ADMIN_TOKEN="from-the-secret")
        r = subprocess.run([ferry, "proxy", "--check", "--config", f.name], env=env,
                           capture_output=True, text=True)
        if r.returncode != 0 or token is None:
            problem(cm_where, f"ferry proxy --check refuses the config:\n{r.stderr}")
        env.pop("FERRY_ADMIN_TOKEN")
        r = subprocess.run([ferry, "proxy", "--check", "--config", f.name], env=env,
                           capture_output=True, text=True)
        if r.returncode == 0:
            problem(cm_where, "the admin API off loopback should need FERRY_ADMIN_TOKEN")
    s_where, service = find(objects, "Service", "ferry-proxy")
    selector = service.get("spec", {}).get("selector", {})
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        problem(s_where, "selects no proxy pod")
    for p in service.get("spec", {}).get("ports", []):
        if port_number(container, p.get("targetPort")) != http_port:
            problem(s_where, f"targetPort {p.get('targetPort')} is not the proxy's listen port")


def check_follow(objects, ferry):
    where, stateful_set = find(objects, "StatefulSet", "ferry-follow")
    if not stateful_set:
        return None
    spec = stateful_set["spec"]
    if spec.get("replicas") != 1:
        problem(where, "replicas must be 1: two follows must not stream one slot")
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    words, options = command_of(where, container, ferry)
    if words != ["db", "follow"]:
        problem(where, f"runs ferry {' '.join(words)}, not ferry db follow")
    secrets = [env_from_secret(where, container, n) for n in ("FERRY_SOURCE", "FERRY_TARGET")]
    metrics = options.get("--metrics-addr")
    if metrics is None:
        for e in container.get("env", []):
            if e.get("name") == "FERRY_METRICS_ADDR":
                metrics = e.get("value")
    if not metrics:
        problem(where, "no --metrics-addr or FERRY_METRICS_ADDR: no probes, no metrics")
    else:
        check_probes(where, container, listen_port(where, "--metrics-addr", metrics))
    work_dir = options.get("--dir")
    if not isinstance(work_dir, str):
        problem(where, "no --dir: the work directory would be inside the container")
        return None
    _, mount = mount_at(where, pod, container, work_dir)
    templates = [t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])]
    if mount and mount["name"] not in templates:
        problem(where, f"--dir {work_dir} is not on a volume of volumeClaimTemplates {templates}")
    claim = f"{mount['name']}-{stateful_set['metadata']['name']}-0" if mount else None
    return {"dir": work_dir, "claim": claim, "secrets": secrets}


def check_clone(objects, ferry, follow):
    where, job = find(objects, "Job", "ferry-clone")
    if not job or not follow:
        return
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    words, options = command_of(where, container, ferry)
    if words != ["db", "clone"]:
        problem(where, f"runs ferry {' '.join(words)}, not ferry db clone")
    secrets = [env_from_secret(where, container, n) for n in ("FERRY_SOURCE", "FERRY_TARGET")]
    if secrets != follow["secrets"]:
        problem(where, f"connection strings {secrets} are not follow's {follow['secrets']}")
    if options.get("--dir") != follow["dir"]:
        problem(where, f"--dir {options.get('--dir')} is not follow's {follow['dir']}")
    volume, _ = mount_at(where, pod, container, follow["dir"])
    claim = (volume or {}).get("persistentVolumeClaim", {}).get("claimName")
    if claim != follow["claim"]:
        problem(where, f"writes to claim {claim}, but the StatefulSet's pod 0 gets {follow['claim']}")
    find(objects, "PersistentVolumeClaim", follow["claim"])


def main():
    ferry = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
    objects = load_objects()
    for name, obj in objects:
        if obj.get("kind") == "Secret":
            problem(name, "a Secret in the repository: create it with kubectl create secret")
    check_proxy(objects, ferry)
    check_clone(objects, ferry, check_follow(objects, ferry))
    for p in problems:
        print(p)
    if problems:
        print(f"kubernetes_manifests_check: {len(problems)} problem(s)")
        return 1
    print(f"kubernetes_manifests_check: {len(objects)} objects checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
