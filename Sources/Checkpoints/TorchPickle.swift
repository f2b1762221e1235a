// A restricted unpickler for the data.pkl of torch.save files. It is a small stack machine that knows
// the opcodes a state dict uses and an allow-list of globals (OrderedDict, the tensor/parameter
// rebuild functions and the typed storage classes); it never imports or calls anything. Anything
// else is a `CheckpointError` naming the opcode or global and its byte offset.

import Foundation

/// Globals a state-dict pickle may name. Calls to them are interpreted, never executed.
enum TorchGlobal: Equatable {
    case orderedDict, rebuildTensorV2, rebuildTensor, rebuildParameter, rebuildParameterWithState
    case storageType(StoredDType)

    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch", "FloatStorage"): self = .storageType(.float32)
        case ("torch", "HalfStorage"): self = .storageType(.float16)
        case ("torch", "BFloat16Storage"): self = .storageType(.bfloat16)
        case ("torch", "DoubleStorage"): self = .storageType(.float64)
        case ("torch", "LongStorage"): self = .storageType(.int64)
        case ("torch", "IntStorage"): self = .storageType(.int32)
        case ("torch", "ShortStorage"): self = .storageType(.int16)
        case ("torch", "CharStorage"): self = .storageType(.int8)
        case ("torch", "ByteStorage"): self = .storageType(.uint8)
        case ("torch", "BoolStorage"): self = .storageType(.bool)
        default: return nil
        }
    }
}

/// A storage resolved from a persistent id: where its bytes are and how many elements it holds.
struct TorchStorage {
    let dtype: StoredDType
    let byteOffset: Int
    let count: Int
}

/// A list or tuple under construction (a reference, since the memo shares it).
final class PickleSequence {
    var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
}

/// A dict under construction; keys keep insertion order.
final class PickleDict {
    var keys: [String] = []
    var values: [String: PickleValue] = [:]
}

/// A value on the pickle machine's stack. Containers are references owned by the machine's arena.
enum PickleValue {
    case none, bool(Bool), int(Int), float(Double), string(String), bytes(Int)
    case tuple(PickleSequence), list(PickleSequence), dict(PickleDict)
    case global(TorchGlobal)
    case storage(TorchStorage)
    case tensor(StoredTensor)
}

/// Runs a data.pkl and converts its result into a `CheckpointValue`.
struct TorchUnpickler {
    /// Deepest nesting of containers accepted (a state dict needs 2 or 3).
    static let maxDepth = 64

    let data: UnsafeRawBufferPointer
    let path: String
    /// Resolves a persistent id ('storage', type, key, location, numel).
    let loadStorage: (_ dtype: StoredDType, _ key: String, _ count: Int) throws(CheckpointError) -> TorchStorage
    /// Builds a validated tensor over a storage.
    let makeTensor:
        (_ storage: TorchStorage, _ offset: Int, _ shape: [Int], _ strides: [Int], _ label: String)
            throws(CheckpointError) -> StoredTensor

    func run() throws(CheckpointError) -> CheckpointValue {
        var arena: [AnyObject] = []
        // Break every container link before the arena goes, so freeing never recurses deeply.
        defer {
            for box in arena {
                if let s = box as? PickleSequence { s.items.removeAll() }
                if let d = box as? PickleDict { d.values.removeAll() }
            }
        }
        let result = try execute(&arena)
        return try convert(result, depth: 0)
    }

    private func execute(_ arena: inout [AnyObject]) throws(CheckpointError) -> PickleValue {
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        var pc = 0
        var opOffset = 0
        let n = data.count

        func fail(_ reason: String) -> CheckpointError { .badPickle(path: path, offset: opOffset, reason: reason) }
        func read(_ count: Int) throws(CheckpointError) -> UnsafeRawBufferPointer {
            guard count >= 0, count <= n - pc else { throw fail("truncated pickle (needs \(count) more bytes)") }
            defer { pc += count }
            return UnsafeRawBufferPointer(rebasing: data[pc..<pc + count])
        }
        func uint(_ width: Int) throws(CheckpointError) -> Int {
            let b = try read(width)
            var v: UInt64 = 0
            for i in 0..<width { v |= UInt64(b[i]) << (8 * UInt64(i)) }
            guard v <= UInt64(Int.max) else { throw fail("length out of range") }
            return Int(v)
        }
        func line() throws(CheckpointError) -> String {
            var end = pc
            while end < n, data[end] != 0x0A { end += 1 }
            guard end < n, end - pc <= 256 else { throw fail("unterminated GLOBAL name") }
            let s = String(decoding: UnsafeRawBufferPointer(rebasing: data[pc..<end]), as: UTF8.self)
            pc = end + 1
            return s
        }
        func pop() throws(CheckpointError) -> PickleValue {
            guard stack.count > (marks.last ?? 0), let v = stack.popLast() else { throw fail("stack underflow") }
            return v
        }
        func top() throws(CheckpointError) -> PickleValue {
            guard stack.count > (marks.last ?? 0), let v = stack.last else { throw fail("stack underflow") }
            return v
        }
        func popMark() throws(CheckpointError) -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK for this opcode") }
            let items = Array(stack[m...])
            stack.removeSubrange(m...)
            return items
        }
        func sequence(_ items: [PickleValue], list: Bool) -> PickleValue {
            let box = PickleSequence(items)
            arena.append(box)
            return list ? .list(box) : .tuple(box)
        }
        func newDict() -> PickleDict {
            let d = PickleDict()
            arena.append(d)
            return d
        }
        func key(_ v: PickleValue) throws(CheckpointError) -> String {
            switch v {
            case .string(let s): return s
            case .int(let i): return String(i)
            default: throw fail("dict key is not a string or int")
            }
        }
        func setItems(_ pairs: [PickleValue]) throws(CheckpointError) {
            guard pairs.count % 2 == 0 else { throw fail("odd number of items for SETITEMS") }
            guard case .dict(let d)? = stack.last else { throw fail("SETITEM(S) on something that is not a dict") }
            var i = 0
            while i < pairs.count {
                let k = try key(pairs[i])
                if d.values.updateValue(pairs[i + 1], forKey: k) == nil { d.keys.append(k) }
                i += 2
            }
        }
        func global(_ module: String, _ name: String) throws(CheckpointError) -> PickleValue {
            guard let g = TorchGlobal(module: module, name: name) else {
                throw .forbiddenGlobal(path: path, offset: opOffset, global: "\(module).\(name)")
            }
            return .global(g)
        }
        func string(_ b: UnsafeRawBufferPointer) throws(CheckpointError) -> String {
            guard let s = String(validating: b, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
            return s
        }

        while true {
            opOffset = pc
            guard pc < n else { throw fail("pickle ends without STOP (truncated?)") }
            let op = data[pc]
            pc += 1
            switch op {
            case 0x80: _ = try read(1)  // PROTO
            case 0x95: _ = try read(8)  // FRAME
            case 0x2E:  // STOP
                guard stack.count == 1, marks.isEmpty else {
                    throw fail("STOP with \(stack.count) values on the stack")
                }
                return try pop()
            case 0x28:  // MARK
                guard marks.count < 10_000 else { throw fail("too many nested MARKs") }
                marks.append(stack.count)
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: stack.append(try top())  // DUP
            case 0x4E: stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x4B: stack.append(.int(try uint(1)))  // BININT1
            case 0x4D: stack.append(.int(try uint(2)))  // BININT2
            case 0x8A:  // LONG1
                let len = try uint(1)
                guard len <= 8 else { throw fail("integer of \(len) bytes is out of range") }
                let b = try read(len)
                var v: UInt64 = 0
                for i in 0..<len { v |= UInt64(b[i]) << (8 * UInt64(i)) }
                if len > 0, len < 8, b[len - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(len)) }  // sign-extend
                stack.append(.int(Int(Int64(bitPattern: v))))
            case 0x47:  // BINFLOAT (big-endian)
                let b = try read(8)
                var v: UInt64 = 0
                for i in 0..<8 { v = v << 8 | UInt64(b[i]) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x58: stack.append(.string(try string(try read(try uint(4)))))  // BINUNICODE
            case 0x8C: stack.append(.string(try string(try read(try uint(1)))))  // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try string(try read(try uint(8)))))  // BINUNICODE8
            case 0x54, 0x55:  // BINSTRING, SHORT_BINSTRING (Python 2 str, latin-1)
                let b = try read(try uint(op == 0x54 ? 4 : 1))
                stack.append(.string(String(b.map { Character(Unicode.Scalar($0)) })))
            case 0x42: stack.append(.bytes(try read(try uint(4)).count))  // BINBYTES
            case 0x43: stack.append(.bytes(try read(try uint(1)).count))  // SHORT_BINBYTES
            case 0x29: stack.append(sequence([], list: false))  // EMPTY_TUPLE
            case 0x74: stack.append(sequence(try popMark(), list: false))  // TUPLE
            case 0x85, 0x86, 0x87:  // TUPLE1..3
                let k = Int(op) - 0x84
                var items: [PickleValue] = []
                for _ in 0..<k { items.insert(try pop(), at: 0) }
                stack.append(sequence(items, list: false))
            case 0x5D: stack.append(sequence([], list: true))  // EMPTY_LIST
            case 0x6C: stack.append(sequence(try popMark(), list: true))  // LIST
            case 0x61:  // APPEND
                let v = try pop()
                guard case .list(let l)? = stack.last else { throw fail("APPEND to something that is not a list") }
                l.items.append(v)
            case 0x65:  // APPENDS
                let items = try popMark()
                guard case .list(let l)? = stack.last else { throw fail("APPENDS to something that is not a list") }
                l.items.append(contentsOf: items)
            case 0x7D: stack.append(.dict(newDict()))  // EMPTY_DICT
            case 0x64:  // DICT
                let items = try popMark()
                stack.append(.dict(newDict()))
                try setItems(items)
            case 0x73:  // SETITEM
                let v = try pop()
                let k = try pop()
                try setItems([k, v])
            case 0x75:  // SETITEMS
                let items = try popMark()
                try setItems(items)
            case 0x71: memo[try uint(1)] = try top()  // BINPUT
            case 0x72: memo[try uint(4)] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case 0x68, 0x6A:  // BINGET, LONG_BINGET
                let i = try uint(op == 0x68 ? 1 : 4)
                guard let v = memo[i] else { throw fail("memo entry \(i) is not defined") }
                stack.append(v)
            case 0x63: stack.append(try global(try line(), try line()))  // GLOBAL
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let m) = module, case .string(let nm) = name else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                stack.append(try global(m, nm))
            case 0x51:  // BINPERSID
                stack.append(try persistentLoad(try pop(), fail: fail))
            case 0x52:  // REDUCE
                let args = try pop()
                let callable = try pop()
                guard case .global(let g) = callable else {
                    throw fail("REDUCE on something that is not an allowed global")
                }
                guard case .tuple(let t) = args else { throw fail("REDUCE arguments are not a tuple") }
                stack.append(try call(g, t.items, offset: opOffset, fail: fail, newDict: newDict))
            case 0x62:  // BUILD: set state on the object below; state (e.g. OrderedDict._metadata) is ignored.
                _ = try pop()
                switch stack.last {
                case .dict?, .tensor?: break
                default: throw fail("BUILD on an object that is not a dict or tensor")
                }
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02X", op))
            }
        }
    }

    /// ('storage', <storage type>, key, location, numel) -> a storage in the zip.
    private func persistentLoad(_ pid: PickleValue, fail: (String) -> CheckpointError) throws(CheckpointError)
        -> PickleValue
    {
        guard case .tuple(let t) = pid, t.items.count == 5, case .string("storage") = t.items[0] else {
            throw fail("persistent id is not ('storage', type, key, location, numel)")
        }
        guard case .global(.storageType(let dtype)) = t.items[1] else {
            throw fail("persistent id names no storage type")
        }
        guard case .string(let key) = t.items[2], case .string = t.items[3], case .int(let count) = t.items[4] else {
            throw fail("malformed storage persistent id")
        }
        return .storage(try loadStorage(dtype, key, count))
    }

    /// Interprets a call to an allow-listed global.
    private func call(
        _ g: TorchGlobal, _ args: [PickleValue], offset: Int, fail: (String) -> CheckpointError,
        newDict: () -> PickleDict
    ) throws(CheckpointError) -> PickleValue {
        func ints(_ v: PickleValue, _ what: String) throws(CheckpointError) -> [Int] {
            guard case .tuple(let t) = v else { throw fail("tensor \(what) is not a tuple") }
            var out: [Int] = []
            for item in t.items {
                guard case .int(let i) = item else { throw fail("tensor \(what) holds a non-integer") }
                out.append(i)
            }
            return out
        }
        switch g {
        case .orderedDict:
            guard args.isEmpty else { throw fail("OrderedDict called with arguments") }
            return .dict(newDict())
        case .rebuildTensorV2, .rebuildTensor:
            guard args.count >= 4, args.count <= 7 else {
                throw fail("_rebuild_tensor called with \(args.count) arguments")
            }
            guard case .storage(let storage) = args[0] else { throw fail("_rebuild_tensor without a storage") }
            guard case .int(let storageOffset) = args[1] else { throw fail("tensor storage offset is not an integer") }
            let shape = try ints(args[2], "size")
            let strides = try ints(args[3], "stride")
            return .tensor(
                try makeTensor(storage, storageOffset, shape, strides, "<tensor at data.pkl offset \(offset)>"))
        case .rebuildParameter, .rebuildParameterWithState:
            guard let first = args.first, case .tensor = first else {
                throw fail("_rebuild_parameter without a tensor")
            }
            return first
        case .storageType:
            throw fail("a storage class may only appear in a persistent id")
        }
    }

    /// Converts the machine's result into public values (depth-limited, so cycles are errors).
    private func convert(_ v: PickleValue, depth: Int) throws(CheckpointError) -> CheckpointValue {
        guard depth <= Self.maxDepth else {
            throw .badPickle(
                path: path, offset: 0, reason: "containers nested deeper than \(Self.maxDepth) (or a cycle)")
        }
        switch v {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .string(let s): return .string(s)
        case .bytes(let n): return .bytes(count: n)
        case .tuple(let s), .list(let s):
            var items: [CheckpointValue] = []
            for item in s.items { items.append(try convert(item, depth: depth + 1)) }
            return .list(items)
        case .dict(let d):
            var values: [String: CheckpointValue] = [:]
            for k in d.keys {
                guard let item = d.values[k] else { continue }
                var c = try convert(item, depth: depth + 1)
                if case .tensor(let t) = c { c = .tensor(t.renamed(k)) }
                values[k] = c
            }
            return .dict(CheckpointDict(keys: d.keys, values: values))
        case .tensor(let t): return .tensor(t)
        case .global, .storage:
            throw .badPickle(path: path, offset: 0, reason: "result holds a bare global or storage")
        }
    }
}
