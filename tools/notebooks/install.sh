#!/usr/bin/env bash
# Install what executing notebooks/ needs: Jupyter from Debian's packages and
# the GoNB kernel (with goimports) built from the Go module proxy.
# Run as root (CI) or with sudo. Idempotent.
set -euo pipefail

GONB_VERSION=v0.11.1        # the newest the module proxy serves
GOIMPORTS_VERSION=v0.28.0

if ! /usr/bin/python3 -c 'import nbclient, nbformat, ipykernel' 2>/dev/null || [ ! -x /usr/bin/jupyter ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends jupyter-notebook python3-jupyter-client python3-nbconvert \
		python3-nbclient python3-ipykernel jupyter-nbconvert >/dev/null
fi

GOBIN=$(go env GOPATH)/bin
export PATH=$GOBIN:$PATH
if ! command -v goimports >/dev/null; then
	go install golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION
fi
if ! command -v gonb >/dev/null; then
	# `go install gonb@version` is refused by the proxy's version list, so build
	# it from a small wrapper module.
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cd "$tmp"
	go mod init gonbwrapper >/dev/null 2>&1
	printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/janpfeifer/gonb"\n' >tools.go
	go get github.com/janpfeifer/gonb@$GONB_VERSION >/dev/null 2>&1
	go mod tidy >/dev/null 2>&1
	go install github.com/janpfeifer/gonb
	cd - >/dev/null
fi
gonb --install --force_deps >/dev/null 2>&1 || gonb --install --force_deps
jv=$(/usr/bin/jupyter --version 2>/dev/null | awk '/^notebook/ {print $3}')
echo "notebooks: Jupyter notebook ${jv:-?}, GoNB $GONB_VERSION, goimports $GOIMPORTS_VERSION"
