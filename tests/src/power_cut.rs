//! A disk that loses what was not made durable when its power is cut: a FUSE file system
//! kept in memory, which remembers, beside what programs see, what a disk with a journal
//! would still hold after a power cut.
//!
//! The model is that of a journaling file system (ext4, XFS) with no grace:
//! - a file's data (its bytes and size) is durable once the file is fsynced, and not
//!   before — however long ago it was written;
//! - names (files and directories made, removed, renamed) are durable in the order they
//!   were made once anything is fsynced (a journal commit carries every earlier one), or
//!   their directory is; a name made durable before its file's data is, names what the
//!   file held when it was last fsynced (empty if never).
//!
//! [`LosingDisk::cut`] freezes the disk (every later operation fails) and writes what it
//! would still hold into a real directory, where a program can be started again.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner, OpenFlags, RenameFlags, ReplyAttr,
    ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

/// Attributes are never cached by the kernel: every answer comes from the model.
const TTL: Duration = Duration::ZERO;
/// The space the disk says it has (4 GiB, half free), so programs that look find room.
const BLOCKS: u64 = 1 << 20;
const BLOCK: u32 = 4096;

#[derive(Clone)]
struct Node {
    directory: bool,
    mode: u16,
    /// What programs see.
    data: Vec<u8>,
    /// What a power cut leaves.
    durable: Vec<u8>,
    modified: SystemTime,
}

/// The file system's state: nodes by inode number, and the names in each directory as
/// programs see them and as the journal has them.
struct Model {
    nodes: HashMap<u64, Node>,
    names: HashMap<u64, BTreeMap<OsString, u64>>,
    durable_names: HashMap<u64, BTreeMap<OsString, u64>>,
    next: u64,
    cut: bool,
    fsyncs: u64,
}

impl Model {
    fn new() -> Model {
        let root = Node { directory: true, mode: 0o755, data: Vec::new(), durable: Vec::new(), modified: SystemTime::now() };
        let names = HashMap::from([(1, BTreeMap::new())]);
        Model { nodes: HashMap::from([(1, root)]), durable_names: names.clone(), names, next: 2, cut: false, fsyncs: 0 }
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let node = self.nodes.get(&ino)?;
        let size = if node.directory { 4096 } else { node.data.len() as u64 };
        Some(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: node.modified,
            mtime: node.modified,
            ctime: node.modified,
            crtime: node.modified,
            kind: if node.directory { FileType::Directory } else { FileType::RegularFile },
            perm: node.mode,
            nlink: 1,
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: BLOCK,
            flags: 0,
        })
    }

    fn make(&mut self, parent: u64, name: &OsStr, directory: bool, mode: u32) -> Result<u64, Errno> {
        let entries = self.names.get_mut(&parent).ok_or(Errno::ENOTDIR)?;
        if entries.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.next;
        self.next += 1;
        entries.insert(name.to_owned(), ino);
        let node = Node { directory, mode: (mode & 0o7777) as u16, data: Vec::new(), durable: Vec::new(), modified: SystemTime::now() };
        self.nodes.insert(ino, node);
        if directory {
            self.names.insert(ino, BTreeMap::new());
        }
        self.touch(parent);
        Ok(ino)
    }

    /// Notes that the names in directory `ino` changed (its modification time moves, as
    /// programs watching a directory expect).
    fn touch(&mut self, ino: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.modified = SystemTime::now();
        }
    }

    /// A journal commit: every name made so far is durable.
    fn commit_names(&mut self) {
        self.durable_names = self.names.clone();
        self.fsyncs += 1;
    }

    /// Writes the durable state under `root`.
    fn write_durable(&self, ino: u64, into: &Path) -> std::io::Result<()> {
        let Some(entries) = self.durable_names.get(&ino) else { return Ok(()) };
        for (name, child) in entries {
            let Some(node) = self.nodes.get(child) else { continue };
            let path = into.join(name);
            if node.directory {
                std::fs::create_dir_all(&path)?;
                self.write_durable(*child, &path)?;
            } else {
                std::fs::write(&path, &node.durable)?;
            }
        }
        Ok(())
    }
}

/// The mounted disk; cloning shares it.
#[derive(Clone)]
pub struct LosingDisk {
    model: Arc<Mutex<Model>>,
}

/// The disk mounted at a directory, unmounted when dropped.
pub struct Mounted {
    pub disk: LosingDisk,
    session: Option<fuser::BackgroundSession>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
    }
}

impl LosingDisk {
    /// Mounts a new empty disk at `at` (an empty directory). Needs `/dev/fuse` and the
    /// right to mount (root).
    pub fn mount(at: &Path) -> std::io::Result<Mounted> {
        let disk = LosingDisk { model: Arc::new(Mutex::new(Model::new())) };
        let mut config = fuser::Config::default();
        config.mount_options = vec![fuser::MountOption::FSName("losing-disk".into()), fuser::MountOption::RW];
        let session = fuser::spawn_mount(disk.clone(), at, &config)?;
        Ok(Mounted { disk, session: Some(session) })
    }

    fn model(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Cuts the power: nothing more reaches the disk, and what it still holds is written
    /// into `into` (a new directory).
    pub fn cut(&self, into: &Path) -> std::io::Result<()> {
        let mut model = self.model();
        model.cut = true;
        std::fs::create_dir_all(into)?;
        model.write_durable(1, into)
    }

    /// How many times something was fsynced.
    pub fn fsyncs(&self) -> u64 {
        self.model().fsyncs
    }

    /// Runs `operation` on the model unless the power is cut.
    fn with<T>(&self, operation: impl FnOnce(&mut Model) -> Result<T, Errno>) -> Result<T, Errno> {
        let mut model = self.model();
        if model.cut {
            return Err(Errno::EIO);
        }
        operation(&mut model)
    }
}

impl Filesystem for LosingDisk {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let found = self.with(|model| {
            let ino = *model.names.get(&parent.0).ok_or(Errno::ENOTDIR)?.get(name).ok_or(Errno::ENOENT)?;
            model.attr(ino).ok_or(Errno::ENOENT)
        });
        match found {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(error) => reply.error(error),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.with(|model| model.attr(ino.0).ok_or(Errno::ENOENT)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(error) => reply.error(error),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let changed = self.with(|model| {
            let node = model.nodes.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
            if let Some(mode) = mode {
                node.mode = (mode & 0o7777) as u16;
            }
            if let Some(size) = size {
                node.data.resize(usize::try_from(size).map_err(|_| Errno::EFBIG)?, 0);
                node.modified = SystemTime::now();
            }
            model.attr(ino.0).ok_or(Errno::ENOENT)
        });
        match changed {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(error) => reply.error(error),
        }
    }

    fn mkdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, mode: u32, _umask: u32, reply: ReplyEntry) {
        match self.with(|model| model.make(parent.0, name, true, mode).and_then(|ino| model.attr(ino).ok_or(Errno::EIO))) {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(error) => reply.error(error),
        }
    }

    fn create(&self, _req: &Request, parent: INodeNo, name: &OsStr, mode: u32, _umask: u32, _flags: i32, reply: ReplyCreate) {
        match self.with(|model| model.make(parent.0, name, false, mode).and_then(|ino| model.attr(ino).ok_or(Errno::EIO))) {
            Ok(attr) => reply.created(&TTL, &attr, Generation(0), FileHandle(0), FopenFlags::empty()),
            Err(error) => reply.error(error),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        // The node stays while it may be open; only its name goes.
        let removed = self.with(|model| {
            model.names.get_mut(&parent.0).ok_or(Errno::ENOTDIR)?.remove(name).ok_or(Errno::ENOENT)?;
            model.touch(parent.0);
            Ok(())
        });
        match removed {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(error),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let removed = self.with(|model| {
            let ino = *model.names.get(&parent.0).ok_or(Errno::ENOTDIR)?.get(name).ok_or(Errno::ENOENT)?;
            if model.names.get(&ino).is_some_and(|entries| !entries.is_empty()) {
                return Err(Errno::ENOTEMPTY);
            }
            model.names.get_mut(&parent.0).expect("looked up").remove(name);
            model.touch(parent.0);
            Ok(())
        });
        match removed {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(error),
        }
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let renamed = self.with(|model| {
            let ino = model.names.get_mut(&parent.0).ok_or(Errno::ENOTDIR)?.remove(name).ok_or(Errno::ENOENT)?;
            model.names.get_mut(&newparent.0).ok_or(Errno::ENOTDIR)?.insert(newname.to_owned(), ino);
            model.touch(parent.0);
            model.touch(newparent.0);
            Ok(())
        });
        match renamed {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(error),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.with(|model| model.nodes.get(&ino.0).map(|_| ()).ok_or(Errno::ENOENT)) {
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(error) => reply.error(error),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let read = self.with(|model| {
            let data = &model.nodes.get(&ino.0).ok_or(Errno::ENOENT)?.data;
            let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
            let end = start.saturating_add(size as usize).min(data.len());
            Ok(data[start..end].to_vec())
        });
        match read {
            Ok(bytes) => reply.data(&bytes),
            Err(error) => reply.error(error),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let written = self.with(|model| {
            let node = model.nodes.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
            let start = usize::try_from(offset).map_err(|_| Errno::EFBIG)?;
            let end = start + data.len();
            if node.data.len() < end {
                node.data.resize(end, 0);
            }
            node.data[start..end].copy_from_slice(data);
            node.modified = SystemTime::now();
            Ok(data.len() as u32)
        });
        match written {
            Ok(count) => reply.written(count),
            Err(error) => reply.error(error),
        }
    }

    fn flush(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _lock_owner: LockOwner, reply: ReplyEmpty) {
        reply.ok();
    }

    fn fsync(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let synced = self.with(|model| {
            let node = model.nodes.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
            node.durable = node.data.clone();
            model.commit_names();
            Ok(())
        });
        match synced {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(error),
        }
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let listed = self.with(|model| {
            let entries = model.names.get(&ino.0).ok_or(Errno::ENOTDIR)?;
            let mut all = vec![(ino.0, FileType::Directory, OsString::from(".")), (1, FileType::Directory, OsString::from(".."))];
            for (name, child) in entries {
                let kind =
                    if model.nodes.get(child).is_some_and(|node| node.directory) { FileType::Directory } else { FileType::RegularFile };
                all.push((*child, kind, name.clone()));
            }
            Ok(all)
        });
        match listed {
            Ok(all) => {
                for (index, (child, kind, name)) in all.into_iter().enumerate().skip(usize::try_from(offset).unwrap_or(usize::MAX)) {
                    if reply.add(INodeNo(child), index as u64 + 1, kind, name) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(error) => reply.error(error),
        }
    }

    fn fsyncdir(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        match self.with(|model| {
            model.commit_names();
            Ok(())
        }) {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(error),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        reply.statfs(BLOCKS, BLOCKS / 2, BLOCKS / 2, 1 << 20, 1 << 19, BLOCK, 255, BLOCK);
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }

    fn fallocate(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, length: u64, mode: i32, reply: ReplyEmpty) {
        if mode != 0 {
            return reply.error(Errno::EOPNOTSUPP);
        }
        let grown = self.with(|model| {
            let node = model.nodes.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
            let end = usize::try_from(offset + length).map_err(|_| Errno::EFBIG)?;
            if node.data.len() < end {
                node.data.resize(end, 0);
            }
            Ok(())
        });
        match grown {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(error),
        }
    }
}
