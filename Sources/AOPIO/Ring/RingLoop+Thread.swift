import CURing
import Glibc
import Synchronization

extension RingLoop {
    /// Starts the loop thread and waits until it has published its thread id.
    func startThread() throws(IOError) {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let ret = pthread_create(
            &thread, nil,
            { context in
                let loop = Unmanaged<RingLoop>.fromOpaque(context!).takeRetainedValue()
                loop.runThread()
                return nil
            }, context)
        guard ret == 0 else {
            Unmanaged<RingLoop>.fromOpaque(context).release()
            io_uring_queue_exit(self.ring)
            throw IOError(errno: ret, operation: "pthread_create")
        }
        self.thread.withLock { $0 = thread }
        while self.threadID.load(ordering: .acquiring) == 0 {
            sched_yield()
        }
    }

    private func runThread() {
        String(decoding: self.name.utf8.prefix(15), as: UTF8.self).withCString { aop_set_thread_name($0) }
        self.threadID.store(UInt(pthread_self()), ordering: .releasing)
        self.armWakeRead()
        self.runLoop()
        self.finish()
    }

    private func runLoop() {
        let cqes = UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>.allocate(capacity: Int(Self.reapBatch))
        defer { cqes.deallocate() }
        while true {
            self.drainRemote()
            self.runJobs()
            self.flushDirtyConnections()
            if !self.stopping, self.stopRequested.load(ordering: .acquiring) {
                self.beginStopping()
            }
            if self.stopping, self.completions.activeCount == 0, !self.wakeArmed, self.localJobs.isEmpty {
                return
            }
            let ret: Int32
            if self.localJobs.isEmpty {
                ret = io_uring_submit_and_wait(self.ring, 1)
            } else {
                ret = io_uring_submit(self.ring)
            }
            if ret < 0, ret != -EINTR, ret != -EAGAIN, ret != -EBUSY, ret != -ETIME {
                fatalError("io_uring_submit on \(self.name) failed: \(IOError(result: ret, operation: "submit"))")
            }
            self.reap(cqes)
        }
    }

    private func reap(_ cqes: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>) {
        while true {
            let count = io_uring_peek_batch_cqe(self.ring, cqes, Self.reapBatch)
            if count == 0 { return }
            for i in 0..<Int(count) {
                let cqe = cqes[i]!
                let userData = cqe.pointee.user_data
                let result = cqe.pointee.res
                let flags = cqe.pointee.flags
                if userData == Self.wakeUserData {
                    self.wakeCompleted(result)
                } else if userData != CompletionTable.ignored,
                    let handler = self.completions.handler(for: userData, final: flags & aop_IORING_CQE_F_MORE == 0)
                {
                    handler(result, flags)
                }
            }
            io_uring_cq_advance(self.ring, count)
            if count < Self.reapBatch { return }
        }
    }

    private func drainRemote() {
        let remote: RemoteQueue? = self.remote.withLock(orderedFor: self) { queue in
            if queue.jobs.isEmpty, queue.closures.isEmpty { return nil }
            defer { queue = RemoteQueue() }
            return queue
        }
        guard let remote else { return }
        self.localJobs.append(contentsOf: remote.jobs)
        for closure in remote.closures {
            closure()
        }
    }

    /// Runs queued jobs; jobs they enqueue run in the same iteration, up to a few rounds, so chains of
    /// local hops do not cost one `io_uring_enter` each but cannot starve I/O either.
    private func runJobs() {
        var rounds = 0
        while !self.localJobs.isEmpty, rounds < 16 {
            rounds += 1
            swap(&self.localJobs, &self.runningJobs)
            for job in self.runningJobs {
                job.runSynchronously(
                    isolatedTo: self.asUnownedSerialExecutor(), taskExecutor: self.asUnownedTaskExecutor())
            }
            self.runningJobs.removeAll(keepingCapacity: true)
        }
    }

    private func flushDirtyConnections() {
        guard !self.dirtyConnections.isEmpty else { return }
        swap(&self.dirtyConnections, &self.flushingConnections)
        for connection in self.flushingConnections {
            connection.flushOutbound()
        }
        self.flushingConnections.removeAll(keepingCapacity: true)
    }

    // MARK: Wakeups

    private func armWakeRead() {
        let sqe = self.sqe()
        io_uring_prep_read(sqe, self.wakeFD, self.wakeBuffer, 8, 0)
        io_uring_sqe_set_data64(sqe, Self.wakeUserData)
        self.wakeArmed = true
    }

    private func wakeCompleted(_ result: Int32) {
        self.wakeArmed = false
        // Clear before the next drain, so a job enqueued after the drain writes the eventfd again.
        self.wakePending.store(false, ordering: .releasing)
        if !self.stopping {
            self.armWakeRead()
        }
    }

    // MARK: Stopping

    private func beginStopping() {
        self.stopping = true
        let sqe = self.sqe()
        io_uring_prep_cancel64(sqe, 0, Int32(aop_IORING_ASYNC_CANCEL_ANY))
        io_uring_sqe_set_data64(sqe, CompletionTable.ignored)
    }

    private func finish() {
        // Run what the cancelled operations' completions enqueued, then release the ring.
        self.drainRemoteForExit()
        // Unregister the buffer ring before the ring's descriptor closes (the number could be reused).
        self.providedBuffers = nil
        io_uring_queue_exit(self.ring)
    }

    /// Runs the remaining jobs and closures (operations started now fail with ECANCELED), then
    /// marks the queue stopped in the same critical section that found it empty.
    private func drainRemoteForExit() {
        var rounds = 0
        while true {
            rounds += 1
            let idle = self.localJobs.isEmpty
            let remote = self.remote.withLock(orderedFor: self) { queue in
                let taken = queue
                queue = RemoteQueue(remoteJobCount: queue.remoteJobCount)
                queue.stopped = (idle && taken.jobs.isEmpty && taken.closures.isEmpty) || rounds >= 100
                return taken
            }
            self.localJobs.append(contentsOf: remote.jobs)
            for closure in remote.closures {
                closure()
            }
            self.runJobs()
            if (idle && remote.jobs.isEmpty && remote.closures.isEmpty) || rounds >= 100 { return }
        }
    }
}
