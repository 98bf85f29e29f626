import Synchronization
import AOPClient
import AOPIO
import AOPWire
import Histogram

/// One load run: declares the topology, starts consumers then producers, prints progress each second,
/// stops on duration or count, and gathers the summary.
struct PerfRun: Sendable {
    let options: PerfOptions
    let stats = PerfStats()

    func execute() async -> PerfSummary {
        var summary = PerfSummary()
        summary.config = self.options.json
        raiseFileLimit()
        let configuration: AMQPClientConfiguration
        let loops: RingLoopGroup
        do {
            configuration = try AMQPClientConfiguration(uri: self.options.uri)
            loops = try RingLoopGroup(loops: self.options.threads, namePrefix: "perf")
        } catch {
            summary.errors = ["\(error)"]
            return summary
        }
        defer { loops.shutdown() }
        let cpuStart = cpuSeconds()
        let wallStart = monotonicNanos()
        var connections: [AMQPClientConnection] = []
        do {
            try await self.run(configuration: configuration, loops: loops, connections: &connections, summary: &summary)
        } catch {
            self.stats.record(error: "\(error)")
        }
        self.stats.stop.store(true, ordering: .relaxed)
        for connection in connections { await connection.abort() }
        let cpuEnd = cpuSeconds()
        summary.cpuUser = cpuEnd.user - cpuStart.user
        summary.cpuSystem = cpuEnd.system - cpuStart.system
        summary.wall = Double(monotonicNanos() - wallStart) / 1e9
        summary.errors = self.stats.errors
        return summary
    }

    private func connect(_ configuration: AMQPClientConfiguration, loops: RingLoopGroup, name: String,
                         into connections: inout [AMQPClientConnection]) async throws -> AMQPClientConnection {
        var configuration = configuration
        configuration.connectionName = name
        let connection = try await AMQPClientConnection.connect(configuration, on: loops.next())
        connections.append(connection)
        return connection
    }

    private func run(configuration: AMQPClientConfiguration, loops: RingLoopGroup,
                     connections: inout [AMQPClientConnection], summary: inout PerfSummary) async throws {
        let options = self.options
        let setup = try await self.connect(configuration, loops: loops, name: "aop-perf setup", into: &connections)
        let frameMax = await setup.frameMax
        try await self.declare(on: setup)

        // Connections: shared (producer i and consumer i on one) or one each.
        var producerConnections: [AMQPClientConnection] = []
        var consumerConnections: [AMQPClientConnection] = []
        if options.sharedConnection {
            for i in 0..<max(options.producers, options.consumers) {
                let c = try await self.connect(configuration, loops: loops, name: "aop-perf \(i)", into: &connections)
                if i < options.producers { producerConnections.append(c) }
                if i < options.consumers { consumerConnections.append(c) }
            }
        } else {
            for i in 0..<options.consumers {
                consumerConnections.append(try await self.connect(configuration, loops: loops, name: "aop-perf consumer \(i)",
                                                                  into: &connections))
            }
            for i in 0..<options.producers {
                producerConnections.append(try await self.connect(configuration, loops: loops, name: "aop-perf producer \(i)",
                                                                  into: &connections))
            }
        }

        let working = connections
        var idle: [AMQPClientConnection] = []
        if options.idleConnections > 0 {
            idle = try await IdleConnections.open(options.idleConnections, configuration: configuration, loops: loops)
            connections.append(contentsOf: idle)
            summary.idleConnectionsOpen = idle.count
            printError("idle connections open: \(idle.count)")
        }

        // Consumers first, so producers find them ready.
        var consumerTasks: [Task<Histogram<UInt64>, Never>] = []
        for (j, connection) in consumerConnections.enumerated() {
            let channel = try await connection.openChannel()
            let consumer = Consumer(channel: channel, queue: options.queueName(j % options.queues), stats: self.stats,
                                    autoack: options.autoack, prefetch: options.prefetch, multiAck: options.multiAck)
            consumerTasks.append(Task(executorPreference: connection.loop) { await consumer.run() })
        }
        let producerPlan = Producer.Plan(
            count: options.count.map { total in (total + max(1, options.producers) - 1) / max(1, options.producers) },
            rate: options.producers > 0 ? Double(options.rate) / Double(options.producers) : 0,
            window: options.confirm, batch: options.batch,
            maxBacklog: options.consumers > 0 ? (options.maxBacklog ?? 100_000) : options.maxBacklog,
            fanoutFactor: options.consumers > 0 ? options.fanoutFactor : 0)
        var properties = BasicProperties()
        if options.persistent { properties.deliveryMode = 2 }
        var producerTasks: [Task<Void, Never>] = []
        for (i, connection) in producerConnections.enumerated() {
            let channel = try await connection.openChannel()
            let routingKey = options.isFanout ? "" : options.queueName(i % options.queues)
            let encoder = AMQPPublishEncoder(channel: channel.id, exchange: options.exchange, routingKey: routingKey,
                                             body: [UInt8](repeating: 0x61, count: options.size), properties: properties,
                                             frameMax: frameMax)
            var plan = producerPlan
            if let total = options.count {  // split the count exactly
                plan.count = total / options.producers + (i < total % options.producers ? 1 : 0)
            }
            let producer = Producer(channel: channel, encoder: encoder, stats: self.stats, plan: plan)
            producerTasks.append(Task(executorPreference: connection.loop) { await producer.run() })
        }

        let window = try await self.monitor(connections: working)
        if !idle.isEmpty {
            var open = 0
            for connection in idle where await connection.isOpen { open += 1 }
            summary.idleConnectionsOpen = open
        }
        summary.counts = window.counts
        summary.duration = window.duration

        // Stop: producers notice the flag between batches; consumers end when their connections close.
        self.stats.stop.store(true, ordering: .relaxed)
        for task in producerTasks { await task.value }
        for connection in connections { try? await connection.close() }
        var latency = Consumer.makeHistogram()
        for task in consumerTasks { latency.add(await task.value) }
        summary.latency = latency
    }

    /// Declares the queues and, for a named exchange, the exchange and its bindings.
    private func declare(on connection: AMQPClientConnection) async throws {
        let options = self.options
        let channel = try await connection.openChannel()
        if !options.exchange.isEmpty {
            try await channel.exchangeDeclare(options.exchange, type: options.exchangeType, durable: options.durable)
        }
        for q in 0..<options.queues {
            let name = options.queueName(q)
            try await channel.queueDeclare(name, durable: options.durable)
            if !options.exchange.isEmpty {
                try await channel.queueBind(name, exchange: options.exchange, routingKey: options.isFanout ? "" : name)
            }
        }
        try await channel.close()
    }

    /// Prints progress every second until the run's end; returns the counts and length of the measured
    /// window (after the warmup).
    private func monitor(connections: [AMQPClientConnection]) async throws -> (counts: PerfStats.Snapshot, duration: Double) {
        let options = self.options
        let start = monotonicNanos()
        let warmupEnd = start + UInt64(options.warmup * 1e9)
        var measuring = options.warmup <= 0
        var base = PerfStats.Snapshot()
        var measureStart = start
        var last = self.stats.snapshot()
        var lastTick = start
        var lastProgress = start
        let expectedConsumed = options.count.map { count in
            options.producers > 0 ? count * options.fanoutFactor : count
        }
        while true {
            try await Task.sleep(for: .milliseconds(20))
            let now = monotonicNanos()
            if !measuring, now >= warmupEnd {
                measuring = true
                base = self.stats.snapshot()
                measureStart = now
                self.stats.epoch.wrappingAdd(1, ordering: .relaxed)
            }
            if now - lastTick >= 1_000_000_000 {
                let current = self.stats.snapshot()
                let seconds = Double(now - lastTick) / 1e9
                let backlog = current.published * options.fanoutFactor - current.consumed
                printError("t=\(Int(Double(now - start) / 1e9))s pub/s=\(Int(Double(current.published - last.published) / seconds)) "
                    + "cons/s=\(Int(Double(current.consumed - last.consumed) / seconds)) confirmed=\(current.confirmed) "
                    + "backlog=\(options.consumers > 0 ? backlog : current.published)")
                if current.published != last.published || current.consumed != last.consumed { lastProgress = now }
                last = current
                lastTick = now
            }
            if !self.stats.errors.isEmpty { break }
            var closed = false
            for connection in connections where await !connection.isOpen {
                self.stats.record(error: "connection closed: \(await connection.waitUntilClosed())")
                closed = true
                break
            }
            if closed { break }
            guard measuring else { continue }
            if let duration = options.duration, Double(now - measureStart) / 1e9 >= duration { break }
            if let expected = expectedConsumed {
                let current = self.stats.snapshot()
                if options.consumers > 0 {
                    if current.consumed >= expected { break }
                } else if current.published >= (options.count ?? 0),
                    options.confirm == 0 || current.confirmed + current.nacked >= current.published
                {
                    break
                }
                if now - lastProgress > 10_000_000_000 {
                    self.stats.record(error: "no progress for 10 s (published \(current.published), consumed \(current.consumed))")
                    break
                }
            } else if options.duration == nil, options.producers == 0, options.consumers == 0 {
                break
            }
        }
        let end = monotonicNanos()
        let counts = self.stats.snapshot() - base
        var finish = end
        if options.count != nil, options.consumers > 0 {
            finish = max(measureStart, min(end, self.stats.lastConsumed.load(ordering: .relaxed)))
        }
        return (counts, Double(finish - measureStart) / 1e9)
    }
}
