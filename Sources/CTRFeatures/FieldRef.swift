/// A reference to one input field by kind and zero-based index within its kind.
public enum FieldRef: Sendable, Equatable, Hashable {
    /// Integer field `I(n+1)`, index `n` in 0..<13.
    case dense(Int)
    /// Categorical field `C(n+1)`, index `n` in 0..<26.
    case categorical(Int)
}
