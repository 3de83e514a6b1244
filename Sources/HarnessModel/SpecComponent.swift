/// What every kind of component has in common: the `type:` name a spec gives it. The
/// registry checks that a component a package registers reports the name it is
/// registered under (`Registries.register`), so that a run's resolved spec, its reports
/// and its component agree.
public protocol SpecComponent: Sendable {
    /// The `type:` name in specs.
    var type: String { get }
}
