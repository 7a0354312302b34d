//! Ctrl-C and SIGTERM: remove this run's temporary output files at once, then end the way the
//! signal would have (SPEC §12: an interrupted run leaves the old output or the complete new one,
//! and no temporary file). The signal handler only writes one byte into a pipe (the one thing a
//! handler may safely do); a thread waiting on the pipe removes the files the library has
//! registered (`table::atomic::remove_live_temp_files`, also the `--cluster` scratch folders), restores the default action and raises
//! the signal again, so the shell sees "killed by SIGINT/SIGTERM" as usual. Written on libc
//! (already a dependency) rather than the `ctrlc` crate: twenty lines, no new dependency in the
//! lock file, and SIGTERM handled too. SIGKILL cannot be caught: the next run sweeps those files.

#[cfg(unix)]
mod imp {
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The pipe's write end, for the handler.
    static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

    extern "C" fn on_signal(sig: libc::c_int) {
        let fd = WRITE_FD.load(Ordering::Relaxed);
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a local byte.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }

    pub fn install() {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe(2) fills the two descriptors of a valid array.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return; // no pipe: run without the handler (temporary files are swept next run)
        }
        let [read_fd, write_fd] = fds;
        WRITE_FD.store(write_fd, Ordering::Relaxed);
        let started = std::thread::Builder::new()
            .name("spotcheck-signals".into())
            .spawn(move || {
                let mut byte = 0u8;
                loop {
                    // SAFETY: reads one byte into a local buffer from our own pipe.
                    let n = unsafe { libc::read(read_fd, (&mut byte as *mut u8).cast(), 1) };
                    if n == 1 {
                        break;
                    }
                    if n < 0
                        && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                    {
                        continue;
                    }
                    return; // the pipe is gone: nothing to wait for
                }
                spotcheck::table::atomic::remove_live_temp_files();
                let sig = libc::c_int::from(byte);
                // SAFETY: restoring the default action and raising the signal ends the process
                // as the signal would have; nothing runs after it.
                unsafe {
                    libc::signal(sig, libc::SIG_DFL);
                    libc::raise(sig);
                }
                std::process::exit(128 + sig);
            });
        if started.is_err() {
            return;
        }
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: installs a handler that only calls write(2) on a descriptor set above.
            unsafe {
                libc::signal(sig, on_signal as *const () as libc::sighandler_t);
            }
        }
    }
}

/// Installs the handlers (first thing in `main`). Elsewhere than Unix, nothing: temporary files
/// of an interrupted run are swept by the next run.
pub fn install() {
    #[cfg(unix)]
    imp::install();
}
