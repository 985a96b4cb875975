#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/debian-packages.txt that are
# not installed yet. Does nothing (and needs no network) when all are present.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
list="${here}/debian-packages.txt"

missing=()
while read -r pkg; do
    pkg="${pkg%%#*}"
    pkg="${pkg//[[:space:]]/}"
    [[ -z "${pkg}" ]] && continue
    status="$(dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null || true)"
    if [[ "${status}" != "install ok installed" ]]; then
        missing+=("${pkg}")
    fi
done < "${list}"

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all $(grep -cvE '^\s*(#|$)' "${list}") packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once if an install fails.
if ! ${sudo} apt-get install -y --no-install-recommends "${missing[@]}"; then
    ${sudo} apt-get update
    ${sudo} apt-get install -y --no-install-recommends "${missing[@]}"
fi
