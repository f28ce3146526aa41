#!/usr/bin/env bash
# End-to-end test on a kind cluster with the built-in PodSecurity plugin disabled: builds the image, deploys
# the webhook with certs/make-certs.sh's certificates, and checks real API-server decisions and messages.
# Needs docker, kind and kubectl; exits 0 with a notice where they are missing (set E2E_REQUIRED=1 to fail).
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER="${KIND_CLUSTER:-psw-e2e}"
IMAGE="pod-security-webhook:dev"

for tool in docker kind kubectl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "e2e: $tool not found; skipping the kind end-to-end test" >&2
        [ "${E2E_REQUIRED:-0}" = 1 ] && exit 1
        exit 0
    fi
done

cleanup() { [ "${KEEP_CLUSTER:-0}" = 1 ] || kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true; }
trap cleanup EXIT

kind create cluster --name "$CLUSTER" --config deploy/kind-config.yaml --wait 120s
docker build -f deploy/Dockerfile -t "$IMAGE" .
kind load docker-image --name "$CLUSTER" "$IMAGE"

certs/make-certs.sh certs/out
kubectl apply -f deploy/namespace.yaml
kubectl -n pod-security-webhook create secret tls pod-security-webhook-tls \
    --cert=certs/out/tls.crt --key=certs/out/tls.key --dry-run=client -o yaml | kubectl apply -f -
CA_BUNDLE="$(base64 -w0 < certs/out/ca.crt)"
kubectl apply -f deploy/rbac.yaml -f deploy/config.yaml -f deploy/deployment.yaml
kubectl -n pod-security-webhook rollout status deploy/pod-security-webhook --timeout=180s
sed "s|CA_BUNDLE|${CA_BUNDLE}|g" deploy/webhook.yaml | kubectl apply -f -
sleep 3

fail() { echo "e2e FAIL: $*" >&2; exit 1; }

kubectl create namespace e2e-restricted --dry-run=client -o yaml | kubectl apply -f -
kubectl label --overwrite namespace e2e-restricted pod-security.kubernetes.io/enforce=restricted

# 1. A privileged pod is denied with PSA's message.
out="$(kubectl -n e2e-restricted run bad --image=registry.k8s.io/pause:3.9 --restart=Never \
    --overrides='{"spec":{"containers":[{"name":"bad","image":"registry.k8s.io/pause:3.9","securityContext":{"privileged":true}}]}}' 2>&1 || true)"
grep -q 'pods "bad" is forbidden: violates PodSecurity "restricted:latest": privileged' <<<"$out" || fail "privileged pod: $out"

# 2. A restricted pod is admitted.
kubectl -n e2e-restricted apply -f - <<'POD' || fail "restricted pod was refused"
apiVersion: v1
kind: Pod
metadata: {name: good}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: pause
      image: registry.k8s.io/pause:3.9
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: ["ALL"]}}
POD

# 3. A violating Deployment is admitted with PSA's warning.
out="$(kubectl -n e2e-restricted create deployment web --image=registry.k8s.io/pause:3.9 2>&1)"
grep -q 'would violate PodSecurity "restricted:latest"' <<<"$out" || fail "deployment warning: $out"

# 4. An invalid namespace label is rejected.
out="$(kubectl label --overwrite namespace e2e-restricted pod-security.kubernetes.io/enforce=strict 2>&1 || true)"
grep -q 'must be one of privileged, baseline, restricted' <<<"$out" || fail "invalid label: $out"

# 5. Tightening a namespace warns about its existing pods.
kubectl create namespace e2e-loose --dry-run=client -o yaml | kubectl apply -f -
kubectl -n e2e-loose run loose --image=registry.k8s.io/pause:3.9 --restart=Never >/dev/null
out="$(kubectl label --overwrite namespace e2e-loose pod-security.kubernetes.io/enforce=restricted 2>&1)"
grep -q 'existing pods in namespace "e2e-loose" violate the new PodSecurity enforce level "restricted:latest"' <<<"$out" \
    || fail "tightening warning: $out"

echo "e2e: all checks passed"
