import AOPBroker
import AOPWire
import Benchmark

/// Routing micro-benchmarks: one route call per iteration against realistic tables.
/// Gate on mallocs (`mallocCountTotal`), not on seconds (DESIGN.md §9).
let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .throughput]
    // Route benchmarks time 1,000 routes per sample (scaledIterations) and stop the clock before the
    // routing table is freed, so per-route figures are not swamped by set-up and teardown.
    let routeConfiguration = Benchmark.Configuration(metrics: metrics, scalingFactor: .kilo)

    Benchmark("Direct.route 1k keys", configuration: routeConfiguration) { benchmark in
        var router = DirectRouter()
        for i in 0..<1_000 { _ = router.bind(Binding(destination: .queue("q\(i)"), routingKey: "key.\(i)")) }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(router.route(routingKey: "key.\(i % 1_000)", headers: nil)) }
        benchmark.stopMeasurement()
    }

    Benchmark("Fanout.route 100 queues", configuration: routeConfiguration) { benchmark in
        var router = FanoutRouter()
        for i in 0..<100 { _ = router.bind(Binding(destination: .queue("q\(i)"), routingKey: "")) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(router.route(routingKey: "x", headers: nil)) }
        benchmark.stopMeasurement()
    }

    Benchmark("Topic.route 10k bindings", configuration: routeConfiguration) { benchmark in
        var router = TopicRouter()
        for i in 0..<10_000 {
            let pattern: String
            switch i % 4 {
            case 0: pattern = "stock.\(i).*"
            case 1: pattern = "stock.*.\(i)"
            case 2: pattern = "#.\(i)"
            default: pattern = "region\(i % 50).#"
            }
            _ = router.bind(Binding(destination: .queue("q\(i % 1_000)"), routingKey: pattern))
        }
        let keys = (0..<1_000).map { "stock.\($0).nyse" }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(router.route(routingKey: keys[i % keys.count], headers: nil)) }
        benchmark.stopMeasurement()
    }

    Benchmark("Topic.route #.#.#.#.a on 64 words", configuration: routeConfiguration) { benchmark in
        var router = TopicRouter()
        _ = router.bind(Binding(destination: .queue("q"), routingKey: "#.#.#.#.a"))
        let key = Array(repeating: "b", count: 64).joined(separator: ".")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(router.route(routingKey: key, headers: nil)) }
        benchmark.stopMeasurement()
    }

    Benchmark("Headers.route 10k bindings", configuration: routeConfiguration) { benchmark in
        var router = HeadersRouter()
        for i in 0..<10_000 {
            let mode: FieldValue = i.isMultiple(of: 2) ? "all" : "any"
            _ = router.bind(Binding(destination: .queue("q\(i)"), routingKey: "",
                                    arguments: ["x-match": mode, "format": "pdf", "id": .int32(Int32(i))]))
        }
        let headers: FieldTable = ["format": "pdf", "id": .int64(7), "type": "report"]
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(router.route(routingKey: "", headers: headers)) }
        benchmark.stopMeasurement()
    }

    Benchmark("AnyRouter.bind 10k topic", configuration: .init(metrics: metrics)) { benchmark in
        for _ in benchmark.scaledIterations {
            var router = AnyRouter(.topic)
            for i in 0..<10_000 { _ = router.bind(Binding(destination: .queue("q\(i)"), routingKey: "a.\(i).#")) }
            blackHole(router)
        }
    }
}
