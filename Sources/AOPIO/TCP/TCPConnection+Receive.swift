import CURing
import Glibc

extension TCPConnection {
    /// The next chunk of received bytes, or nil at end of input (peer closed, or `close()` ran).
    ///
    /// Must be called on `loop` (from code isolated to an actor on the loop's executor). Throws
    /// the receive error (ECONNRESET, …) or a send error (EPIPE) once buffered bytes are consumed;
    /// throws ECANCELED when the task is cancelled while waiting. With `faults.emptyWakeupProbability`
    /// set it can return an empty chunk.
    public func receive(isolation: isolated (any Actor)? = #isolation) async throws(IOError) -> [UInt8]? {
        self.loop.assertOnLoop()
        if let result = self.immediateReceiveResult() {
            return try result.get()
        }
        self.armReceiveIfNeeded()
        let result = await withTaskCancellationHandler {
            await withUnsafeContinuation(isolation: isolation) {
                (continuation: UnsafeContinuation<Result<[UInt8]?, IOError>, Never>) in
                if Task.isCancelled {
                    continuation.resume(returning: .failure(IOError(errno: ECANCELED, operation: "receive")))
                } else {
                    precondition(self.receiver == nil, "concurrent receive() on one TCPConnection")
                    self.receiver = continuation
                    self.deliverToReceiver()
                }
            }
        } onCancel: {
            self.loop.execute {
                guard let receiver = self.receiver else { return }
                self.receiver = nil
                receiver.resume(returning: .failure(IOError(errno: ECANCELED, operation: "receive")))
            }
        }
        return try result.get()
    }

    /// Bytes received and not yet returned by `receive()`.
    public var bufferedInboundBytes: Int { self.bufferedInbound }

    /// True when `receive()` would return without suspending: bytes are buffered, input ended or
    /// failed, or the connection is closed. Loop thread only.
    public var isReadable: Bool {
        self.inboundHead < self.inbound.count || self.endOfInput != nil || self.isClosed
    }

    /// Makes a waiting `receive()` return an empty chunk now (no-op when none waits), so its caller
    /// can change how it waits, e.g. park with `whenReadable`. Loop thread only.
    public func interruptReceive() {
        self.loop.assertOnLoop()
        guard let receiver = self.receiver else { return }
        self.receiver = nil
        receiver.resume(returning: .success([]))
    }

    /// Calls `handler` once, on the loop thread, as soon as `isReadable` is true (right away if it
    /// already is), and keeps a recv armed meanwhile.
    ///
    /// Lets an owner wait for input without a task suspended in `receive()`: an idle connection then
    /// costs no task stack, only this closure. Loop thread only; at most one handler at a time, and
    /// not while a `receive()` is waiting.
    public func whenReadable(_ handler: @escaping () -> Void) {
        self.loop.assertOnLoop()
        precondition(self.receiver == nil && self.readableHandler == nil, "whenReadable while already waiting")
        self.readableHandler = handler
        self.armReceiveIfNeeded()
        self.deliverToReceiver()
    }

    /// A chunk, end of input, or nil when the caller has to wait.
    private func immediateReceiveResult() -> Result<[UInt8]?, IOError>? {
        if let chunk = self.popInbound() { return .success(chunk) }
        switch self.endOfInput {
        case .endOfFile: return .success(nil)
        case .failed(let error): return .failure(error)
        case nil: return self.isClosed ? .success(nil) : nil
        }
    }

    /// Resumes a waiting `receive()` (or calls the `whenReadable` handler) if there is something to
    /// give it.
    func deliverToReceiver() {
        if let handler = self.readableHandler, self.isReadable {
            self.readableHandler = nil
            handler()
            return
        }
        guard let receiver = self.receiver, let result = self.immediateReceiveResult() else { return }
        self.receiver = nil
        receiver.resume(returning: result)
    }

    private func popInbound() -> [UInt8]? {
        guard self.inboundHead < self.inbound.count else { return nil }
        let chunk = self.inbound[self.inboundHead]
        self.inbound[self.inboundHead] = []
        self.inboundHead += 1
        if self.inboundHead == self.inbound.count {
            self.inbound.removeAll(keepingCapacity: true)
            self.inboundHead = 0
        } else if self.inboundHead >= 64, self.inboundHead * 2 >= self.inbound.count {
            self.inbound.removeFirst(self.inboundHead)
            self.inboundHead = 0
        }
        self.bufferedInbound -= chunk.count
        self.armReceiveIfNeeded()
        return chunk
    }

    /// Arms one recv unless one is armed, input ended, or the inbound buffer is full.
    ///
    /// The recv is single-shot with a buffer picked from the loop's provided buffer ring, so one
    /// completion brings at most one buffer (`ProvidedBufferRing.bufferSize`) and nothing arrives
    /// after it until the next arm. Since a recv is armed only below `maxBufferedInbound`, the inbound
    /// buffer never exceeds `maxBufferedInbound + bufferSize - 1` bytes. (A multishot recv keeps
    /// filling recycled buffers until its cancellation lands, which made that bound soft.)
    func armReceiveIfNeeded() {
        guard !self.recvArmed, !self.isClosed, self.endOfInput == nil,
            self.bufferedInbound < self.maxBufferedInbound
        else { return }
        guard !self.loop.stopping else {
            self.endOfInput = .failed(IOError(errno: ECANCELED, operation: "recv (ring loop shutting down)"))
            return
        }
        let buffers: ProvidedBufferRing
        do {
            buffers = try self.loop.recvBuffers()
        } catch {
            self.endOfInput = .failed(error)
            return
        }
        let fd = self.fd
        let group = buffers.groupID
        let length = buffers.bufferSize
        self.recvArmed = true
        self.recvCancelRequested = false
        self.recvUserData = self.loop.submit({ sqe in
            io_uring_prep_recv(sqe, fd, nil, length, 0)
            sqe.pointee.flags |= aop_IOSQE_BUFFER_SELECT
            aop_sqe_set_buf_group(sqe, group)
        }) { result, flags in
            self.receiveCompleted(result, flags)
        }
    }

    private func receiveCompleted(_ result: Int32, _ flags: UInt32) {
        self.recvArmed = false
        self.recvCancelRequested = false
        if result > 0 {
            precondition(flags & aop_IORING_CQE_F_BUFFER != 0, "recv completion without a provided buffer")
            let id = Int(flags >> aop_IORING_CQE_BUFFER_SHIFT)
            let buffers = self.loop.providedBuffers!
            let chunk = [UInt8](buffers.bytes(id: id, count: Int(result)))
            buffers.recycle(id: id)
            if !self.isClosed, self.endOfInput == nil {
                self.received(chunk)
            }
        } else if result == 0 {
            if self.endOfInput == nil { self.endOfInput = .endOfFile }
        } else if result == -ENOBUFS {
            // Every provided buffer of the loop is taken (recycling happens right after each copy, so
            // this is a momentary shortage): arm again, which queues behind the returning buffers.
        } else if result != -ECANCELED {
            if self.endOfInput == nil { self.endOfInput = .failed(IOError(result: result, operation: "recv")) }
        }
        if self.isClosed {
            self.closeDescriptorIfIdle()
        } else {
            self.armReceiveIfNeeded()
        }
        self.deliverToReceiver()
    }

    /// Buffers a received chunk (applying injected faults).
    private func received(_ chunk: [UInt8]) {
        if self.faults.isActive {
            self.receivedWithFaults(chunk)
        } else {
            self.inbound.append(chunk)
            self.bufferedInbound += chunk.count
            self.receivedTotal += chunk.count
        }
        // No recv is armed here (the completion re-arms after this returns, if there is room).
    }

    private func receivedWithFaults(_ chunk: [UInt8]) {
        var chunk = chunk[...]
        var reset = false
        if let limit = self.faults.resetAfterBytes, self.receivedTotal + chunk.count >= limit {
            chunk = chunk.prefix(max(0, limit - self.receivedTotal))
            reset = true
        }
        self.receivedTotal += chunk.count
        while !chunk.isEmpty {
            if self.faults.emptyWakeupProbability > 0, self.random.chance(self.faults.emptyWakeupProbability) {
                self.inbound.append([])
            }
            let size = self.faults.maxReadPiece.map { self.random.next(in: 1...max(1, $0)) } ?? chunk.count
            let piece = chunk.prefix(size)
            chunk = chunk.dropFirst(piece.count)
            self.inbound.append([UInt8](piece))
            self.bufferedInbound += piece.count
        }
        if reset {
            self.abort(IOError(errno: ECONNRESET, operation: "recv (injected reset)"))
        }
    }
}
