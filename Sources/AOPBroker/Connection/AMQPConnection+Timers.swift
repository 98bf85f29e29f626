import Logging
import AOPIO
import AOPWire

extension AMQPConnection {
    /// Handshake timeout, heartbeats sent when idle, and disconnection of a silent peer (two missed
    /// heartbeat intervals), all on the connection's ring loop.
    func runTimers() async {
        let handshakeDeadline = ContinuousClock.now + self.broker.configuration.handshakeTimeout
        while !self.closed {
            let interval: Duration
            if self.machine.isHandshaking || self.tuning.heartbeat == 0 {
                interval = .milliseconds(250)
            } else {
                interval = .milliseconds(Int64(self.tuning.heartbeat) * 500)  // half the heartbeat period
            }
            do {
                try await self.socket.loop.sleep(for: interval)
            } catch {
                return  // cancelled: the connection is gone
            }
            if self.closed { return }
            let now = ContinuousClock.now
            if self.machine.isHandshaking {
                if now >= handshakeDeadline {
                    self.logger.info("handshake timeout; closing")
                    self.closeSocket()
                    return
                }
                continue
            }
            let heartbeat = self.tuning.heartbeat
            guard heartbeat > 0, !self.machine.isClosing else { continue }
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
    }
}
