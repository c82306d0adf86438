#!/usr/bin/env bash
# Builds the Clickwise container image (deploy/Containerfile, FROM scratch) with podman:
# a release build, then a build context under .build/image with the binary, the libraries `ldd`
# lists for it and for libonnxruntime, ONNX Runtime from .venv and the bundles of models/.
#
#   scripts/build_image.sh [TAG]     (default localhost/clickwise:latest)
#
# Before `podman build`, the assembled root file system is tried with chroot (containers cannot run
# here): the binary must load ONNX Runtime and a model from it alone.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-localhost/clickwise:latest}"

scripts/setup.sh
if ! command -v podman >/dev/null; then
  echo "build_image.sh: installing Debian's podman"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq podman >/dev/null
fi

swift build -c release --product clickwise
binary="$(swift build -c release --show-bin-path)/clickwise"

ort=(.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*)
if [ ! -e "${ort[0]}" ]; then
  echo "build_image.sh: no libonnxruntime.so* in .venv's onnxruntime wheel; run scripts/setup.sh" >&2
  exit 1
fi

context=.build/image
rootfs="$context/rootfs"
# A run stopped during the chroot check may have left /proc bound in: never delete through it.
umount "$rootfs/proc" 2>/dev/null || true
rm -rf --one-file-system "$context"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/opt/onnxruntime/lib" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$binary" "$rootfs/usr/local/bin/clickwise"
for lib in "${ort[@]}"; do cp -L "$lib" "$rootfs/opt/onnxruntime/lib/"; done
ln -s "$(basename "${ort[0]}")" "$rootfs/opt/onnxruntime/lib/libonnxruntime.so"

# Every library ldd resolves (the loader included, at its own path), copied to the same absolute
# path with symlinks followed, so RUNPATH and the loader's default directories find them as here.
copied=0
while read -r path; do
  mkdir -p "$rootfs$(dirname "$path")"
  cp -L "$path" "$rootfs$path"
  copied=$((copied + 1))
done < <(ldd "$binary" "${ort[0]}" | awk '/=> \// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | LC_ALL=C sort -u)
if ldd "$binary" "${ort[0]}" | grep -q "not found"; then
  ldd "$binary" "${ort[0]}" | grep "not found" >&2
  echo "build_image.sh: a library is missing on this machine (above)" >&2
  exit 1
fi

mkdir -p "$rootfs/models"
cp -R models/. "$rootfs/models/"
cp deploy/Containerfile "$context/Containerfile"

echo "build_image.sh: context $context: $copied libraries, $(du -sh "$rootfs" | cut -f1) in all"
# The image's file system must be enough on its own: inside it, as the image's user and with the
# image's ORT_DYLIB_PATH, the binary must start, load ONNX Runtime and open a shipped model. The Swift
# runtime reads its arguments from /proc/self/cmdline, so /proc is bound in for the check (a container
# runtime mounts its own there) and unbound before the build.
mkdir -p "$rootfs/proc"
mount --bind /proc "$rootfs/proc"
trap 'umount "$rootfs/proc" 2>/dev/null || true' EXIT
chroot="$(command -v chroot)"
env -i ORT_DYLIB_PATH=/opt/onnxruntime/lib/libonnxruntime.so \
  "$chroot" --userspec=65532:65532 "$rootfs" /usr/local/bin/clickwise inspect /models/deepfm/1/model.onnx \
  >"$context/chroot-check.log" 2>&1 || true
umount "$rootfs/proc"
trap - EXIT
if ! grep -q '^runtime: *ONNX Runtime .*(/opt/onnxruntime/lib/libonnxruntime.so)' "$context/chroot-check.log" \
   || ! grep -q '^inputs:' "$context/chroot-check.log"; then
  cat "$context/chroot-check.log" >&2
  echo "build_image.sh: clickwise did not load ONNX Runtime and a model inside $rootfs (chroot, log above); the image would not either" >&2
  exit 1
fi
echo "build_image.sh: inside the image's file system (chroot, user 65532): $(grep '^runtime:' "$context/chroot-check.log")"

podman build --tag "$tag" --file "$context/Containerfile" "$context"
podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$tag"
