//! The host side of WASI preview 1 (`wasi_snapshot_preview1`) as Sworn
//! offers it: every function of the snapshot is linked, so any command
//! module built by a WASI toolchain instantiates, but only these do
//! anything:
//!
//! - stdin (fd 0) reads the request body; stdout (fd 1) and stderr (fd 2)
//!   write into bounded buffers;
//! - `args_*` and `environ_*` give what the run was started with;
//! - `clock_*` give real time, a monotonic clock and CPU time;
//! - `random_get` fills from the enclave's random source;
//! - `poll_oneoff` sleeps on clock subscriptions (within the run's
//!   wall-clock limit) and reports stdio as ready;
//! - `proc_exit` ends the run with its code.
//!
//! There are no other descriptors: no preopened directory, so every `fd_*`
//! call on another descriptor and every `path_*` call fails with `EBADF`,
//! and `sock_*` fail with `ENOTSUP`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use wasmtime::{Caller, Extern, Linker};

use crate::program::{RunState, Stop};

/// The import module every function here is linked under.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// Every function of the snapshot, as a module may import it.
pub const FUNCTIONS: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// WASI errno values used here.
mod errno {
    pub const SUCCESS: i32 = 0;
    pub const BADF: i32 = 8;
    pub const FAULT: i32 = 21;
    pub const INVAL: i32 = 28;
    pub const IO: i32 = 29;
    pub const NOSYS: i32 = 52;
    pub const NOTSUP: i32 = 58;
    pub const SPIPE: i32 = 70;
}

/// Most iovecs one read or write may pass (Linux's `IOV_MAX`).
const MAX_IOVS: u32 = 1024;
/// Most subscriptions one `poll_oneoff` may pass.
const MAX_SUBSCRIPTIONS: u32 = 1024;

/// What a run's WASI world holds.
pub struct WasiCtx {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdin: Bytes,
    stdin_pos: usize,
    pub(crate) stdout: Vec<u8>,
    stdout_cap: usize,
    pub(crate) stderr: Vec<u8>,
    stderr_cap: usize,
    pub(crate) stderr_dropped: usize,
    started: Instant,
    pub(crate) deadline: Instant,
}

impl WasiCtx {
    pub(crate) fn new(
        args: Vec<String>,
        env: Vec<(String, String)>,
        stdin: Bytes,
        stdout_cap: usize,
        stderr_cap: usize,
        deadline: Instant,
    ) -> WasiCtx {
        WasiCtx {
            args: args.into_iter().map(String::into_bytes).collect(),
            env: env.into_iter().map(|(k, v)| format!("{k}={v}").into_bytes()).collect(),
            stdin,
            stdin_pos: 0,
            stdout: Vec::new(),
            stdout_cap,
            stderr: Vec::new(),
            stderr_cap,
            stderr_dropped: 0,
            started: Instant::now(),
            deadline,
        }
    }
}

/// A guest address range outside its memory.
struct Fault;

fn slice(mem: &[u8], ptr: u32, len: u32) -> Result<&[u8], Fault> {
    let start = ptr as usize;
    mem.get(start..start.checked_add(len as usize).ok_or(Fault)?).ok_or(Fault)
}

fn slice_mut(mem: &mut [u8], ptr: u32, len: u32) -> Result<&mut [u8], Fault> {
    let start = ptr as usize;
    mem.get_mut(start..start.checked_add(len as usize).ok_or(Fault)?).ok_or(Fault)
}

fn read_u32(mem: &[u8], ptr: u32) -> Result<u32, Fault> {
    let b = slice(mem, ptr, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn write(mem: &mut [u8], ptr: u32, bytes: &[u8]) -> Result<(), Fault> {
    slice_mut(mem, ptr, bytes.len() as u32)?.copy_from_slice(bytes);
    Ok(())
}

fn write_u32(mem: &mut [u8], ptr: u32, v: u32) -> Result<(), Fault> {
    write(mem, ptr, &v.to_le_bytes())
}

fn write_u64(mem: &mut [u8], ptr: u32, v: u64) -> Result<(), Fault> {
    write(mem, ptr, &v.to_le_bytes())
}

/// The errno of a call that only touched guest memory.
fn done(r: Result<(), Fault>) -> i32 {
    match r {
        Ok(()) => errno::SUCCESS,
        Err(Fault) => errno::FAULT,
    }
}

/// The guest's exported memory and the run's context, or `None` when the
/// module exports no memory (refused at upload, so never in practice).
fn memory<'a>(caller: &'a mut Caller<'_, RunState>) -> Option<(&'a mut [u8], &'a mut WasiCtx)> {
    let Some(Extern::Memory(mem)) = caller.get_export("memory") else { return None };
    let (data, state) = mem.data_and_store_mut(caller);
    Some((data, &mut state.wasi))
}

/// Runs `f` on the guest's memory and context; `EFAULT`-style errors
/// become errno, [`Stop`]s end the run.
fn with_mem(
    caller: &mut Caller<'_, RunState>,
    f: impl FnOnce(&mut [u8], &mut WasiCtx) -> Result<i32, Stop>,
) -> wasmtime::Result<i32> {
    match memory(caller) {
        Some((mem, ctx)) => f(mem, ctx).map_err(wasmtime::Error::new),
        None => Ok(errno::FAULT),
    }
}

fn is_stdio(fd: i32) -> bool {
    (0..=2).contains(&fd)
}

/// For calls that make no sense on a pipe-like stdio descriptor.
fn stdio_or_badf(fd: i32, on_stdio: i32) -> i32 {
    if is_stdio(fd) {
        on_stdio
    } else {
        errno::BADF
    }
}

/// Writes `strings` as a NUL-terminated array at `buf` with pointers at `ptrs`.
fn put_strings(mem: &mut [u8], strings: &[Vec<u8>], ptrs: u32, buf: u32) -> Result<(), Fault> {
    let mut at = buf;
    for (i, s) in strings.iter().enumerate() {
        write_u32(mem, ptrs.checked_add(4 * i as u32).ok_or(Fault)?, at)?;
        write(mem, at, s)?;
        let end = at.checked_add(s.len() as u32).ok_or(Fault)?;
        write(mem, end, &[0])?;
        at = end.checked_add(1).ok_or(Fault)?;
    }
    Ok(())
}

fn put_sizes(mem: &mut [u8], strings: &[Vec<u8>], count: u32, size: u32) -> Result<(), Fault> {
    write_u32(mem, count, strings.len() as u32)?;
    write_u32(mem, size, strings.iter().map(|s| s.len() as u32 + 1).sum())
}

/// The (address, length) pairs of an iovec array.
fn iovecs(mem: &[u8], iovs: u32, len: u32) -> Result<Vec<(u32, u32)>, i32> {
    if len > MAX_IOVS {
        return Err(errno::INVAL);
    }
    (0..len)
        .map(|i| {
            let at = iovs.checked_add(8 * i).ok_or(errno::FAULT)?;
            let len_at = at.checked_add(4).ok_or(errno::FAULT)?;
            Ok((read_u32(mem, at).map_err(|_| errno::FAULT)?, read_u32(mem, len_at).map_err(|_| errno::FAULT)?))
        })
        .collect()
}

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_PROCESS_CPUTIME: i32 = 2;
const CLOCK_THREAD_CPUTIME: i32 = 3;

fn clock_now(ctx: &WasiCtx, id: i32) -> Option<u64> {
    match id {
        CLOCK_REALTIME => Some(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)),
        // Counted from the start of the run: monotonic, and says nothing
        // about how long the enclave has been up.
        CLOCK_MONOTONIC => Some(ctx.started.elapsed().as_nanos() as u64),
        CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => Some(crate::program::thread_cpu().as_nanos() as u64),
        _ => None,
    }
}

fn fd_write(mem: &mut [u8], ctx: &mut WasiCtx, fd: i32, iovs: u32, len: u32, nwritten: u32) -> Result<i32, Stop> {
    if fd != 1 && fd != 2 {
        return Ok(errno::BADF);
    }
    let vecs = match iovecs(mem, iovs, len) {
        Ok(v) => v,
        Err(e) => return Ok(e),
    };
    let mut total: u32 = 0;
    for (ptr, n) in vecs {
        let Ok(bytes) = slice(mem, ptr, n) else { return Ok(errno::FAULT) };
        if fd == 1 {
            if ctx.stdout.len() + bytes.len() > ctx.stdout_cap {
                return Err(Stop::Output(ctx.stdout_cap));
            }
            ctx.stdout.extend_from_slice(bytes);
        } else {
            let room = ctx.stderr_cap.saturating_sub(ctx.stderr.len());
            let keep = bytes.len().min(room);
            ctx.stderr.extend_from_slice(&bytes[..keep]);
            ctx.stderr_dropped += bytes.len() - keep;
        }
        total = total.saturating_add(n);
    }
    Ok(done(write_u32(mem, nwritten, total)))
}

fn fd_read(mem: &mut [u8], ctx: &mut WasiCtx, fd: i32, iovs: u32, len: u32, nread: u32) -> i32 {
    if fd != 0 {
        return errno::BADF;
    }
    let vecs = match iovecs(mem, iovs, len) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut total: u32 = 0;
    for (ptr, n) in vecs {
        let rest = &ctx.stdin[ctx.stdin_pos..];
        let take = rest.len().min(n as usize);
        if write(mem, ptr, &rest[..take]).is_err() {
            return errno::FAULT;
        }
        ctx.stdin_pos += take;
        total += take as u32;
        if take < n as usize {
            break;
        }
    }
    done(write_u32(mem, nread, total))
}

const FILETYPE_CHARACTER_DEVICE: u8 = 2;
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;
const RIGHT_POLL_FD_READWRITE: u64 = 1 << 27;

fn fd_fdstat_get(mem: &mut [u8], fd: i32, buf: u32) -> i32 {
    if !is_stdio(fd) {
        return errno::BADF;
    }
    let rights = RIGHT_POLL_FD_READWRITE | if fd == 0 { RIGHT_FD_READ } else { RIGHT_FD_WRITE };
    let mut stat = [0u8; 24];
    stat[0] = FILETYPE_CHARACTER_DEVICE;
    stat[8..16].copy_from_slice(&rights.to_le_bytes());
    done(write(mem, buf, &stat))
}

fn fd_filestat_get(mem: &mut [u8], fd: i32, buf: u32) -> i32 {
    if !is_stdio(fd) {
        return errno::BADF;
    }
    let mut stat = [0u8; 64];
    stat[16] = FILETYPE_CHARACTER_DEVICE;
    done(write(mem, buf, &stat))
}

const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCKFLAG_ABSTIME: u16 = 1;

/// `poll_oneoff`: stdio subscriptions are ready at once; otherwise the run
/// sleeps until the earliest clock subscription, never past its deadline.
fn poll_oneoff(mem: &mut [u8], ctx: &mut WasiCtx, subs: u32, events: u32, n: u32, nevents: u32) -> Result<i32, Stop> {
    if n == 0 || n > MAX_SUBSCRIPTIONS {
        return Ok(errno::INVAL);
    }
    struct Sub {
        userdata: u64,
        kind: u8,
        fd: i32,
        wait: Option<Duration>,
    }
    let mut parsed = Vec::with_capacity(n as usize);
    for i in 0..n {
        let Some(at) = subs.checked_add(48 * i) else { return Ok(errno::FAULT) };
        let Ok(raw) = slice(mem, at, 48) else { return Ok(errno::FAULT) };
        let userdata = u64::from_le_bytes(raw[0..8].try_into().unwrap_or_default());
        let kind = raw[8];
        let sub = match kind {
            EVENTTYPE_CLOCK => {
                let id = i32::from_le_bytes(raw[16..20].try_into().unwrap_or_default());
                let timeout = u64::from_le_bytes(raw[24..32].try_into().unwrap_or_default());
                let flags = u16::from_le_bytes(raw[40..42].try_into().unwrap_or_default());
                let wait = if flags & SUBCLOCKFLAG_ABSTIME != 0 {
                    let Some(now) = clock_now(ctx, id) else { return Ok(errno::INVAL) };
                    timeout.saturating_sub(now)
                } else {
                    timeout
                };
                Sub { userdata, kind, fd: -1, wait: Some(Duration::from_nanos(wait)) }
            }
            EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
                let fd = i32::from_le_bytes(raw[16..20].try_into().unwrap_or_default());
                Sub { userdata, kind, fd, wait: None }
            }
            _ => return Ok(errno::INVAL),
        };
        parsed.push(sub);
    }
    let fds_ready = parsed.iter().any(|s| s.wait.is_none());
    let sleep = if fds_ready { Duration::ZERO } else { parsed.iter().filter_map(|s| s.wait).min().unwrap_or_default() };
    if !sleep.is_zero() {
        let now = Instant::now();
        if now + sleep > ctx.deadline {
            return Err(Stop::Timeout);
        }
        std::thread::sleep(sleep);
    }
    let mut count = 0u32;
    for s in &parsed {
        let ready = match s.wait {
            Some(w) => w <= sleep,
            None => true,
        };
        if !ready {
            continue;
        }
        let mut ev = [0u8; 32];
        ev[0..8].copy_from_slice(&s.userdata.to_le_bytes());
        let error = match s.wait {
            None if !is_stdio(s.fd) => errno::BADF as u16,
            _ => 0,
        };
        ev[8..10].copy_from_slice(&error.to_le_bytes());
        ev[10] = s.kind;
        if s.kind == EVENTTYPE_FD_READ && s.fd == 0 {
            let left = (ctx.stdin.len() - ctx.stdin_pos) as u64;
            ev[16..24].copy_from_slice(&left.to_le_bytes());
        }
        let Some(at) = events.checked_add(32 * count) else { return Ok(errno::FAULT) };
        if write(mem, at, &ev).is_err() {
            return Ok(errno::FAULT);
        }
        count += 1;
    }
    Ok(done(write_u32(mem, nevents, count)))
}

/// Links every function of [`FUNCTIONS`] into `linker`.
pub(crate) fn link(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    type C<'a> = Caller<'a, RunState>;
    let m = MODULE;
    linker.func_wrap(m, "args_get", |mut c: C, argv: u32, buf: u32| {
        with_mem(&mut c, |mem, ctx| Ok(done(put_strings(mem, &ctx.args, argv, buf))))
    })?;
    linker.func_wrap(m, "args_sizes_get", |mut c: C, count: u32, size: u32| {
        with_mem(&mut c, |mem, ctx| Ok(done(put_sizes(mem, &ctx.args, count, size))))
    })?;
    linker.func_wrap(m, "environ_get", |mut c: C, env: u32, buf: u32| {
        with_mem(&mut c, |mem, ctx| Ok(done(put_strings(mem, &ctx.env, env, buf))))
    })?;
    linker.func_wrap(m, "environ_sizes_get", |mut c: C, count: u32, size: u32| {
        with_mem(&mut c, |mem, ctx| Ok(done(put_sizes(mem, &ctx.env, count, size))))
    })?;
    linker.func_wrap(m, "clock_res_get", |mut c: C, id: i32, res: u32| {
        with_mem(&mut c, |mem, _| Ok(if (0..=3).contains(&id) { done(write_u64(mem, res, 1)) } else { errno::INVAL }))
    })?;
    linker.func_wrap(m, "clock_time_get", |mut c: C, id: i32, _precision: u64, out: u32| {
        with_mem(&mut c, |mem, ctx| {
            Ok(match clock_now(ctx, id) {
                Some(t) => done(write_u64(mem, out, t)),
                None => errno::INVAL,
            })
        })
    })?;
    linker.func_wrap(m, "fd_advise", |fd: i32, _: u64, _: u64, _: i32| stdio_or_badf(fd, errno::SPIPE))?;
    linker.func_wrap(m, "fd_allocate", |fd: i32, _: u64, _: u64| stdio_or_badf(fd, errno::SPIPE))?;
    linker.func_wrap(m, "fd_close", |fd: i32| stdio_or_badf(fd, errno::SUCCESS))?;
    linker.func_wrap(m, "fd_datasync", |fd: i32| stdio_or_badf(fd, errno::INVAL))?;
    linker.func_wrap(m, "fd_fdstat_get", |mut c: C, fd: i32, buf: u32| {
        with_mem(&mut c, |mem, _| Ok(fd_fdstat_get(mem, fd, buf)))
    })?;
    linker.func_wrap(m, "fd_fdstat_set_flags", |fd: i32, flags: i32| {
        stdio_or_badf(fd, if flags == 0 { errno::SUCCESS } else { errno::NOTSUP })
    })?;
    linker.func_wrap(m, "fd_fdstat_set_rights", |fd: i32, _: u64, _: u64| stdio_or_badf(fd, errno::NOTSUP))?;
    linker.func_wrap(m, "fd_filestat_get", |mut c: C, fd: i32, buf: u32| {
        with_mem(&mut c, |mem, _| Ok(fd_filestat_get(mem, fd, buf)))
    })?;
    linker.func_wrap(m, "fd_filestat_set_size", |fd: i32, _: u64| stdio_or_badf(fd, errno::INVAL))?;
    linker.func_wrap(m, "fd_filestat_set_times", |fd: i32, _: u64, _: u64, _: i32| stdio_or_badf(fd, errno::NOTSUP))?;
    linker.func_wrap(m, "fd_pread", |fd: i32, _: u32, _: u32, _: u64, _: u32| stdio_or_badf(fd, errno::SPIPE))?;
    linker.func_wrap(m, "fd_prestat_get", |_: i32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "fd_prestat_dir_name", |_: i32, _: u32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "fd_pwrite", |fd: i32, _: u32, _: u32, _: u64, _: u32| stdio_or_badf(fd, errno::SPIPE))?;
    linker.func_wrap(m, "fd_read", |mut c: C, fd: i32, iovs: u32, len: u32, nread: u32| {
        with_mem(&mut c, |mem, ctx| Ok(fd_read(mem, ctx, fd, iovs, len, nread)))
    })?;
    linker.func_wrap(m, "fd_readdir", |fd: i32, _: u32, _: u32, _: u64, _: u32| stdio_or_badf(fd, errno::NOTSUP))?;
    linker.func_wrap(m, "fd_renumber", |fd: i32, _: i32| stdio_or_badf(fd, errno::NOTSUP))?;
    linker.func_wrap(m, "fd_seek", |fd: i32, _: i64, _: i32, _: u32| stdio_or_badf(fd, errno::SPIPE))?;
    linker.func_wrap(m, "fd_sync", |fd: i32| stdio_or_badf(fd, errno::INVAL))?;
    linker.func_wrap(m, "fd_tell", |fd: i32, _: u32| stdio_or_badf(fd, errno::SPIPE))?;
    linker.func_wrap(m, "fd_write", |mut c: C, fd: i32, iovs: u32, len: u32, nwritten: u32| {
        with_mem(&mut c, |mem, ctx| fd_write(mem, ctx, fd, iovs, len, nwritten))
    })?;
    linker.func_wrap(m, "path_create_directory", |_: i32, _: u32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "path_filestat_get", |_: i32, _: i32, _: u32, _: u32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "path_filestat_set_times", |_: i32, _: i32, _: u32, _: u32, _: u64, _: u64, _: i32| {
        errno::BADF
    })?;
    linker.func_wrap(m, "path_link", |_: i32, _: i32, _: u32, _: u32, _: i32, _: u32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "path_open", |_: i32, _: i32, _: u32, _: u32, _: i32, _: u64, _: u64, _: i32, _: u32| {
        errno::BADF
    })?;
    linker.func_wrap(m, "path_readlink", |_: i32, _: u32, _: u32, _: u32, _: u32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "path_remove_directory", |_: i32, _: u32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "path_rename", |_: i32, _: u32, _: u32, _: i32, _: u32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "path_symlink", |_: u32, _: u32, _: i32, _: u32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "path_unlink_file", |_: i32, _: u32, _: u32| errno::BADF)?;
    linker.func_wrap(m, "poll_oneoff", |mut c: C, subs: u32, events: u32, n: u32, nevents: u32| {
        with_mem(&mut c, |mem, ctx| poll_oneoff(mem, ctx, subs, events, n, nevents))
    })?;
    linker.func_wrap(m, "proc_exit", |code: i32| -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(Stop::Exit(code)))
    })?;
    linker.func_wrap(m, "proc_raise", |_: i32| errno::NOSYS)?;
    linker.func_wrap(m, "sched_yield", || errno::SUCCESS)?;
    linker.func_wrap(m, "random_get", |mut c: C, buf: u32, len: u32| {
        with_mem(&mut c, |mem, _| {
            Ok(match slice_mut(mem, buf, len) {
                Ok(dest) => match getrandom::fill(dest) {
                    Ok(()) => errno::SUCCESS,
                    Err(_) => errno::IO,
                },
                Err(Fault) => errno::FAULT,
            })
        })
    })?;
    linker.func_wrap(m, "sock_accept", |_: i32, _: i32, _: u32| errno::NOTSUP)?;
    linker.func_wrap(m, "sock_recv", |_: i32, _: u32, _: u32, _: i32, _: u32, _: u32| errno::NOTSUP)?;
    linker.func_wrap(m, "sock_send", |_: i32, _: u32, _: u32, _: i32, _: u32| errno::NOTSUP)?;
    linker.func_wrap(m, "sock_shutdown", |_: i32, _: i32| errno::NOTSUP)?;
    Ok(())
}
