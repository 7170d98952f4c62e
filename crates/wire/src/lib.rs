//! The Nitro wire contract between a Sworn enclave and its parent instance:
//! the vsock CIDs and ports both sides use, the boot heartbeat, and the names
//! through which the enclave's init learns (kernel command line) and passes
//! on (environment) where its parent is.
//!
//! Constants only, no dependencies and `no_std`: init, a static PID 1, links
//! it, and so do host-proxy, egress, the runner and the end-to-end tests, so
//! that each value is spelled once. Changing a value here changes the wire:
//! the parent side (nitro-cli, host-proxy) and the measured image must agree.

#![no_std]
#![forbid(unsafe_code)]

/// vsock context identifiers (CIDs).
pub mod cid {
    /// The parent instance, as an enclave addresses it. Fixed by AWS Nitro
    /// Enclaves: nitro-cli's heartbeat listener and host-proxy's egress
    /// listener are reached at this CID.
    pub const PARENT: u32 = 3;
    /// The host (`VMADDR_CID_HOST`, Linux `<linux/vm_sockets.h>`). Under the
    /// emulator (QEMU's nitro-enclave machine with vhost-device-vsock), the
    /// guest reaches the host only here, so the image is booted with
    /// [`crate::kernel::PARENT_CID`]`=2`.
    pub const HOST: u32 = 2;
    /// `VMADDR_CID_ANY` (Linux `<linux/vm_sockets.h>`): listen on every CID.
    pub const ANY: u32 = u32::MAX;
}

/// The boot heartbeat (nitro-cli's protocol, as in aws-nitro-enclaves-sdk-bootstrap's init).
pub mod heartbeat {
    /// The vsock port on the parent ([`crate::cid::PARENT`]) the enclave's
    /// init connects to once booted. nitro-cli listens here before it starts
    /// the enclave and treats a missing heartbeat as a failed boot; host-proxy
    /// answers it where nitro-cli is absent (emulator).
    pub const PORT: u32 = 9000;
    /// The byte init writes, and the parent echoes back.
    pub const BYTE: u8 = 0xB7;
}

/// vsock ports of Sworn's own services (Sworn's choice, not AWS's: the
/// enclave image and host-proxy's defaults must agree on them).
pub mod port {
    /// Where the runner listens inside the enclave (any CID) for ingress;
    /// host-proxy's ingress routes forward to `vsock:<enclave CID>:RUNNER`.
    pub const RUNNER: u32 = 1057;
    /// Where host-proxy's SOCKS5 egress listens on the parent (any CID); the
    /// enclave's egress dials `vsock:<parent CID>:EGRESS`. The same number as
    /// [`RUNNER`], on the other side of the link (as in Escrin's setup).
    pub const EGRESS: u32 = 1057;
}

/// Environment variables init sets for the process it starts.
pub mod env {
    /// The parent's CID, decimal: [`crate::cid::PARENT`] unless the kernel
    /// command line said otherwise ([`crate::kernel::PARENT_CID`]). The
    /// runner dials its egress proxy there.
    pub const PARENT_CID: &str = "SWORN_PARENT_CID";
}

/// Kernel command-line parameters init reads (`key=value`). On Nitro the
/// command line is in the EIF and measured into PCR0/PCR1; QEMU's `-append`
/// adds unmeasured text, which is how the same image runs under the emulator.
pub mod kernel {
    /// What every Sworn parameter starts with; init rejects unknown ones.
    pub const PREFIX: &str = "sworn.";
    /// The parent's vsock CID (default [`crate::cid::PARENT`]).
    pub const PARENT_CID: &str = "sworn.parent_cid";
    /// Deadline of the whole heartbeat exchange (a duration: `10s`; a bare
    /// number is milliseconds).
    pub const HEARTBEAT_TIMEOUT: &str = "sworn.heartbeat_timeout";
    /// When init restarts the runner (`never`, `on-failure`, `always`).
    pub const RESTART: &str = "sworn.restart";
    /// How many restarts at most (a number or `unlimited`).
    pub const RESTART_MAX: &str = "sworn.restart_max";
    /// First restart backoff (a duration; a bare number is milliseconds).
    pub const BACKOFF_INITIAL: &str = "sworn.backoff_initial";
    /// Longest restart backoff (a duration; a bare number is milliseconds).
    pub const BACKOFF_MAX: &str = "sworn.backoff_max";
    /// After this long up, a run counts as stable and the backoff resets (a
    /// duration; a bare number is seconds).
    pub const STABLE_AFTER: &str = "sworn.stable_after";
    /// How long the runner has after SIGTERM before SIGKILL (a duration; a
    /// bare number is milliseconds).
    pub const STOP_TIMEOUT: &str = "sworn.stop_timeout";
    /// A deliberate failure for the end-to-end tests (`panic`).
    pub const SELFTEST: &str = "sworn.selftest";
    /// Every parameter above, in the order init lists them. (init still
    /// accepts the pre-0.2 spellings `…_ms` / `stable_after_s` for one release.)
    pub const ALL: [&str; 9] = [
        PARENT_CID,
        HEARTBEAT_TIMEOUT,
        RESTART,
        RESTART_MAX,
        BACKOFF_INITIAL,
        BACKOFF_MAX,
        STABLE_AFTER,
        STOP_TIMEOUT,
        SELFTEST,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values other parties fix: a change here breaks booting on Nitro.
    #[test]
    fn nitro_values_are_the_ones_nitro_cli_uses() {
        assert_eq!(cid::PARENT, 3);
        assert_eq!(heartbeat::PORT, 9000);
        assert_eq!(heartbeat::BYTE, 0xB7);
        assert_eq!(cid::HOST, 2);
        assert_eq!(cid::ANY, 0xFFFF_FFFF);
    }

    #[test]
    fn sworn_ports_match_the_deployed_defaults() {
        assert_eq!(port::RUNNER, 1057);
        assert_eq!(port::EGRESS, 1057);
        assert_eq!(env::PARENT_CID, "SWORN_PARENT_CID");
    }

    #[test]
    fn every_kernel_parameter_has_the_prefix_and_is_listed_once() {
        for (i, p) in kernel::ALL.iter().enumerate() {
            assert!(p.starts_with(kernel::PREFIX) && p.len() > kernel::PREFIX.len(), "{p}");
            assert!(!kernel::ALL[i + 1..].contains(p), "{p} twice");
        }
        assert_eq!(kernel::PARENT_CID, "sworn.parent_cid");
    }
}
