extension MessageQueue {
    /// Arms the TTL timer for the earliest expiry among the level heads, so a queue without consumers
    /// dead-letters expired messages promptly.
    func scheduleExpiry() {
        guard case .running = self.lifecycle else { return }
        let heads = self.levels.compactMap { $0.window.first?.entry.expiresAt }.filter { $0 != 0 }
        guard let deadline = heads.min() else { return }
        if self.expiryTimer != nil, let current = self.expiryDeadline, current <= deadline { return }
        self.expiryTimer?.cancel()
        self.expiryDeadline = deadline
        let delay = max(0, deadline - WallClock.nowMilliseconds())
        self.expiryTimer = Task {
            try? await Task.sleep(for: .milliseconds(delay))
            guard !Task.isCancelled else { return }
            self.expiryTimerFired()
        }
    }

    private func expiryTimerFired() {
        self.expiryTimer = nil
        self.expiryDeadline = nil
        self.expireHeads()
        self.scheduleDispatch()   // refills the window, delivers, and re-arms the timer
        self.scheduleExpiry()
    }

    /// x-expires: deletes the queue once it has had no consumers, no basic.get and no redeclare for
    /// that long.
    func startIdleTimer() {
        guard let expires = self.policy.expires, self.idleTimer == nil else { return }
        self.idleTimer = Task {
            var wait = expires
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(wait))
                guard !Task.isCancelled else { return }
                guard let remaining = await self.idleRemaining(expires: expires) else { return }
                wait = max(1, remaining)
            }
        }
    }

    /// ms until the queue expires, or nil once it was deleted for being unused.
    private func idleRemaining(expires: Int64) async -> Int64? {
        guard case .running = self.lifecycle else { return nil }
        guard self.consumers.isEmpty else { return expires }
        let remaining = expires - (WallClock.nowMilliseconds() - self.lastUsed)
        guard remaining <= 0 else { return remaining }
        self.idleTimer = nil
        await self.vhost?.removeQueue(self, reason: "expired")
        return nil
    }

    /// Marks the queue used (redeclare) for x-expires.
    func touch() { self.lastUsed = WallClock.nowMilliseconds() }
}
