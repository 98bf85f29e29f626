import AOPStress

/// The JSON summary printed on stdout.
enum Summary {
    static func json(_ report: StressRun.Report, settings: StressSettings) -> String {
        let c = report.result.counts
        let s = report.stats
        func mib(_ bytes: UInt64?) -> JSONWriter.Value { bytes.map { .double(Double($0) / 1_048_576) } ?? .null }
        let byKind = Dictionary(grouping: report.violations, by: \.kind).mapValues(\.count)
        let value = JSONWriter.Value.object([
            ("seed", .uint(settings.seed)),
            ("run", .string(report.prefix)),
            ("connections", .int(settings.connections)),
            ("channelsPerConnection", .int(settings.channels)),
            ("seconds", .double(Self.seconds(report.elapsed))),
            ("operations", .int(s.operations.values.reduce(0, +))),
            ("operationsByKind", JSONWriter.counts(s.operations)),
            ("connects", .int(s.connects)),
            ("connectFailures", .int(s.connectFailures)),
            ("channelsOpened", .int(s.channelsOpened)),
            ("channelErrors", JSONWriter.counts(s.channelErrors)),
            ("connectionEnds", JSONWriter.counts(s.connectionEnds)),
            ("published", .int(c.published)),
            ("confirmed", .int(c.confirmed)),
            ("nacked", .int(c.nacked)),
            ("returned", .int(c.returned)),
            ("deliveries", .int(c.deliveries)),
            ("redeliveries", .int(c.redeliveries)),
            ("drained", .int(c.drained)),
            ("trackedMessages", .int(c.trackedMessages)),
            ("trackedRoutes", .int(c.trackedRoutes)),
            ("lossAllowedQueues", .int(c.lossAllowedQueues)),
            ("drainedCompletely", .bool(report.drained)),
            ("drainMessages", .int(report.drainMessages)),
            ("drainSeconds", .double(Self.seconds(report.drainElapsed))),
            ("drainRate", .double(DrainCheck.rate(messages: report.drainMessages, elapsed: report.drainElapsed).rounded())),
            ("queuesNotDrained", .object(report.notDrained.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("brokerRSSStartMiB", mib(report.rssStart)),
            ("brokerRSSPeakMiB", mib(report.rssPeak)),
            ("brokerRSSEndMiB", mib(report.rssEnd)),
            ("clientErrors", .array(s.clientErrors.map { .string($0) })),
            ("deliveriesAfterClose", .int(s.deliveriesAfterClose)),
            ("stalls", .array(report.stalls.map { .string($0) })),
            ("violations", .int(report.violations.count)),
            ("violationsByKind", JSONWriter.counts(Dictionary(uniqueKeysWithValues: byKind.map { ($0.key.rawValue, $0.value) }))),
        ])
        return JSONWriter.render(value)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
