import Foundation

/// Perplexity = exp(mean NLL in nats over every target token, `<eos>` included), per
/// direction, and for a biLM the mean of the directions' perplexities (bilm-tf's
/// convention). Never 2^loss: the loss is in nats.
public struct Perplexity: Sendable, Equatable {
    /// One value per direction, in the model's order.
    public let directions: [Double]

    public init(_ losses: [DirectionLoss]) {
        directions = losses.map { Foundation.exp($0.nll / Double(max($0.tokens, 1))) }
    }

    /// The mean of the directions' perplexities.
    public var mean: Double { directions.reduce(0, +) / Double(max(directions.count, 1)) }

    /// The definition every table and record states with its perplexities.
    public static let definition = "exp(mean NLL in nats per target token, <eos> included), exact (never a sampled estimate); mean = mean of the directions"
}
