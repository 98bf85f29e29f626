import AOPIO

extension StorageError {
    /// Maps an I/O failure: ENOSPC becomes `.noSpace`, everything else `.io`.
    init(_ error: IOError, _ context: String) {
        self.init(error.isNoSpace ? .noSpace : .io, "\(context): \(error)")
    }
}
