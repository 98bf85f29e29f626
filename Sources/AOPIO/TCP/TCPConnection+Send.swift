import CURing
import Glibc

extension TCPConnection {
    /// Appends `bytes` to the outbound buffer; the loop sends everything written in one iteration
    /// with one send. Loop thread only. Dropped after `close()` or a send error.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        self.loop.assertOnLoop()
        guard !self.isClosed, !self.sendFailed, bytes.count > 0 else { return }
        self.outbound.append(bytes)
        self.markDirty()
    }

    /// Appends `bytes` to the outbound buffer (see `write(_:)` taking a buffer pointer).
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.write($0) }
    }

    /// Frees the output buffers once everything written was sent (now, if it was), so an idle
    /// connection holds none; a busy one keeps them between sends. Loop thread only.
    public func releaseOutputBuffers() {
        self.loop.assertOnLoop()
        if !self.sendInFlight, self.outbound.count == 0 {
            self.inflight.deallocate()
            self.outbound.deallocate()
        } else {
            self.releaseOutputWhenSent = true
        }
    }

    /// Bytes written and not yet accepted by the kernel.
    public var pendingOutboundBytes: Int {
        self.outbound.count + self.inflight.count - self.inflightOffset
    }

    /// Suspends until fewer than `threshold` bytes are pending, or the connection is closed or
    /// failed. Loop thread only. Not cancellable: it returns when the connection closes.
    public func waitUntilWritable(threshold: Int, isolation: isolated (any Actor)? = #isolation) async {
        self.loop.assertOnLoop()
        guard self.pendingOutboundBytes >= threshold, !self.isClosed, !self.sendFailed else { return }
        await withUnsafeContinuation(isolation: isolation) { continuation in
            // Tested again here: on a ring executor the body can run after other jobs of the loop (seen in
            // AOPClient and the broker's publish worker), and a send completing meanwhile would never wake us.
            if self.pendingOutboundBytes >= threshold, !self.isClosed, !self.sendFailed {
                self.writers.append((threshold, continuation))
            } else {
                continuation.resume()
            }
        }
    }

    private func markDirty() {
        guard !self.isDirty else { return }
        self.isDirty = true
        self.loop.dirtyConnections.append(self)
    }

    /// Called by the loop once per iteration for dirty connections: starts one send.
    func flushOutbound() {
        self.isDirty = false
        guard !self.isClosed, !self.sendFailed, !self.sendInFlight, self.outbound.count > 0 else { return }
        swap(&self.outbound, &self.inflight)
        self.inflightOffset = 0
        self.submitSend()
    }

    private func submitSend() {
        guard !self.loop.stopping else {
            self.failSend(IOError(errno: ECANCELED, operation: "send (ring loop shutting down)"))
            return
        }
        let fd = self.fd
        let start = self.inflight.base! + self.inflightOffset
        var length = self.inflight.count - self.inflightOffset
        if self.faults.isActive {
            if self.faults.sendEAGAINProbability > 0, self.random.chance(self.faults.sendEAGAINProbability) {
                // Injected EAGAIN: a no-op completes as if the send found no room; it is retried.
                self.sendInFlight = true
                self.sendUserData = self.loop.submit({ sqe in io_uring_prep_nop(sqe) }) { _, _ in
                    self.sendCompleted(-EAGAIN)
                }
                return
            }
            if let piece = self.faults.maxWritePiece {
                length = min(length, self.random.next(in: 1...max(1, piece)))  // injected short write
            }
        }
        self.sendInFlight = true
        self.sendSubmissions += 1
        self.loop.sendSubmissions += 1
        self.sendUserData = self.loop.submit({ sqe in
            io_uring_prep_send(sqe, fd, start, length, Int32(MSG_NOSIGNAL))
        }) { result, _ in
            self.sendCompleted(result)
        }
    }

    private func sendCompleted(_ result: Int32) {
        self.sendInFlight = false
        if result == -EAGAIN, !self.isClosed, !self.sendFailed {
            self.submitSend()  // nothing was sent: try again
            return
        }
        if result < 0 {
            if !(self.isClosed && (result == -ECANCELED || result == -EAGAIN)) {
                self.failSend(IOError(result: result, operation: "send"))
            }
            self.inflight.clear()
            self.inflightOffset = 0
        } else {
            self.inflightOffset += Int(result)
            if self.inflightOffset >= self.inflight.count {
                self.inflightOffset = 0
                if self.outbound.count == 0,
                    self.releaseOutputWhenSent || self.inflight.capacity > Self.retainedOutputCapacity
                {
                    // Nothing more to send and the owner went idle (or the buffers grew large).
                    self.releaseOutputWhenSent = false
                    self.inflight.deallocate()
                    self.outbound.deallocate()
                } else {
                    self.inflight.clear()
                }
            } else if !self.isClosed {
                self.submitSend()  // partial send: continue with the rest
            }
            if !self.sendInFlight, self.outbound.count > 0, !self.isClosed {
                self.markDirty()
            }
        }
        self.notifyWriters()
        if self.isClosed { self.closeDescriptorIfIdle() }
    }

    /// A send failed (EPIPE, ECONNRESET): output is dropped and `receive()` reports the error.
    private func failSend(_ error: IOError) {
        self.sendFailed = true
        self.outbound.clear()
        if self.endOfInput == nil { self.endOfInput = .failed(error) }
        if self.recvArmed, !self.recvCancelRequested {
            self.recvCancelRequested = true
            self.loop.cancel(self.recvUserData)
        }
        self.deliverToReceiver()
    }

    func notifyWriters() {
        guard !self.writers.isEmpty else { return }
        let pending = self.pendingOutboundBytes
        let all = self.isClosed || self.sendFailed
        var kept: [(threshold: Int, continuation: UnsafeContinuation<Void, Never>)] = []
        for writer in self.writers {
            if all || pending < writer.threshold {
                writer.continuation.resume()
            } else {
                kept.append(writer)
            }
        }
        self.writers = kept
    }
}
