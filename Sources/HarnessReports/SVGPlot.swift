import Foundation

/// A small line/scatter chart as inline SVG, for self-contained HTML reports.
struct SVGPlot {
    /// One legend entry: a colour, and one line per replicate run.
    struct Series {
        var label: String
        var lines: [[(x: Double, y: Double)]]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// Log scale on y (perplexities span orders of magnitude early in training).
    var logY = true
    var markersOnly = false

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    func render(width: Double = 640, plotHeight: Double = 300) -> String {
        let left = 64.0, right = 16.0, top = 28.0, axisSpace = 44.0
        let height = top + plotHeight + axisSpace + 16 * Double(series.count)
        let valid: ((x: Double, y: Double)) -> Bool = { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
        let all = series.flatMap { $0.lines.flatMap { $0 } }.filter(valid)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        svg += "<text x=\"\(Int(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>"
        guard let minX = all.map(\.x).min(), let maxX = all.map(\.x).max(),
              let minY = all.map(\.y).min(), let maxY = all.map(\.y).max() else {
            return svg + "<text x=\"\(Int(width / 2))\" y=\"\(Int(top + plotHeight / 2))\" text-anchor=\"middle\">no data yet</text></svg>"
        }
        let ty: (Double) -> Double = logY ? { Foundation.log10($0) } : { $0 }
        // 5 % margins so that markers on the extremes stay inside the frame.
        func padded(_ a: Double, _ b: Double) -> (Double, Double) {
            let span = b > a ? b - a : max(abs(a), 1) * 0.1
            return (a - 0.05 * span, b + 0.05 * span)
        }
        let (x0, x1) = padded(minX, maxX)
        let (y0, y1) = padded(ty(minY), ty(maxY))
        let plotWidth = width - left - right
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (ty(y) - y0) / (y1 - y0) * plotHeight }
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
        svg += "<text x=\"14\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + plotHeight / 2)))\">\(escape(yLabel))</text>"
        for (i, s) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            for line in s.lines {
                let points = line.filter(valid).sorted { $0.x < $1.x }
                if !markersOnly && points.count > 1 {
                    let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                    svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
                }
                for p in points {
                    svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(color)\"><title>\(escape(s.label)): \(Self.short(p.y))</title></circle>"
                }
            }
            let legendY = top + plotHeight + axisSpace + 16 * Double(i)
            svg += "<rect x=\"\(f(left))\" y=\"\(f(legendY - 4))\" width=\"12\" height=\"3\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(f(left + 18))\" y=\"\(f(legendY))\">\(escape(s.label))</text>"
        }
        return svg + "</svg>"
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
