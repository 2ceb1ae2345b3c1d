/// The memory behind a `JSONDocument`: the node tape and the parser's scratch space.
///
/// It outlives each parse so that parsing line after line allocates nothing once the buffers
/// have grown to the largest document seen. `JSONDocument` copies on write: it mutates a tape
/// only while holding the sole reference, which is what makes the unchecked `Sendable` sound.
final class JSONTape: @unchecked Sendable {
  /// The deepest nesting `parse` accepts: deeper documents are hostile or broken, and the
  /// bound lets the writer recurse without a stack-depth worry.
  static let maximumDepth = 64

  private(set) var nodes: UnsafeMutablePointer<JSONNode>
  private(set) var nodeCapacity: Int
  /// Nodes of the last successful parse; 0 after a failed one.
  var count = 0

  /// Key node indices of the objects still open, innermost last: the duplicate-key check's
  /// working set.
  private(set) var keys: UnsafeMutablePointer<UInt32>
  private(set) var keyCapacity: Int

  /// Per open container (outermost first): its node index, and where its keys start in `keys`.
  let containers: UnsafeMutablePointer<UInt32>
  let keyBases: UnsafeMutablePointer<UInt32>

  /// Scratch for the duplicate-key check of large objects: (hash of the decoded key, key node).
  var keyHashes: [(hash: UInt64, key: UInt32)] = []

  init(nodeCapacity: Int = 64, keyCapacity: Int = 32) {
    self.nodeCapacity = max(nodeCapacity, 16)
    self.keyCapacity = max(keyCapacity, 16)
    nodes = .allocate(capacity: self.nodeCapacity)
    keys = .allocate(capacity: self.keyCapacity)
    containers = .allocate(capacity: Self.maximumDepth)
    keyBases = .allocate(capacity: Self.maximumDepth)
  }

  deinit {
    nodes.deallocate()
    keys.deallocate()
    containers.deallocate()
    keyBases.deallocate()
  }

  /// Doubles the node capacity, keeping the first `used` nodes.
  func growNodes(keeping used: Int) {
    let capacity = nodeCapacity * 2
    let grown = UnsafeMutablePointer<JSONNode>.allocate(capacity: capacity)
    grown.moveInitialize(from: nodes, count: used)
    nodes.deallocate()
    nodes = grown
    nodeCapacity = capacity
  }

  /// Doubles the key capacity, keeping the first `used` entries.
  func growKeys(keeping used: Int) {
    let capacity = keyCapacity * 2
    let grown = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
    grown.moveInitialize(from: keys, count: used)
    keys.deallocate()
    keys = grown
    keyCapacity = capacity
  }
}
