// Concatenation along the first axis (batch stacking).

extension Tensor {
    /// Concatenates tensors of equal trailing shape along the first axis: n × (a, b…) -> (Σa, b…).
    public init(stacking parts: [Tensor]) {
        precondition(!parts.isEmpty, "nothing to stack")
        let first = parts[0].shape
        var shape = first
        shape[0] = parts.reduce(0) { $0 + $1.shape[0] }
        self.init(zeros: shape)
        let p = mutablePointer()
        var offset = 0
        for t in parts {
            precondition(Array(t.shape.dropFirst()) == Array(first.dropFirst()), "stacking \(t.shape) with \(first)")
            t.withUnsafeBufferPointer { src in
                if let base = src.baseAddress { (p + offset).update(from: base, count: t.count) }
            }
            offset += t.count
        }
    }
}
