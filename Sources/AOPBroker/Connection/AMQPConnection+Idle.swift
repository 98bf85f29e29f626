import AOPIO
import AOPWire

/// Parking: how a connection waits for input without a task (see `readLoop`), and the buffers it
/// drops meanwhile.
extension AMQPConnection {
    /// Ends the read task: releases the buffers and lets the socket start a new one on input.
    func park() {
        self.parkRequested = false
        self.releaseIdleBuffers()
        self.socket.whenReadable { [self] in
            Task(executorPreference: self.socket.loop) { await self.readLoop() }
        }
    }

    /// Arms the idle check unless it is armed: it fires once per `parkAfter` while the read task
    /// waits, and asks the task to park once no input came for `parkAfter`.
    func armIdleCheck(after delay: Duration = AMQPConnection.parkAfter) {
        guard self.idleTimerToken == nil else { return }
        self.idleTimerToken = self.socket.loop.schedule(after: delay) { [self] in
            self.assumeIsolated { $0.idleCheckFired() }
        }
    }

    func cancelIdleCheck() {
        guard let token = self.idleTimerToken else { return }
        self.idleTimerToken = nil
        self.socket.loop.cancelTimer(token)
    }

    func idleCheckFired() {
        self.idleTimerToken = nil
        guard !self.closed else { return }
        let silent = ContinuousClock.now - self.lastReceive
        if silent >= Self.parkAfter {
            self.parkRequested = true
            self.socket.interruptReceive()  // the read task wakes with an empty chunk and parks
        } else {
            self.armIdleCheck(after: Self.parkAfter - silent)
        }
    }

    /// Drops the storage of empty inbound and outbound buffers, so a connection waiting for its peer
    /// holds no buffer (they grow again on demand).
    func releaseIdleBuffers() {
        if self.inbound.readableBytes == 0 { self.inbound = ByteBuffer() }
        if self.out.readableBytes == 0 { self.out = ByteBuffer() }
        self.socket.releaseOutputBuffers()
    }
}
