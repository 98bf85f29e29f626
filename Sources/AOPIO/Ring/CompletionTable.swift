/// Maps io_uring `user_data` values to completion handlers (ring-confined).
///
/// `user_data` packs a slot index (low 32 bits, plus one so that 0 is never used) and the slot's
/// generation (high 32 bits). A CQE whose generation does not match the slot is stale and ignored,
/// and a cancel request aimed at a finished operation can never hit the slot's next occupant.
struct CompletionTable {
    typealias Handler = (_ result: Int32, _ flags: UInt32) -> Void

    /// `user_data` for SQEs whose completion nobody waits for (cancel requests, timeout removals).
    static let ignored: UInt64 = 0

    private var handlers: [Handler?] = []
    private var generations: [UInt32] = []
    private var freeSlots: [Int] = []
    /// Operations submitted and not yet finally completed.
    private(set) var activeCount = 0

    /// Stores `handler` and returns the `user_data` for its SQE.
    mutating func insert(_ handler: @escaping Handler) -> UInt64 {
        let index: Int
        if let free = self.freeSlots.popLast() {
            index = free
            self.handlers[index] = handler
        } else {
            index = self.handlers.count
            self.handlers.append(handler)
            self.generations.append(0)
        }
        self.generations[index] &+= 1
        self.activeCount += 1
        return UInt64(self.generations[index]) << 32 | UInt64(index + 1)
    }

    /// The handler for a CQE's `user_data`, removed from the table when `final` (no `IORING_CQE_F_MORE`).
    mutating func handler(for userData: UInt64, final: Bool) -> Handler? {
        let low = Int(userData & 0xFFFF_FFFF)
        guard low > 0, low <= self.handlers.count else { return nil }
        let index = low - 1
        guard self.generations[index] == UInt32(truncatingIfNeeded: userData >> 32),
            let handler = self.handlers[index]
        else { return nil }
        if final {
            self.handlers[index] = nil
            self.freeSlots.append(index)
            self.activeCount -= 1
        }
        return handler
    }
}
