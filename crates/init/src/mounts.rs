//! The filesystems init mounts, and the switch into nitro-cli's `/rootfs`.

use std::fs::DirBuilder;
use std::os::unix::fs::{symlink, DirBuilderExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::unistd::{chdir, chroot};

use crate::error::InitError;

/// One mount: `fstype` on `target` (relative to the root being prepared).
#[derive(Debug, Clone, Copy)]
pub struct MountSpec {
    pub fstype: &'static str,
    pub target: &'static str,
    pub flags: MsFlags,
    pub data: Option<&'static str>,
}

const NOSUID_NODEV: MsFlags = MsFlags::MS_NOSUID.union(MsFlags::MS_NODEV);
const NOSUID_NODEV_NOEXEC: MsFlags = NOSUID_NODEV.union(MsFlags::MS_NOEXEC);

/// `/dev` first: the console lives there.
pub const DEV: MountSpec =
    MountSpec { fstype: "devtmpfs", target: "dev", flags: MsFlags::MS_NOSUID, data: Some("mode=0755") };

/// The rest, in mount order (parents before children).
pub const OTHERS: [MountSpec; 6] = [
    MountSpec {
        fstype: "devpts",
        target: "dev/pts",
        flags: MsFlags::MS_NOSUID.union(MsFlags::MS_NOEXEC),
        data: Some("newinstance,ptmxmode=0666,mode=0620"),
    },
    MountSpec { fstype: "tmpfs", target: "dev/shm", flags: NOSUID_NODEV, data: Some("mode=1777") },
    MountSpec { fstype: "proc", target: "proc", flags: NOSUID_NODEV_NOEXEC, data: None },
    MountSpec { fstype: "sysfs", target: "sys", flags: NOSUID_NODEV_NOEXEC, data: None },
    MountSpec { fstype: "tmpfs", target: "run", flags: NOSUID_NODEV, data: Some("mode=0755") },
    MountSpec { fstype: "tmpfs", target: "tmp", flags: NOSUID_NODEV, data: Some("mode=1777") },
];

/// Mounts `spec` under `root`, creating the mount point when missing.
pub fn mount_one(root: &Path, spec: &MountSpec) -> Result<(), InitError> {
    let target = root.join(spec.target);
    DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&target)
        .map_err(|source| InitError::MountPoint { path: target.clone(), source })?;
    mount(Some(spec.fstype), &target, Some(spec.fstype), spec.flags, spec.data).map_err(|source| InitError::Mount {
        fstype: spec.fstype,
        target,
        source,
    })
}

/// Mounts everything in [`OTHERS`] under `root` and adds the usual /dev links.
pub fn mount_others(root: &Path) -> Result<(), InitError> {
    for spec in &OTHERS {
        mount_one(root, spec)?;
    }
    // Conventional links that devtmpfs does not create; existing ones are kept.
    for (link, to) in [
        ("dev/fd", "/proc/self/fd"),
        ("dev/stdin", "/proc/self/fd/0"),
        ("dev/stdout", "/proc/self/fd/1"),
        ("dev/stderr", "/proc/self/fd/2"),
        ("dev/ptmx", "pts/ptmx"),
    ] {
        let _ = symlink(to, root.join(link));
    }
    Ok(())
}

/// Makes `new_root` the root directory: bind it onto itself (so it is a mount),
/// move it over `/` and chroot, as switch_root does for an initramfs.
pub fn switch_root(new_root: &Path) -> Result<(), InitError> {
    let err = |step, source| InitError::SwitchRoot { path: new_root.to_owned(), step, source };
    mount(Some(new_root), new_root, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
        .map_err(|e| err("bind mount", e))?;
    chdir(new_root).map_err(|e| err("chdir", e))?;
    mount(Some("."), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>).map_err(|e| err("move mount", e))?;
    chroot(".").map_err(|e| err("chroot", e))?;
    chdir("/").map_err(|e| err("chdir /", e))
}

/// The root the application runs in: nitro-cli's `/rootfs` when the image has
/// one, else the initramfs root itself.
pub fn app_root(initramfs_root: &Path) -> Option<PathBuf> {
    let rootfs = initramfs_root.join("rootfs");
    rootfs.is_dir().then_some(rootfs)
}

/// `EBUSY` from mounting over an existing mount is the only benign failure.
pub fn already_mounted(e: &InitError) -> bool {
    matches!(e, InitError::Mount { source: Errno::EBUSY, .. })
}
