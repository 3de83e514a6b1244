import Foundation

/// A small chart as inline SVG, for self-contained HTML reports: per group of seeds, the
/// seeds as faint lines, their mean as a line and their min–max as a band (`markersOnly`:
/// the mean as a marker with min–max error bars in x and y).
struct SVGPlot {
    /// One legend entry: a colour, and one curve per seed (replicate run).
    struct Series {
        var label: String
        var lines: [[(x: Double, y: Double)]]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// Log scale on y (perplexities span orders of magnitude early in training); the
    /// y label then says so.
    var logY = true
    var markersOnly = false
    /// Groups the caller left out before plotting (not in `series`), each "label (why)";
    /// listed under the legend with those left out here for having no finite point.
    var omitted: [String] = []

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    private func isDrawable(_ p: (x: Double, y: Double)) -> Bool { p.x.isFinite && p.y.isFinite && (!logY || p.y > 0) }

    /// Mean, min and max over the seeds at each x where every seed has a value: the seeds'
    /// own points, each seed linearly interpolated between its measurements.
    static func envelope(_ lines: [[(x: Double, y: Double)]]) -> [(x: Double, mean: Double, low: Double, high: Double)] {
        let lines = lines.filter { !$0.isEmpty }
        guard let from = lines.map({ $0.first!.x }).max(), let to = lines.map({ $0.last!.x }).min(), from <= to else { return [] }
        func value(_ line: [(x: Double, y: Double)], at x: Double) -> Double {
            guard let after = line.firstIndex(where: { $0.x >= x }) else { return line.last!.y }
            if after == 0 || line[after].x == x { return line[after].y }
            let (a, b) = (line[after - 1], line[after])
            return a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x)
        }
        let xs = Set(lines.flatMap { $0.map(\.x) }.filter { $0 >= from && $0 <= to }).sorted()
        return xs.map { x in
            let ys = lines.map { value($0, at: x) }
            return (x, ys.reduce(0, +) / Double(ys.count), ys.min()!, ys.max()!)
        }
    }

    func render(width: Double = 640, plotHeight: Double = 300) -> String {
        let left = 64.0, right = 16.0, top = 28.0, axisSpace = 44.0
        // Each seed's drawable points in x order; groups with none are left out of the legend.
        let drawn = series.map { s in (s.label, s.lines.map { $0.filter(isDrawable).sorted { $0.x < $1.x } }.filter { !$0.isEmpty }) }
            .filter { !$0.1.isEmpty }
        let notes = omitted + series.filter { s in !drawn.contains { $0.0 == s.label } }.map { "\($0.label) (no finite value)" }
        let legendRows = Double(drawn.count) + (notes.isEmpty ? 0 : 1)
        let height = top + plotHeight + axisSpace + 16 * legendRows + 8
        let all = drawn.flatMap { $0.1.flatMap { $0 } }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        svg += "<text x=\"\(Int(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>"
        guard let minX = all.map(\.x).min(), let maxX = all.map(\.x).max(),
              let minY = all.map(\.y).min(), let maxY = all.map(\.y).max() else {
            svg += "<text x=\"\(Int(width / 2))\" y=\"\(Int(top + plotHeight / 2))\" text-anchor=\"middle\">no data yet</text>"
            if !notes.isEmpty {
                svg += "<text x=\"\(f(left))\" y=\"\(f(top + plotHeight + axisSpace))\" fill=\"#666\">left out: \(escape(notes.joined(separator: "; ")))</text>"
            }
            return svg + "</svg>"
        }
        let ty: (Double) -> Double = logY ? { Foundation.log10($0) } : { $0 }
        let (x0, x1) = Self.range(minX, maxX, log: false)
        let (y0, y1) = Self.range(ty(minY), ty(maxY), log: logY)
        let plotWidth = width - left - right
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (ty(y) - y0) / (y1 - y0) * plotHeight }
        func points(_ line: [(x: Double, y: Double)]) -> String { line.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ") }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#999\"/>"
        for tick in Self.ticks(x0, x1) {
            svg += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(px(tick)))\" y2=\"\(f(top + plotHeight + 4))\" stroke=\"#999\"/>"
            svg += "<text x=\"\(f(px(tick)))\" y=\"\(f(top + plotHeight + 16))\" text-anchor=\"middle\">\(Self.short(tick))</text>"
        }
        // Round values of y, placed on the (log) axis.
        let yLow = logY ? Foundation.pow(10, y0) : y0, yHigh = logY ? Foundation.pow(10, y1) : y1
        for tick in Self.ticks(yLow, yHigh) where tick > 0 || !logY {
            svg += "<line x1=\"\(f(left - 4))\" y1=\"\(f(py(tick)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(tick)))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(Self.short(tick))</text>"
        }
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight + 34))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        let yTitle = yLabel + (logY ? " (log scale)" : "")
        svg += "<text x=\"14\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + plotHeight / 2)))\">\(escape(yTitle))</text>"
        for (i, (label, lines)) in drawn.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            if markersOnly {
                // The mean over seeds, with min–max bars in both directions.
                let xs = lines.flatMap { $0.map(\.x) }, ys = lines.flatMap { $0.map(\.y) }
                let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
                svg += "<line x1=\"\(f(px(mx)))\" y1=\"\(f(py(ys.min()!)))\" x2=\"\(f(px(mx)))\" y2=\"\(f(py(ys.max()!)))\" stroke=\"\(color)\"/>"
                svg += "<line x1=\"\(f(px(xs.min()!)))\" y1=\"\(f(py(my)))\" x2=\"\(f(px(xs.max()!)))\" y2=\"\(f(py(my)))\" stroke=\"\(color)\"/>"
                svg += "<circle cx=\"\(f(px(mx)))\" cy=\"\(f(py(my)))\" r=\"3.5\" fill=\"\(color)\"><title>\(escape(label)): \(Self.short(my)) "
                    + "(\(ys.count) seed\(ys.count == 1 ? "" : "s"), \(Self.short(ys.min()!))–\(Self.short(ys.max()!)))</title></circle>"
            } else {
                for line in lines where lines.count > 1 {   // the seeds, faint
                    svg += "<polyline points=\"\(points(line))\" fill=\"none\" stroke=\"\(color)\" stroke-opacity=\"0.3\" stroke-width=\"1\"/>"
                }
                let envelope = Self.envelope(lines)
                if lines.count > 1 && envelope.count > 1 {
                    let band = envelope.map { ($0.x, $0.high) } + envelope.reversed().map { ($0.x, $0.low) }
                    svg += "<polygon points=\"\(points(band))\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"none\"/>"
                }
                let mean = envelope.map { (x: $0.x, y: $0.mean) }
                if mean.count > 1 {
                    svg += "<polyline points=\"\(points(mean))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
                }
                for p in mean {
                    svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.5\" fill=\"\(color)\"><title>\(escape(label)): \(Self.short(p.y))</title></circle>"
                }
            }
            let legendY = top + plotHeight + axisSpace + 16 * Double(i)
            let seeds = lines.count == 1 ? "1 seed" : "mean of \(lines.count) seeds, " + (markersOnly ? "bars" : "band") + " min–max"
            svg += "<rect x=\"\(f(left))\" y=\"\(f(legendY - 4))\" width=\"12\" height=\"3\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(f(left + 18))\" y=\"\(f(legendY))\">\(escape(label)) (\(seeds))</text>"
        }
        if !notes.isEmpty {
            let y = top + plotHeight + axisSpace + 16 * Double(drawn.count)
            svg += "<text x=\"\(f(left))\" y=\"\(f(y))\" fill=\"#666\">left out: \(escape(notes.joined(separator: "; ")))</text>"
        }
        return svg + "</svg>"
    }

    /// The axis range over [a, b] with 5 % margins; one value (a == b) gets ±50 % of it
    /// (±0.5 in log10 units, ±1 around zero) so that its ticks are round numbers, not a
    /// sliver of its last digits.
    static func range(_ a: Double, _ b: Double, log: Bool) -> (Double, Double) {
        guard b > a else {
            let half = log ? 0.5 : (a == 0 ? 1 : abs(a) / 2)
            return (a - half, a + half)
        }
        let span = b - a
        return (a - 0.05 * span, b + 0.05 * span)
    }

    private func f(_ x: Double) -> String { String(format: "%.1f", x) }

    /// About five round ticks over [a, b].
    static func ticks(_ a: Double, _ b: Double) -> [Double] {
        guard b > a else { return [a] }
        let raw = (b - a) / 5
        let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var t = Foundation.ceil(a / step) * step
        var result: [Double] = []
        while t <= b + step * 1e-9 { result.append(t); t += step }
        return result
    }

    static func short(_ x: Double) -> String {
        let a = abs(x)
        if a >= 1e15 { return String(format: "%.3gP", x / 1e15) }
        if a >= 1e12 { return String(format: "%.3gT", x / 1e12) }
        if a >= 1e9 { return String(format: "%.3gG", x / 1e9) }
        if a >= 1e6 { return String(format: "%.3gM", x / 1e6) }
        if a >= 1e4 { return String(format: "%.3gk", x / 1e3) }
        return String(format: "%.4g", x)
    }
}

/// Text and attribute escaping for XHTML.
func escape(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}
