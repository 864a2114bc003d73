#!/usr/bin/env bash
# Installs what the deployment checks (test/unit/deploy.test.ts) need, offline from then on:
#   .cache/bin/helm                       helm, built from the Go module proxy
#   .cache/deploy-schemas/compose-spec.json               the Compose Specification's schema (compose-go module)
#   .cache/deploy-schemas/crds/*.yaml                     ServiceMonitor and PrometheusRule CRDs (prometheus-operator module)
#   .cache/deploy-schemas/kubernetes/v<version>-local-strict/   Kubernetes JSON schemas (PyPI kubernetes-validate)
# Idempotent: each part is skipped while its stamp names the pinned version. First run: about
# 4 minutes on 2 cores (building helm); later runs: instant.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

HELM_VERSION=v3.22.0
COMPOSE_GO_VERSION=v2.16.2 # v2.17 needs Go >= 1.26.11
PROMETHEUS_OPERATOR_VERSION=v0.85.0
KUBERNETES_VALIDATE_VERSION=1.37.0
# The oldest and newest Kubernetes the chart is checked against (Chart.yaml: kubeVersion >=1.25).
KUBERNETES_VERSIONS="1.25.0 1.37.0"

bin="$root/.cache/bin"
schemas="$root/.cache/deploy-schemas"
mkdir -p "$bin" "$schemas"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ "$(cat "$bin/helm.stamp" 2>/dev/null)" != "$HELM_VERSION" ] || [ ! -x "$bin/helm" ]; then
  echo "building helm $HELM_VERSION from the Go module proxy"
  (cd "$work" && GOBIN="$bin" GOFLAGS=-modcacherw go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
  echo "$HELM_VERSION" >"$bin/helm.stamp"
fi

schema_stamp="compose-go $COMPOSE_GO_VERSION, prometheus-operator $PROMETHEUS_OPERATOR_VERSION, kubernetes-validate $KUBERNETES_VALIDATE_VERSION ($KUBERNETES_VERSIONS)"
if [ "$(cat "$schemas/stamp" 2>/dev/null)" != "$schema_stamp" ]; then
  module_dir() {
    (cd "$work" && GOFLAGS=-modcacherw go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  }
  echo "fetching the compose specification schema (github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION)"
  compose_dir="$(module_dir "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION")"
  cp "$compose_dir/schema/compose-spec.json" "$schemas/compose-spec.json"

  echo "fetching the prometheus-operator CRDs (github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION)"
  operator_dir="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")"
  mkdir -p "$schemas/crds"
  for crd in servicemonitors prometheusrules; do
    cp "$operator_dir/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml" "$schemas/crds/"
  done
  chmod -R u+w "$schemas"

  echo "fetching the Kubernetes JSON schemas (PyPI kubernetes-validate==$KUBERNETES_VALIDATE_VERSION)"
  python3 -m pip download --quiet --no-deps --dest "$work" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  rm -rf "$schemas/kubernetes"
  python3 - "$work"/kubernetes_validate-*.whl "$schemas/kubernetes" $KUBERNETES_VERSIONS <<'PY'
import os, sys, zipfile
wheel, dest, versions = sys.argv[1], sys.argv[2], sys.argv[3:]
prefixes = [f"kubernetes_validate/kubernetes-json-schema/v{v}-local-strict/" for v in versions]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        for prefix in prefixes:
            if name.startswith(prefix) and not name.endswith("/"):
                target = os.path.join(dest, name[len("kubernetes_validate/kubernetes-json-schema/"):])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with z.open(name) as src, open(target, "wb") as out:
                    out.write(src.read())
for prefix in prefixes:
    if not os.path.isdir(os.path.join(dest, prefix.split("/")[-2])):
        sys.exit(f"{wheel} has no {prefix}")
PY
  echo "$schema_stamp" >"$schemas/stamp"
fi

"$bin/helm" version --short
cat "$schemas/stamp"
