//! Reading a run's files from the local disk, for both backends: the one place
//! where the dispatcher (often root) opens what a request names.
//!
//! A workspace is read as it is, never through what it points at:
//!
//! * **No links.** Every symbolic link is refused, whatever it points at (also
//!   one pointing inside the workspace, and a dangling one): the simplest rule
//!   that cannot be talked around. Files and directories are opened relative
//!   to their parent's descriptor (`openat`) with `O_NOFOLLOW`, and the opened
//!   descriptor is `fstat`ed and compared with what was checked before the
//!   open (same device and inode, same type), so a file swapped for a link
//!   between the check and the open is refused too; contents are read from
//!   that descriptor only.
//! * **No hard links out of the tree.** A regular file with more than one
//!   link is accepted only when all its links are among the files read (a
//!   hard link from inside the workspace to a host file such as /etc/shadow
//!   shares its inode and its link count shows the link outside). An explicit
//!   `files` entry has no tree around it, so it must have exactly one link.
//! * **Regular files and directories only.** Devices, FIFOs and sockets are
//!   refused before anything opens them (files are opened with `O_NONBLOCK`
//!   and `O_NOCTTY` as well, so nothing blocks or gains a terminal if one is
//!   swapped in). A directory on another file system than the workspace root
//!   (a mount point inside it) is refused.
//! * **No system directory.** The workspace root is resolved once
//!   (`canonicalize`: a root given as a symbolic link is followed, once, and
//!   then judged by where it leads) and refused when it is, or lies inside,
//!   one of [`SYSTEM_TREES`] (`/etc`, `/usr`, `/proc`, `/root`, ...), or is
//!   itself one of [`SHARED_ROOTS`] (`/`, `/home`, `/tmp`, `/var`, ...) or a
//!   whole home directory (`/home/NAME`). Besides the names, the identity
//!   (device and inode) of the opened root and of each of its parents is
//!   compared with those directories', so a bind mount of `/etc` elsewhere is
//!   recognised too. The directory of an explicit `files` entry must not be
//!   one of the system trees either.
//! * **Bounded.** At most [`MAX_WORKSPACE_ENTRIES`] entries (files and
//!   directories) and [`MAX_WORKSPACE_BYTES`] bytes (names and contents, what
//!   fits in the Kubernetes backend's ConfigMap) are read, whichever backend
//!   runs; reading stops at the first byte over the bound.
//!
//! Any refusal is an error naming the path, returned before anything is
//! launched.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, OsStr};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat, readlinkat};
use nix::libc;
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat};

use super::pod::RunRequest;

/// Bytes a workspace may hold (file names and contents): what fits in one
/// ConfigMap (the API server refuses objects over about 1 MiB).
pub const MAX_WORKSPACE_BYTES: usize = 1000 * 1024;

/// Entries (files and directories) a workspace may hold.
pub const MAX_WORKSPACE_ENTRIES: usize = 4096;

/// Longest relative path (a ConfigMap key, `/` counted as `__`, holds 253
/// characters); this also bounds the depth of the walk.
const MAX_PATH_CHARS: usize = 253;

/// Directories that are refused as a workspace, and so is everything inside
/// them: the system's own files, its devices and processes, root's home.
pub const SYSTEM_TREES: &[&str] = &[
    "/etc",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/boot",
    "/dev",
    "/proc",
    "/sys",
    "/root",
    "/run",
    "/var/run",
    "/var/log",
    "/var/spool",
    "/var/mail",
    "/var/backups",
    "/var/cache",
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/var/lib/containerd",
    "/var/lib/docker",
    "/snap",
];

/// Directories that are refused as a workspace themselves (they hold every
/// user's or service's files), though a directory inside them may be one.
/// The direct children of `/home` (whole home directories) are refused too.
pub const SHARED_ROOTS: &[&str] = &[
    "/", "/home", "/var", "/var/lib", "/var/tmp", "/tmp", "/opt", "/srv", "/mnt", "/media",
];

/// Why a run's files cannot be read; the message names the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WorkspaceError(pub String);

/// The files of a run: relative path under /work -> contents.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The files a request places at /work: every regular file under its
/// `workspace` (by relative path) plus its `files`, read under the rules of
/// the module documentation, with their names checked
/// ([`super::check_workspace_names`]).
pub fn read_request(req: &RunRequest) -> Result<Files, WorkspaceError> {
    let mut walk = Walk::new(true);
    if let Some(dir) = &req.workspace {
        walk.dir(dir)?;
    }
    for (name, path) in &req.files {
        walk.single(name, path)?;
    }
    let files = walk.out;
    super::check_workspace_names(files.keys().map(String::as_str)).map_err(WorkspaceError)?;
    Ok(files)
}

/// Reads a workspace directory (every regular file, by relative path).
pub fn read_dir(dir: &Path) -> Result<Files, WorkspaceError> {
    let mut walk = Walk::new(true);
    walk.dir(dir)?;
    Ok(walk.out)
}

/// Checks a directory under the same rules without keeping its contents (the
/// gVisor backend's work directory, which is mounted rather than copied).
pub fn check_dir(dir: &Path) -> Result<(), WorkspaceError> {
    let mut walk = Walk::new(false);
    walk.dir(dir)
}

/// What a directory entry is, from `lstat` (links are not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Other,
}

fn kind(st: &FileStat) -> Kind {
    let fmt = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
    match fmt {
        SFlag::S_IFREG => Kind::File,
        SFlag::S_IFDIR => Kind::Dir,
        SFlag::S_IFLNK => Kind::Symlink,
        SFlag::S_IFIFO => Kind::Fifo,
        SFlag::S_IFSOCK => Kind::Socket,
        SFlag::S_IFCHR => Kind::CharDevice,
        SFlag::S_IFBLK => Kind::BlockDevice,
        _ => Kind::Other,
    }
}

/// The same object: device and inode.
fn same(a: &FileStat, b: &FileStat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

/// A regular file with several links, and how many of them were read.
struct Linked {
    nlink: libc::nlink_t,
    seen: libc::nlink_t,
    first: String,
}

/// One read of a run's files: what was read, what is left of the bounds.
struct Walk {
    /// Keep the contents (else only check and count).
    read: bool,
    out: Files,
    bytes: usize,
    entries: usize,
}

impl Walk {
    fn new(read: bool) -> Walk {
        Walk {
            read,
            out: Files::new(),
            bytes: 0,
            entries: 0,
        }
    }

    /// Reads (or checks) the workspace directory `dir`.
    fn dir(&mut self, dir: &Path) -> Result<(), WorkspaceError> {
        let what = format!("workspace {}", dir.display());
        let (fd, st, _) = open_root(dir, &what, true)?;
        let mut root = Tree {
            what,
            dev: st.st_dev,
            linked: BTreeMap::new(),
        };
        self.walk_dir(&mut root, &fd, "")?;
        // Every link of a multiply linked file must have been read here.
        for l in root.linked.values() {
            if l.seen < l.nlink {
                return Err(WorkspaceError(format!(
                    "{}: {}: a hard link ({} links, {} in the workspace): a file linked from outside the workspace is refused; copy it instead",
                    root.what, l.first, l.nlink, l.seen
                )));
            }
        }
        Ok(())
    }

    /// Reads an explicit `files` entry: `name` at /work, from `path`.
    fn single(&mut self, name: &str, path: &Path) -> Result<(), WorkspaceError> {
        let what = format!("file {}", path.display());
        self.count_entry(&what)?;
        let file_name = path
            .file_name()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| WorkspaceError(format!("{what}: not a file name")))?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let (dirfd, _, _) = open_root(parent, &what, false)?;
        let c_name = CString::new(file_name.as_bytes())
            .map_err(|_| WorkspaceError(format!("{what}: the name holds a NUL byte")))?;
        let lst = fstatat(&dirfd, c_name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(|e| WorkspaceError(format!("{what}: {}", e.desc())))?;
        let k = kind(&lst);
        if k != Kind::File {
            return Err(WorkspaceError(format!(
                "{what}: {}",
                refusal(k, &dirfd, &c_name)
            )));
        }
        let (fd, st) = open_checked(&dirfd, &c_name, &lst)
            .map_err(|m| WorkspaceError(format!("{what}: {m}")))?;
        if st.st_nlink > 1 {
            return Err(WorkspaceError(format!(
                "{what}: a hard link ({} links): a file linked from elsewhere is refused; copy it instead",
                st.st_nlink
            )));
        }
        self.take(&what, name, fd, &st)
    }

    fn count_entry(&mut self, what: &str) -> Result<(), WorkspaceError> {
        self.entries += 1;
        if self.entries > MAX_WORKSPACE_ENTRIES {
            return Err(WorkspaceError(format!(
                "{what}: more than {MAX_WORKSPACE_ENTRIES} files and directories"
            )));
        }
        Ok(())
    }

    fn walk_dir(
        &mut self,
        root: &mut Tree,
        dir: &OwnedFd,
        rel: &str,
    ) -> Result<(), WorkspaceError> {
        let base = root.what.clone();
        let at = |rel: &str| {
            if rel.is_empty() {
                base.clone()
            } else {
                format!("{base}: {rel}")
            }
        };
        // The names first (a second descriptor on the same directory), then
        // each entry relative to `dir`.
        let mut names: Vec<CString> = Vec::new();
        let mut listing = Dir::openat(
            dir,
            c".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| WorkspaceError(format!("{}: {}", at(rel), e.desc())))?;
        for entry in listing.iter() {
            let entry = entry.map_err(|e| WorkspaceError(format!("{}: {}", at(rel), e.desc())))?;
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            self.count_entry(&at(rel))?;
            names.push(name.to_owned());
        }
        drop(listing);
        names.sort();
        for name in names {
            let Ok(text) = std::str::from_utf8(name.to_bytes()) else {
                return Err(WorkspaceError(format!(
                    "{}: {:?}: the name is not UTF-8",
                    at(rel),
                    OsStr::from_bytes(name.to_bytes())
                )));
            };
            let child = if rel.is_empty() {
                text.to_string()
            } else {
                format!("{rel}/{text}")
            };
            let lst = fstatat(dir, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                .map_err(|e| WorkspaceError(format!("{}: {}", at(&child), e.desc())))?;
            match kind(&lst) {
                Kind::Dir => {
                    if child.len() > MAX_PATH_CHARS {
                        return Err(WorkspaceError(format!(
                            "{}: the path is longer than a workspace file name may be ({MAX_PATH_CHARS} characters)",
                            at(&child)
                        )));
                    }
                    if lst.st_dev != root.dev {
                        return Err(WorkspaceError(format!(
                            "{}: another file system is mounted here: mount points inside a workspace are refused",
                            at(&child)
                        )));
                    }
                    let sub = open_dir_checked(dir, &name, &lst)
                        .map_err(|m| WorkspaceError(format!("{}: {m}", at(&child))))?;
                    self.walk_dir(root, &sub, &child)?;
                }
                Kind::File => {
                    let (fd, st) = open_checked(dir, &name, &lst)
                        .map_err(|m| WorkspaceError(format!("{}: {m}", at(&child))))?;
                    if st.st_nlink > 1 {
                        let l = root
                            .linked
                            .entry((st.st_dev, st.st_ino))
                            .or_insert_with(|| Linked {
                                nlink: st.st_nlink,
                                seen: 0,
                                first: child.clone(),
                            });
                        l.seen += 1;
                    }
                    let what = at(&child);
                    self.take(&what, &child, fd, &st)?;
                }
                k => {
                    return Err(WorkspaceError(format!(
                        "{}: {}",
                        at(&child),
                        refusal(k, dir, &name)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Counts (and, when reading, reads) one regular file from its descriptor.
    fn take(
        &mut self,
        what: &str,
        name: &str,
        fd: OwnedFd,
        st: &FileStat,
    ) -> Result<(), WorkspaceError> {
        let too_large = || {
            WorkspaceError(format!(
                "{what}: the run's files are over {MAX_WORKSPACE_BYTES} bytes (names and contents: what fits in a ConfigMap)"
            ))
        };
        let left = MAX_WORKSPACE_BYTES
            .checked_sub(self.bytes + name.len())
            .ok_or_else(too_large)?;
        let size = if self.read {
            let mut bytes = Vec::new();
            std::fs::File::from(fd)
                .take(u64::try_from(left).unwrap_or(u64::MAX).saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|e| WorkspaceError(format!("{what}: {e}")))?;
            let n = bytes.len();
            if n <= left {
                self.out.insert(name.to_string(), bytes);
            }
            n
        } else {
            usize::try_from(st.st_size).unwrap_or(usize::MAX)
        };
        if size > left {
            return Err(too_large());
        }
        self.bytes += name.len() + size;
        Ok(())
    }
}

/// One workspace tree being walked.
struct Tree {
    what: String,
    /// The root's device: a directory on another is a mount point.
    dev: u64,
    linked: BTreeMap<(u64, u64), Linked>,
}

/// Why an entry of kind `k` is refused.
fn refusal(k: Kind, dir: &OwnedFd, name: &CStr) -> String {
    match k {
        Kind::Symlink => {
            let target = readlinkat(dir, name)
                .map(|t| format!(" to {}", Path::new(&t).display()))
                .unwrap_or_default();
            format!(
                "a symbolic link{target}: the dispatcher follows no links (not even within the workspace); copy the file instead"
            )
        }
        Kind::Fifo => "a FIFO (named pipe): only regular files and directories are read".into(),
        Kind::Socket => "a socket: only regular files and directories are read".into(),
        Kind::CharDevice => {
            "a character device: only regular files and directories are read".into()
        }
        Kind::BlockDevice => "a block device: only regular files and directories are read".into(),
        Kind::Dir => "a directory, not a file".into(),
        Kind::File | Kind::Other => "not a regular file or directory: only those are read".into(),
    }
}

/// Opens the regular file `name` in `dir` without following links and checks
/// that what was opened is what `lstat` saw (a regular file, same device and
/// inode): a file swapped for a link, a FIFO or another file in between is
/// refused.
fn open_checked(dir: &OwnedFd, name: &CStr, lst: &FileStat) -> Result<(OwnedFd, FileStat), String> {
    let flags = OFlag::O_RDONLY
        | OFlag::O_NOFOLLOW
        | OFlag::O_NONBLOCK
        | OFlag::O_NOCTTY
        | OFlag::O_CLOEXEC;
    let fd = openat(dir, name, flags, Mode::empty()).map_err(|e| opened_error(e, dir, name))?;
    let st = fstat(&fd).map_err(|e| e.desc().to_string())?;
    if kind(&st) != Kind::File || !same(&st, lst) {
        return Err(
            "changed while being read (it is no longer the regular file it was): refused".into(),
        );
    }
    Ok((fd, st))
}

/// Opens the directory `name` in `dir` without following links, checked as
/// [`open_checked`] does.
fn open_dir_checked(dir: &OwnedFd, name: &CStr, lst: &FileStat) -> Result<OwnedFd, String> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = openat(dir, name, flags, Mode::empty()).map_err(|e| opened_error(e, dir, name))?;
    let st = fstat(&fd).map_err(|e| e.desc().to_string())?;
    if kind(&st) != Kind::Dir || !same(&st, lst) {
        return Err(
            "changed while being read (it is no longer the directory it was): refused".into(),
        );
    }
    Ok(fd)
}

/// The message of a failed no-follow open: `ELOOP` (and, with
/// `O_DIRECTORY`, `ENOTDIR`) means something else took the entry's place,
/// most often a link; what is there now is said.
fn opened_error(e: Errno, dir: &OwnedFd, name: &CStr) -> String {
    match e {
        Errno::ELOOP | Errno::ENOTDIR => {
            match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW).map(|st| kind(&st)) {
                Ok(Kind::Symlink) => refusal(Kind::Symlink, dir, name),
                _ => "changed while being read (it is no longer what was checked): refused".into(),
            }
        }
        other => other.desc().to_string(),
    }
}

/// Opens a workspace root (or an explicit file's directory) after resolving
/// it once and refusing system directories: its descriptor, its `fstat` and
/// its canonical path. `whole` (a workspace, read entirely) also refuses the
/// [`SHARED_ROOTS`] and whole home directories.
fn open_root(
    path: &Path,
    what: &str,
    whole: bool,
) -> Result<(OwnedFd, FileStat, PathBuf), WorkspaceError> {
    let canonical =
        std::fs::canonicalize(path).map_err(|e| WorkspaceError(format!("{what}: {e}")))?;
    let shown = if !whole {
        format!(" (in {})", canonical.display())
    } else if canonical == path {
        String::new()
    } else {
        format!(" (that is {})", canonical.display())
    };
    system_by_name(&canonical, whole)
        .map_err(|why| WorkspaceError(format!("{what}{shown}: {why}")))?;
    let fd = nix::fcntl::open(
        &canonical,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::ENOTDIR => WorkspaceError(format!("{what}{shown}: not a directory")),
        Errno::ELOOP => WorkspaceError(format!(
            "{what}{shown}: became a symbolic link while being opened: refused"
        )),
        other => WorkspaceError(format!("{what}{shown}: {}", other.desc())),
    })?;
    let st = fstat(&fd).map_err(|e| WorkspaceError(format!("{what}: {}", e.desc())))?;
    system_by_identity(&canonical, &st, whole)
        .map_err(|why| WorkspaceError(format!("{what}{shown}: {why}")))?;
    Ok((fd, st, canonical))
}

/// Refuses a canonical path in (or, when `whole`, at) a system directory.
fn system_by_name(path: &Path, whole: bool) -> Result<(), String> {
    if let Some(tree) = SYSTEM_TREES.iter().find(|t| path.starts_with(t)) {
        return Err(if path == Path::new(tree) {
            format!("{tree} is a system directory: no run's files are read from it")
        } else {
            format!("inside {tree}, a system directory: no run's files are read from it")
        });
    }
    if whole {
        if SHARED_ROOTS.iter().any(|r| path == Path::new(r)) {
            return Err(format!(
                "{} holds the whole system's or every user's files: it cannot be a run's workspace; use a directory of its own",
                path.display()
            ));
        }
        if path.parent() == Some(Path::new("/home")) {
            return Err(
                "a whole home directory cannot be a run's workspace; use a directory of its own"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Refuses a root whose identity (device, inode) or one of whose parents' is
/// that of a system directory, whatever it is called (a bind mount of /etc).
fn system_by_identity(path: &Path, st: &FileStat, whole: bool) -> Result<(), String> {
    let stat = |p: &Path| nix::sys::stat::stat(p).ok();
    let ancestors: Vec<(&Path, FileStat)> = path
        .ancestors()
        .skip(1)
        .filter_map(|a| Some((a, stat(a)?)))
        .collect();
    for tree in SYSTEM_TREES {
        let Some(t) = stat(Path::new(tree)) else {
            continue;
        };
        if same(&t, st) {
            return Err(format!(
                "the same directory as {tree}, a system directory: no run's files are read from it"
            ));
        }
        if let Some((a, _)) = ancestors.iter().find(|(_, a)| same(a, &t)) {
            return Err(format!(
                "inside {}, which is {tree}, a system directory: no run's files are read from it",
                a.display()
            ));
        }
    }
    if whole {
        for r in SHARED_ROOTS {
            if stat(Path::new(r)).is_some_and(|t| same(&t, st)) {
                return Err(format!(
                    "the same directory as {r}, which holds the whole system's or every user's files: it cannot be a run's workspace"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    const SECRET: &str = "host-secret-7f3a";

    /// A workspace `ws` with a regular file, next to a directory `outside`
    /// holding a secret file (standing in for /etc/shadow) and a subdirectory.
    struct Scene {
        dir: tempfile::TempDir,
    }

    impl Scene {
        fn new() -> Scene {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir_all(dir.path().join("ws/sub")).unwrap();
            fs::write(dir.path().join("ws/main.py"), "print(1)\n").unwrap();
            fs::write(dir.path().join("ws/sub/lib.py"), "x = 1\n").unwrap();
            fs::create_dir_all(dir.path().join("outside/dir")).unwrap();
            fs::write(dir.path().join("outside/secret"), SECRET).unwrap();
            fs::write(dir.path().join("outside/dir/secret2"), SECRET).unwrap();
            Scene { dir }
        }
        fn ws(&self) -> PathBuf {
            self.dir.path().join("ws")
        }
        fn outside(&self, rel: &str) -> PathBuf {
            self.dir.path().join("outside").join(rel)
        }
        /// The refusal of reading the workspace (and of checking it), which
        /// must name `rel` and never carry the secret.
        fn refused(&self, rel: &str, needle: &str) -> String {
            let err = read_dir(&self.ws()).unwrap_err().0;
            let checked = check_dir(&self.ws()).unwrap_err().0;
            assert_eq!(err, checked);
            let at = format!("workspace {}: {rel}:", self.ws().display());
            assert!(err.starts_with(&at), "{err}");
            assert!(err.contains(needle), "{err}");
            assert!(!err.contains(SECRET), "{err}");
            err
        }
    }

    #[test]
    fn regular_files_and_directories_are_read() {
        let s = Scene::new();
        let files = read_dir(&s.ws()).unwrap();
        let keys: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(keys, ["main.py", "sub/lib.py"]);
        assert_eq!(files["sub/lib.py"], b"x = 1\n");
        check_dir(&s.ws()).unwrap();
    }

    #[test]
    fn a_symlink_to_a_file_outside_is_refused() {
        let s = Scene::new();
        symlink(s.outside("secret"), s.ws().join("leak")).unwrap();
        let err = s.refused("leak", "a symbolic link to ");
        assert!(
            err.contains(&s.outside("secret").display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn a_symlink_to_etc_shadow_is_refused() {
        let s = Scene::new();
        symlink("/etc/shadow", s.ws().join("sub/leak")).unwrap();
        s.refused("sub/leak", "a symbolic link to /etc/shadow");
    }

    #[test]
    fn a_symlink_to_a_directory_is_refused() {
        let s = Scene::new();
        symlink(s.outside("dir"), s.ws().join("host")).unwrap();
        s.refused("host", "a symbolic link");
        fs::remove_file(s.ws().join("host")).unwrap();
        symlink("/etc", s.ws().join("etc")).unwrap();
        s.refused("etc", "a symbolic link to /etc");
    }

    #[test]
    fn dangling_and_inside_symlinks_are_refused() {
        let s = Scene::new();
        symlink("nowhere", s.ws().join("dangling")).unwrap();
        s.refused("dangling", "a symbolic link to nowhere");
        fs::remove_file(s.ws().join("dangling")).unwrap();
        symlink("main.py", s.ws().join("alias.py")).unwrap();
        s.refused("alias.py", "not even within the workspace");
    }

    #[test]
    fn a_hard_link_to_a_file_outside_is_refused_and_one_inside_is_not() {
        let s = Scene::new();
        fs::hard_link(s.ws().join("main.py"), s.ws().join("sub/again.py")).unwrap();
        let files = read_dir(&s.ws()).unwrap();
        assert_eq!(files["sub/again.py"], files["main.py"]);
        fs::hard_link(s.outside("secret"), s.ws().join("sub/leak")).unwrap();
        s.refused("sub/leak", "a hard link (2 links, 1 in the workspace)");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let s = Scene::new();
        nix::unistd::mkfifo(&s.ws().join("pipe"), Mode::from_bits_truncate(0o644)).unwrap();
        s.refused("pipe", "a FIFO");
    }

    #[test]
    fn a_socket_is_refused() {
        let s = Scene::new();
        let _listener = std::os::unix::net::UnixListener::bind(s.ws().join("sock")).unwrap();
        s.refused("sock", "a socket");
    }

    #[test]
    fn device_nodes_are_refused() {
        let s = Scene::new();
        let dev = nix::sys::stat::makedev(1, 3);
        let made = nix::sys::stat::mknod(
            &s.ws().join("null"),
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            dev,
        );
        if let Err(e) = made {
            eprintln!("skipped: mknod needs root with CAP_MKNOD ({e})");
            return;
        }
        s.refused("null", "a character device");
        fs::remove_file(s.ws().join("null")).unwrap();
        nix::sys::stat::mknod(
            &s.ws().join("disk"),
            SFlag::S_IFBLK,
            Mode::from_bits_truncate(0o600),
            nix::sys::stat::makedev(7, 0),
        )
        .unwrap();
        s.refused("disk", "a block device");
    }

    #[test]
    fn system_directories_are_refused_as_workspaces() {
        for (dir, needle) in [
            ("/", "/ holds the whole system's"),
            ("/etc", "/etc is a system directory"),
            ("/etc/ssl", "inside /etc, a system directory"),
            ("/proc/self", "inside /proc"),
            ("/tmp", "/tmp holds"),
            ("/usr/bin", "inside /usr"),
        ] {
            let err = read_dir(Path::new(dir)).unwrap_err().0;
            assert!(err.starts_with(&format!("workspace {dir}")), "{err}");
            assert!(err.contains(needle), "{dir}: {err}");
        }
        assert!(system_by_name(Path::new("/home/alice"), true).is_err());
        assert!(system_by_name(Path::new("/home/alice/job"), true).is_ok());
        assert!(system_by_name(Path::new("/var/lib/kubelet/pods"), true).is_err());
        assert!(system_by_name(Path::new("/var/lib/ci/job"), true).is_ok());
        // An explicit file's directory: the trees, not the shared roots.
        assert!(system_by_name(Path::new("/tmp"), false).is_ok());
        assert!(system_by_name(Path::new("/etc"), false).is_err());
    }

    #[test]
    fn a_root_given_as_a_symlink_is_resolved_once_and_judged_by_its_target() {
        let s = Scene::new();
        let link = s.dir.path().join("to-etc");
        symlink("/etc", &link).unwrap();
        let err = read_dir(&link).unwrap_err().0;
        assert!(
            err.contains("(that is /etc): /etc is a system directory"),
            "{err}"
        );
        let link = s.dir.path().join("to-ws");
        symlink(s.ws(), &link).unwrap();
        assert_eq!(read_dir(&link).unwrap().len(), 2);
    }

    #[test]
    fn a_file_swapped_for_a_link_after_the_check_is_refused() {
        let s = Scene::new();
        let dir =
            nix::fcntl::open(&s.ws(), OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
        let lst = fstatat(&dir, c"main.py", AtFlags::AT_SYMLINK_NOFOLLOW).unwrap();
        assert_eq!(kind(&lst), Kind::File);
        // Between the check and the open: the file becomes a link to the secret.
        fs::remove_file(s.ws().join("main.py")).unwrap();
        symlink(s.outside("secret"), s.ws().join("main.py")).unwrap();
        let err = open_checked(&dir, c"main.py", &lst).unwrap_err();
        assert!(err.starts_with("a symbolic link to "), "{err}");
        // ... or a hard link to it (another inode than the one checked).
        fs::remove_file(s.ws().join("main.py")).unwrap();
        fs::hard_link(s.outside("secret"), s.ws().join("main.py")).unwrap();
        let err = open_checked(&dir, c"main.py", &lst).unwrap_err();
        assert!(err.starts_with("changed while being read"), "{err}");
        // A directory swapped for a link to a directory outside.
        let lst = fstatat(&dir, c"sub", AtFlags::AT_SYMLINK_NOFOLLOW).unwrap();
        fs::remove_dir_all(s.ws().join("sub")).unwrap();
        symlink(s.outside("dir"), s.ws().join("sub")).unwrap();
        let err = open_dir_checked(&dir, c"sub", &lst).unwrap_err();
        assert!(err.starts_with("a symbolic link to "), "{err}");
    }

    /// A file flipped between a harmless file and a link to the secret while
    /// the workspace is read again and again: every read either refuses or
    /// gets the harmless contents, never the secret.
    #[test]
    fn a_racing_swap_never_leaks() {
        let s = Scene::new();
        let ws = s.ws();
        let (plain, link) = (s.dir.path().join("plain"), s.dir.path().join("link"));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flipper = {
            let (ws, secret, stop) = (ws.clone(), s.outside("secret"), stop.clone());
            let (plain, link) = (plain.clone(), link.clone());
            std::thread::spawn(move || {
                let mut flips = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    fs::write(&plain, "harmless").unwrap();
                    fs::rename(&plain, ws.join("flip")).unwrap();
                    let _ = fs::remove_file(&link);
                    symlink(&secret, &link).unwrap();
                    fs::rename(&link, ws.join("flip")).unwrap();
                    flips += 1;
                }
                flips
            })
        };
        let (mut read, mut refused) = (0, 0);
        for _ in 0..2000 {
            match read_dir(&ws) {
                Ok(files) => {
                    read += 1;
                    if let Some(b) = files.get("flip") {
                        assert_eq!(b, b"harmless");
                    }
                }
                Err(e) => {
                    refused += 1;
                    assert!(!e.0.contains(SECRET));
                }
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let flips = flipper.join().unwrap();
        eprintln!("{read} reads, {refused} refusals, {flips} flips");
        assert!(flips > 0);
    }

    #[test]
    fn explicit_files_get_the_same_checks() {
        let s = Scene::new();
        let req = |path: PathBuf| RunRequest {
            files: BTreeMap::from([("x.py".to_string(), path)]),
            ..RunRequest::default()
        };
        let ok = read_request(&req(s.ws().join("main.py"))).unwrap();
        assert_eq!(ok["x.py"], b"print(1)\n");
        symlink("/etc/shadow", s.dir.path().join("leak")).unwrap();
        let err = read_request(&req(s.dir.path().join("leak"))).unwrap_err().0;
        assert!(err.contains("a symbolic link to /etc/shadow"), "{err}");
        fs::hard_link(s.outside("secret"), s.dir.path().join("hard")).unwrap();
        let err = read_request(&req(s.dir.path().join("hard"))).unwrap_err().0;
        assert!(err.contains("a hard link (2 links)"), "{err}");
        let err = read_request(&req(PathBuf::from("/etc/passwd")))
            .unwrap_err()
            .0;
        assert!(
            err.starts_with("file /etc/passwd (in /etc): /etc is a system directory"),
            "{err}"
        );
        let err = read_request(&req(PathBuf::from("/etc/ssl/openssl.cnf")))
            .unwrap_err()
            .0;
        assert!(err.contains("inside /etc, a system directory"), "{err}");
        nix::unistd::mkfifo(&s.dir.path().join("pipe"), Mode::from_bits_truncate(0o644)).unwrap();
        let err = read_request(&req(s.dir.path().join("pipe"))).unwrap_err().0;
        assert!(err.contains("a FIFO"), "{err}");
        let err = read_request(&req(s.outside("dir"))).unwrap_err().0;
        assert!(err.contains("a directory, not a file"), "{err}");
        // The file's directory reached through a link is resolved: /etc.
        symlink("/etc", s.dir.path().join("etc")).unwrap();
        let err = read_request(&req(s.dir.path().join("etc/hostname")))
            .unwrap_err()
            .0;
        assert!(
            err.contains("(in /etc): /etc is a system directory"),
            "{err}"
        );
    }

    #[test]
    fn workspaces_are_bounded() {
        let s = Scene::new();
        // A sparse 8 GiB file: reading stops at the bound (it would not fit in memory).
        let f = fs::File::create(s.ws().join("huge.bin")).unwrap();
        f.set_len(8 << 30).unwrap();
        let err = read_dir(&s.ws()).unwrap_err().0;
        assert!(
            err.contains("huge.bin: the run's files are over 1024000 bytes"),
            "{err}"
        );
        assert!(check_dir(&s.ws()).is_err());
        fs::remove_file(s.ws().join("huge.bin")).unwrap();
        // Together over the bound, each under it.
        for i in 0..3 {
            fs::write(s.ws().join(format!("part{i}")), vec![b'x'; 400 * 1024]).unwrap();
        }
        let err = read_dir(&s.ws()).unwrap_err().0;
        assert!(err.contains("part2: the run's files are over"), "{err}");
        for i in 0..3 {
            fs::remove_file(s.ws().join(format!("part{i}"))).unwrap();
        }
        // Too many entries.
        for i in 0..MAX_WORKSPACE_ENTRIES {
            fs::File::create(s.ws().join(format!("f{i}"))).unwrap();
        }
        let err = read_dir(&s.ws()).unwrap_err().0;
        assert!(
            err.contains("more than 4096 files and directories"),
            "{err}"
        );
        // ... the explicit files counted too.
        let many = RunRequest {
            files: (0..=MAX_WORKSPACE_ENTRIES)
                .map(|i| (format!("m{i}"), s.outside("secret")))
                .collect(),
            ..RunRequest::default()
        };
        let err = read_request(&many).unwrap_err().0;
        assert!(
            err.contains("more than 4096 files and directories"),
            "{err}"
        );
    }

    #[test]
    fn a_deep_tree_is_refused_at_the_name_bound() {
        let s = Scene::new();
        let mut p = s.ws();
        for _ in 0..130 {
            p.push("d");
        }
        fs::create_dir_all(&p).unwrap();
        let err = read_dir(&s.ws()).unwrap_err().0;
        assert!(
            err.contains("longer than a workspace file name may be"),
            "{err}"
        );
    }

    #[test]
    fn a_name_that_is_not_utf8_is_refused() {
        let s = Scene::new();
        fs::write(s.ws().join(OsStr::from_bytes(b"bad\xff.py")), "").unwrap();
        let err = read_dir(&s.ws()).unwrap_err().0;
        assert!(err.contains("the name is not UTF-8"), "{err}");
    }
}
