#!/usr/bin/env bash
# Makes the webhook's certificates with the openssl CLI (EC P-256, fast):
#   ca.crt/ca.key              the CA the apiserver trusts (caBundle) and that signs the rest
#   tls.crt/tls.key            the serving certificate: Service DNS names, localhost, 127.0.0.1, ::1
#   client.crt/client.key      a client certificate (clientAuth) for the apiserver, when mTLS is on
#   other-ca.crt/other-ca.key, other-client.crt/other-client.key
#                              an unrelated CA and a client certificate from it (tests of mTLS refusal)
# Usage: certs/make-certs.sh [OUTDIR]   (default certs/out). Idempotent: existing files are kept;
# delete OUTDIR to start over. Set SERVICE / NAMESPACE to change the DNS names.
set -euo pipefail

out="${1:-$(dirname "$0")/out}"
service="${SERVICE:-pod-security-webhook}"
namespace="${NAMESPACE:-pod-security-webhook}"
days="${DAYS:-825}"

mkdir -p "$out"
cd "$out"
umask 077

new_key() { # file
    [ -s "$1" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
    chmod 600 "$1"
}

new_ca() { # name subject
    new_key "$1.key"
    if [ ! -s "$1.crt" ]; then
        openssl req -x509 -new -key "$1.key" -sha256 -days "$days" -subj "$2" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -addext "subjectKeyIdentifier=hash" \
            -out "$1.crt"
    fi
}

# Signs a leaf: name ca subject extensions-text
new_leaf() {
    new_key "$1.key"
    # Re-sign when the certificate is missing, does not verify against its CA (the CA was remade),
    # or does not match its key.
    if [ -s "$1.crt" ] && { ! openssl verify -CAfile "$2.crt" "$1.crt" >/dev/null 2>&1 ||
        [ "$(openssl x509 -in "$1.crt" -noout -pubkey)" != "$(openssl pkey -in "$1.key" -pubout)" ]; }; then
        rm -f "$1.crt"
    fi
    if [ ! -s "$1.crt" ]; then
        printf '%s\n' "$4" > "$1.ext"
        openssl req -new -key "$1.key" -subj "$3" -out "$1.csr"
        openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
            -days "$days" -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
        rm -f "$1.csr" "$1.ext"
    fi
}

new_ca ca "/CN=pod-security-webhook-ca"
new_ca other-ca "/CN=unrelated-ca"

new_leaf tls ca "/CN=$service.$namespace.svc" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$service,DNS:$service.$namespace,DNS:$service.$namespace.svc,DNS:$service.$namespace.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:::1"

new_leaf client ca "/CN=kube-apiserver-webhook-client" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

new_leaf other-client other-ca "/CN=unrelated-client" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

chmod 644 ./*.crt
chmod 600 ./*.key
echo "certificates in $(pwd)"
