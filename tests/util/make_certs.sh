#!/usr/bin/env bash
# tests/util/make_certs.sh DIR -- throwaway TLS material for the tests, made
# with the openssl command line at test time (no private key is committed):
#   ca.pem ca.key            a test CA
#   server.pem server.key    ECDSA P-256, localhost + 127.0.0.1 + ::1, by the CA
#   server2.pem server2.key  the same names, another key (reload tests)
#   rsa.pem rsa.key          RSA-2048, localhost + 127.0.0.1
#   other.pem other.key      other.test + *.other.test (SNI tests)
#   client.pem client.key    a client certificate (CN=squall test client)
#   enc.key                  server.key encrypted with the password "hunter2"
set -euo pipefail
dir=${1:?usage: make_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
ec() { echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256"; }
openssl req -x509 $(ec) -nodes -days 2 -subj "/CN=squall test CA" \
  -keyout ca.key -out ca.pem 2> /dev/null
leaf() { # name subject san [keyspec]
  local name=$1 subj=$2 san=$3 keyspec=${4:-$(ec)}
  openssl req $keyspec -nodes -subj "$subj" -keyout "$name.key" -out "$name.csr" 2> /dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$name.ext" -out "$name.pem" 2> /dev/null
  rm -f "$name.csr" "$name.ext"
}
leaf server "/CN=localhost" "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf server2 "/CN=localhost/O=reloaded" "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf rsa "/CN=localhost/O=rsa" "DNS:localhost,IP:127.0.0.1" "-newkey rsa:2048"
leaf other "/CN=other.test" "DNS:other.test,DNS:*.other.test"
leaf client "/CN=squall test client/O=squall" "DNS:client.test"
openssl pkey -in server.key -aes256 -passout pass:hunter2 -out enc.key 2> /dev/null
