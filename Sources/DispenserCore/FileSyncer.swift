import CLibc

/// Makes files durable on other threads (CLibc/syncer.c): `submit` hands a written
/// file over and returns at once, so its fdatasync overlaps the writing of the next ones
/// instead of stalling it. Only what was submitted is synced, never the whole file system.
struct FileSyncer {
    private let handle: OpaquePointer

    init?() {
        guard let handle = bm_syncer_start() else { return nil }
        self.handle = handle
    }

    /// The syncer now owns `file` and closes it. Directories need `whole` (fsync, for
    /// their entries); files only their data and size (fdatasync).
    func submit(_ file: FileDescriptor, whole: Bool = false) {
        bm_syncer_submit(handle, file.rawValue, whole ? 1 : 0)
    }

    /// Waits for every submitted sync; the syncer is gone afterwards, even on failure.
    consuming func finish() -> Result<Void, Errno> {
        let error = bm_syncer_finish(handle)
        return error == 0 ? .success(()) : .failure(Errno(error))
    }
}
