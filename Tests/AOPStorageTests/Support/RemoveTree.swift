import AOPIO
import Glibc

/// Deletes a directory tree the tests created on the real file system (files, then directories).
func removeTree(_ path: String) {
    let fileSystem = PosixFileSystem()
    if let names = try? fileSystem.listDirectory(path: path) {
        for name in names where name != "." && name != ".." {
            removeTree(path + "/" + name)
        }
        rmdir(path)
    } else {
        unlink(path)
    }
}
