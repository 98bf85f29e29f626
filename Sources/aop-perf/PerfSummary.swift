import Histogram

/// The figures of one run, printed as one JSON object.
struct PerfSummary: Sendable {
    var counts = PerfStats.Snapshot()
    var duration: Double = 0
    var latency: Histogram<UInt64>?
    var cpuUser: Double = 0
    var cpuSystem: Double = 0
    var wall: Double = 0
    var idleConnectionsOpen = 0
    var errors: [String] = []
    var config: JSON = .null

    var json: JSON {
        let perSecond = { (n: Int) -> JSON in .double(self.duration > 0 ? (Double(n) / self.duration).rounded() : 0) }
        let latency: JSON
        if let h = self.latency, h.totalCount > 0 {
            latency = .object([
                ("p50", .int(Int(h.valueAtPercentile(50)))), ("p95", .int(Int(h.valueAtPercentile(95)))),
                ("p99", .int(Int(h.valueAtPercentile(99)))), ("max", .int(Int(h.max))), ("count", .int(Int(h.totalCount))),
            ])
        } else {
            latency = .object([("p50", .null), ("p95", .null), ("p99", .null), ("max", .null), ("count", .int(0))])
        }
        let cpuTotal = self.cpuUser + self.cpuSystem
        return .object([
            ("published", .int(self.counts.published)), ("consumed", .int(self.counts.consumed)),
            ("confirmed", .int(self.counts.confirmed)), ("nacked", .int(self.counts.nacked)),
            ("returned", .int(self.counts.returned)), ("duration_s", .double((self.duration * 1000).rounded() / 1000)),
            ("published_per_s", perSecond(self.counts.published)), ("consumed_per_s", perSecond(self.counts.consumed)),
            ("latency_us", latency),
            ("cpu", .object([
                ("user_s", .double((self.cpuUser * 1000).rounded() / 1000)),
                ("system_s", .double((self.cpuSystem * 1000).rounded() / 1000)),
                ("percent_of_one_core", .double(self.wall > 0 ? (cpuTotal / self.wall * 1000).rounded() / 10 : 0)),
            ])),
            ("idle_connections_open", .int(self.idleConnectionsOpen)),
            ("errors", .array(self.errors.map { .string($0) })),
            ("config", self.config),
        ])
    }
}
