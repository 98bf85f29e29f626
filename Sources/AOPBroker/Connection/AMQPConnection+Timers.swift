import Logging
import AOPIO
import AOPWire

extension AMQPConnection {
    /// Arms the handshake deadline: one ring timer (no task), replaced by the heartbeat timer when
    /// connection.open-ok goes out (`handshakeCompleted`).
    func startHandshakeTimer() {
        self.armTimer(after: self.broker.configuration.handshakeTimeout)
    }

    /// The handshake is over: the deadline no longer applies. With heartbeats off an open connection
    /// has no timer at all (an idle connection costs no wakeups); with them on, one timer fires every
    /// half heartbeat period.
    func handshakeCompleted() {
        self.cancelTimer()
        self.armHeartbeatTimer()
    }

    /// Stops the connection's timer (connection closing).
    func cancelTimer() {
        guard let token = self.timerToken else { return }
        self.timerToken = nil
        self.socket.loop.cancelTimer(token)
    }

    private func armHeartbeatTimer() {
        let heartbeat = self.tuning.heartbeat
        guard heartbeat > 0, !self.closed else { return }
        self.armTimer(after: .milliseconds(Int64(heartbeat) * 500))  // half the heartbeat period
    }

    private func armTimer(after duration: Duration) {
        // The handler runs on the loop thread, which is this actor's executor.
        self.timerToken = self.socket.loop.schedule(after: duration) { [self] in
            self.assumeIsolated { $0.timerFired() }
        }
    }

    /// Handshake timeout, heartbeats sent when idle, and disconnection of a silent peer (two missed
    /// heartbeat intervals).
    private func timerFired() {
        self.timerToken = nil
        guard !self.closed else { return }
        if self.machine.isHandshaking {
            self.logger.info("handshake timeout; closing")
            self.closeSocket()
            return
        }
        let heartbeat = self.tuning.heartbeat
        guard heartbeat > 0 else { return }
        if !self.machine.isClosing {
            let now = ContinuousClock.now
            let period = Duration.seconds(Int64(heartbeat))
            if now - self.lastReceive > period * 2 {
                self.logger.info("missed heartbeats from client, timeout: \(heartbeat)s")
                self.closeSocket()
                return
            }
            if now - self.lastSend >= period / 2 {
                self.send { $0.writeHeartbeat() }
                self.flush()
            }
        }
        self.armHeartbeatTimer()
    }
}
