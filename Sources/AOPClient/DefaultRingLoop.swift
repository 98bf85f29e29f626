import AOPIO
import Synchronization

/// The ring loop connections use when `connect` is not given one: started on first use, kept for the
/// life of the process.
enum DefaultRingLoop {
    private static let loop = Mutex<RingLoop?>(nil)

    static func shared() throws(AMQPClientError) -> RingLoop {
        let result: Result<RingLoop, IOError> = Self.loop.withLock { stored in
            if let stored { return .success(stored) }
            let created = Result { () throws(IOError) -> RingLoop in try RingLoop(name: "aop-client") }
            if case .success(let loop) = created { stored = loop }
            return created
        }
        switch result {
        case .success(let loop): return loop
        case .failure(let error): throw .transport("cannot start an io_uring loop: \(error)")
        }
    }
}
