# Shared by the scripts that debootstrap a Debian root: sourced, not run.
# shellcheck shell=bash

# This machine's Debian release, e.g. bookworm.
default_suite() {
    # shellcheck disable=SC1091
    (. /etc/os-release && printf '%s\n' "${VERSION_CODENAME:-}")
}

# The first Debian mirror (not the security archive) apt is configured with, from deb822
# .sources files or one-line sources.list entries.
default_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        awk '
            /^[[:space:]]*#/ { next }
            /^URIs:/ { for (i = 2; i <= NF; i++) print $i; next }
            /^deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }
        ' "$f"
    done | grep -v -e security -e '^$' | grep -E '/debian/?$' | head -n 1
}
