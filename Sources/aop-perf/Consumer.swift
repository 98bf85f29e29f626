import Synchronization
import AOPClient
import AOPIO
import Histogram

/// One consuming channel: reads delivery batches on the connection's loop, records latency from the
/// timestamp in each body's first 8 bytes, acks every `multiAck` messages.
actor Consumer {
    nonisolated let loop: RingLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { self.loop.asUnownedSerialExecutor() }
    let channel: AMQPClientChannel
    let queue: String
    let stats: PerfStats
    let autoack: Bool
    let prefetch: Int
    let multiAck: Int
    private var histogram = Consumer.makeHistogram()
    private var epoch = 0

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    init(channel: AMQPClientChannel, queue: String, stats: PerfStats, autoack: Bool, prefetch: Int, multiAck: Int) {
        self.loop = channel.connection.loop
        self.channel = channel
        self.queue = queue
        self.stats = stats
        self.autoack = autoack
        self.prefetch = prefetch
        self.multiAck = max(1, min(multiAck, prefetch == 0 ? multiAck : prefetch))
    }

    /// Consumes until the channel or connection ends; returns the latency histogram (µs).
    func run() async -> Histogram<UInt64> {
        do {
            try await self.consume()
        } catch {
            if !self.stats.isStopping { self.stats.record(error: "consumer of \(self.queue): \(error)") }
        }
        return self.histogram
    }

    private func consume() async throws {
        if !self.autoack { try await self.channel.basicQos(prefetchCount: UInt16(clamping: self.prefetch)) }
        let consumer = try await self.channel.basicConsume(queue: self.queue, noAck: self.autoack)
        var unacked = 0
        for try await batch in consumer.batches {
            let now = monotonicNanos()
            let epoch = self.stats.epoch.load(ordering: .relaxed)
            if epoch != self.epoch {
                self.epoch = epoch
                self.histogram.reset()
            }
            for i in batch.indices {
                let stamp = batch.withBody(at: i) { $0.count >= 8 ? UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) : 0 }
                if stamp != 0, stamp <= now {
                    _ = self.histogram.record((now - stamp) / 1000)
                }
            }
            self.stats.consumed.wrappingAdd(batch.count, ordering: .relaxed)
            self.stats.lastConsumed.store(now, ordering: .relaxed)
            if !self.autoack, let last = batch.lastDeliveryTag {
                unacked += batch.count
                if unacked >= self.multiAck {
                    try await self.channel.basicAck(deliveryTag: last, multiple: true)
                    unacked = 0
                }
            }
        }
    }
}
