#!/usr/bin/env bash
# Installs what the tests and the simulated hardware need when it is missing: npm packages and
# the Debian packages of the real servers the adapters are proven against.
# With --debian-optional a missing package that cannot be installed is reported, not fatal
# (the service then runs its simulated machines on fake-hardware instead of real servers).
set -euo pipefail
cd "$(dirname "$0")/.."
debian_optional=false
[ "${1:-}" = "--debian-optional" ] && debian_optional=true

# command -> Debian package that provides it
declare -A wanted=(
  [ipmitool]=ipmitool [ipmi_sim]=openipmi [dnsmasq]=dnsmasq-base [tftp]=tftp-hpa
  [tgtd]=tgt [iscsi-ls]=libiscsi-bin [qemu-img]=qemu-utils [sfdisk]=fdisk [mkfs.ext4]=e2fsprogs
  [blkid]=util-linux [curl]=curl [baremetal]=python3-ironicclient
  [qemu-system-x86_64]=qemu-system-x86 [busybox]=busybox-static [cpio]=cpio
)
# The web view's browser test drives Debian's headless Chromium.
wanted[chromium]=chromium
# Config drives are built as ISO9660 (genisoimage; the tests read them back with its isoinfo).
wanted[genisoimage]=genisoimage
missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${wanted[$cmd]}")
done
# Files of the VM rack: QEMU's PXE ROMs, and the BIOS boot loader dnsmasq serves.
[ -e /usr/lib/ipxe/qemu/efi-virtio.rom ] || missing+=(ipxe-qemu)
[ -e /usr/lib/PXELINUX/pxelinux.0 ] || missing+=(pxelinux)
[ -e /usr/lib/syslinux/modules/bios/ldlinux.c32 ] || missing+=(syslinux-common)
# The redfish-virtual-media boot ISO: isolinux boots the deploy kernel from it (genisoimage builds it).
[ -e /usr/lib/ISOLINUX/isolinux.bin ] || missing+=(isolinux)
# UEFI VMs: OVMF firmware, the loader dnsmasq offers them, and what builds the whole-disk test image's ESP.
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=(ovmf)
[ -e /usr/lib/SYSLINUX.EFI/efi64/syslinux.efi ] || missing+=(syslinux-efi)
command -v mkfs.fat >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.fat ] || missing+=(dosfstools)
command -v mcopy >/dev/null 2>&1 || missing+=(mtools)
# qemu-img's userspace iSCSI driver ships separately.
[ -e /usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so ] || ls /usr/lib/*/qemu/block-iscsi.so >/dev/null 2>&1 || missing+=(qemu-block-extra)
# The official Prometheus text parser, which the metrics test reads /metrics with.
[ -e /usr/lib/python3/dist-packages/prometheus_client/parser.py ] || missing+=(python3-prometheus-client)
# openstacksdk, which the instance-layer test drives the API with as a cloud client would.
[ -e /usr/lib/python3/dist-packages/openstack/baremetal/v1/_proxy.py ] || missing+=(python3-openstacksdk)
# PostgreSQL's server binaries live off PATH; the PostgreSQL store's tests start their own server.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# Redfish clients no one here wrote, that the Redfish BMC emulator is checked against.
[ -e /usr/lib/python3/dist-packages/sushy/__init__.py ] || missing+=(python3-sushy)
[ -e /usr/lib/python3/dist-packages/ironic/__init__.py ] || missing+=(python3-ironic)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages (need root to install): ${missing[*]}" >&2
    $debian_optional || exit 1
  else
    echo "installing Debian packages: ${missing[*]}"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
      echo "could not install: ${missing[*]}" >&2
      $debian_optional || exit 1
    fi
  fi
fi

if [ ! -x node_modules/.bin/node ] || [ ! -d node_modules/effect ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
